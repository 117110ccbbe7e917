"""Solid fill: the head region becomes one flat colour (the strongest method; nothing remains)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .base import Margin, Method


class Fill(Method):
    """Paint each head region with ``color`` (RGB, default black)."""

    name = "fill"

    def __init__(self, color: tuple[int, int, int] = (0, 0, 0), margin: Margin | None = None) -> None:
        super().__init__(margin)
        rgb = tuple(int(c) for c in color)
        if len(rgb) != 3 or not all(0 <= c <= 255 for c in rgb):
            raise InputError(f"fill colour must be three values in 0..255, got {color!r}")
        self.color = rgb

    def _hide(self, crop: np.ndarray, head_size: float) -> np.ndarray:
        return np.broadcast_to(np.asarray(self.color, np.uint8), crop.shape)
