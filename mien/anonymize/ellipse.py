"""Elliptical mask: another method's output shown through a head-shaped ellipse.

The ellipse is inscribed in the head region and feathered at its rim, which hides less
background than a box; its default margins are wider than the box methods' so that the
fully opaque part still covers every corner of the face box (the corners are the first
thing a tight ellipse would leave clear).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .base import Margin, Method
from .blur import Blur

ELLIPSE_MARGIN = Margin(side=0.35, top=0.45, bottom=0.35)


class EllipseMask(Method):
    """Hide each head with ``inner`` (default ``Blur()``) inside an ellipse.

    ``feather``: the outer share of the ellipse's radius over which the mask fades out
    (0 gives a hard edge). Inside ``1 - feather`` of the radius the face is fully replaced.
    """

    name = "ellipse"

    def __init__(self, inner: Method | None = None, feather: float = 0.12, margin: Margin | None = None) -> None:
        super().__init__(margin or ELLIPSE_MARGIN)
        if not 0 <= feather < 1:
            raise InputError(f"ellipse feather must be in [0, 1), got {feather}")
        if isinstance(inner, EllipseMask):
            raise InputError("an ellipse mask cannot wrap another ellipse mask")
        self.inner = inner or Blur()
        self.feather = float(feather)

    def _hide(self, crop: np.ndarray, head_size: float) -> np.ndarray:
        return self.inner._hide(crop, head_size)

    def _alpha(self, box: np.ndarray, x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        ax, ay = max((box[2] - box[0]) / 2, 0.5), max((box[3] - box[1]) / 2, 0.5)
        xs = (np.arange(x1, x2, dtype=np.float32) + 0.5 - cx) / ax
        ys = (np.arange(y1, y2, dtype=np.float32) + 0.5 - cy) / ay
        radius = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
        if self.feather == 0:
            return (radius <= 1).astype(np.float32)
        return np.clip((1.0 - radius) / self.feather, 0.0, 1.0).astype(np.float32)

    def __repr__(self) -> str:
        return f"EllipseMask(inner={self.inner!r}, feather={self.feather}, margin={self.margin})"
