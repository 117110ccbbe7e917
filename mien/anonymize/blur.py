"""Gaussian blur sized to the head: the region is averaged down to a coarse grid, blurred
there and scaled back up, so the result keeps no detail finer than ``1/cells`` of the head
(whatever the face's size) and, unlike a plain blur, cannot be deconvolved: the detail is
gone, not just attenuated."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import InputError
from .base import Margin, Method, downsample


class Blur(Method):
    """Blur each head region down to about ``cells`` samples across the head.

    ``cells``: grid size across the head's longer side (lower is stronger; 10 leaves a
    soft colour blob with no recognisable features). ``sigma``: Gaussian width in grid cells.
    """

    name = "blur"

    def __init__(self, cells: int = 10, sigma: float = 1.0, margin: Margin | None = None) -> None:
        super().__init__(margin)
        if cells < 1 or sigma < 0:
            raise InputError(f"blur needs cells >= 1 and sigma >= 0, got cells={cells}, sigma={sigma}")
        self.cells = int(cells)
        self.sigma = float(sigma)

    def _hide(self, crop: np.ndarray, head_size: float) -> np.ndarray:
        small = downsample(crop, head_size, self.cells)
        if self.sigma > 0:
            small = cv2.GaussianBlur(small, (0, 0), self.sigma, borderType=cv2.BORDER_REPLICATE)
        h, w = crop.shape[:2]
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
