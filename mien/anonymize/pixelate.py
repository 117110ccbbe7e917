"""Pixelation sized to the head: a fixed number of blocks across the head, whatever its size."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import InputError
from .base import Margin, Method, downsample


class Pixelate(Method):
    """Replace each head region by ``blocks`` x ``blocks`` flat blocks (over its longer side)."""

    name = "pixelate"

    def __init__(self, blocks: int = 8, margin: Margin | None = None) -> None:
        super().__init__(margin)
        if blocks < 1:
            raise InputError(f"pixelate needs blocks >= 1, got {blocks}")
        self.blocks = int(blocks)

    def _hide(self, crop: np.ndarray, head_size: float) -> np.ndarray:
        small = downsample(crop, head_size, self.blocks)
        h, w = crop.shape[:2]
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
