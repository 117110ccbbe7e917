"""The anonymisation contract: a ``Method`` hides the head region of each face.

Every method works on the *head region*: the detector's face box grown by a margin on
each side and a little more upwards (hair, forehead), so a slightly small or offset box
still hides the whole face. Strength is defined relative to the head region's size, never
in absolute pixels, so a 20-pixel face is exactly as unreadable as a 400-pixel one.

A method implements ``_hide(crop) -> crop`` (the head region, obscured) and may override
``_alpha(height, width)`` (how much of the head box is replaced: 1 everywhere for a box,
an ellipse for ``EllipseMask``). ``apply`` returns a new image; the input is untouched.
``mask`` returns the per-pixel share that is replaced, for coverage accounting.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import cv2
import numpy as np

from ..detect.base import check_image
from ..errors import InputError
from ..types import Faces


@dataclass(frozen=True)
class Margin:
    """How far the head region extends beyond the face box, in units of the box's size.

    ``side`` is added left and right (times the box width), ``top`` above and ``bottom``
    below (times the box height).
    """

    side: float = 0.2
    top: float = 0.35
    bottom: float = 0.15

    def __post_init__(self) -> None:
        if min(self.side, self.top, self.bottom) < 0:
            raise InputError(f"margins must be >= 0, got {self}")


def head_boxes(boxes: np.ndarray, margin: Margin = Margin()) -> np.ndarray:
    """Face boxes (N, 4) xyxy grown into head regions (N, 4) float32, not clipped."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return np.stack(
        [
            boxes[:, 0] - margin.side * w,
            boxes[:, 1] - margin.top * h,
            boxes[:, 2] + margin.side * w,
            boxes[:, 3] + margin.bottom * h,
        ],
        axis=1,
    ).astype(np.float32)


def pixel_box(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int] | None:
    """A float box rounded outwards to whole pixels and clipped; None when empty."""
    x1 = max(0, int(np.floor(box[0])))
    y1 = max(0, int(np.floor(box[1])))
    x2 = min(width, int(np.ceil(box[2])))
    y2 = min(height, int(np.ceil(box[3])))
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2, y2


class Method(ABC):
    """Base class of the anonymisation methods (blur, pixelate, fill, ellipse)."""

    name: str = ""

    def __init__(self, margin: Margin | None = None) -> None:
        self.margin = margin or Margin()

    @abstractmethod
    def _hide(self, crop: np.ndarray, head_size: float) -> np.ndarray:
        """``crop`` (h, w, 3) uint8 of a head region whose longer side is ``head_size``
        pixels (the crop is smaller where the head leaves the frame), obscured; same shape."""

    def _alpha(self, box: np.ndarray, x1: int, y1: int, x2: int, y2: int) -> np.ndarray | None:
        """Share (0..1) of each pixel of the clipped head box that is replaced; None means all."""
        return None

    def regions(self, faces: Faces) -> np.ndarray:
        """Head regions (N, 4) of ``faces``, xyxy, not clipped to the image."""
        return head_boxes(faces.boxes, self.margin)

    def apply(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        """A copy of ``image`` with the head region of every face in ``faces`` hidden."""
        check_image(image)
        out = image.copy()
        height, width = image.shape[:2]
        for box in self.regions(faces):
            px = pixel_box(box, width, height)
            if px is None:
                continue
            x1, y1, x2, y2 = px
            # Hide the full (unclipped) region's content as far as it is visible, so strength
            # depends on the head's size, not on how much of it is inside the frame.
            crop = out[y1:y2, x1:x2]
            hidden = self._hide(crop, head_size(box))
            alpha = self._alpha(box, x1, y1, x2, y2)
            if alpha is None:
                out[y1:y2, x1:x2] = hidden
            else:
                a = alpha[:, :, None]
                out[y1:y2, x1:x2] = (hidden * a + crop * (1.0 - a) + 0.5).astype(np.uint8)
        return out

    def mask(self, faces: Faces, height: int, width: int) -> np.ndarray:
        """(H, W) float32: the share of each pixel that ``apply`` replaces (max over faces)."""
        out = np.zeros((height, width), np.float32)
        for box in self.regions(faces):
            px = pixel_box(box, width, height)
            if px is None:
                continue
            x1, y1, x2, y2 = px
            alpha = self._alpha(box, x1, y1, x2, y2)
            region = out[y1:y2, x1:x2]
            np.maximum(region, 1.0 if alpha is None else alpha, out=region)
        return out

    def __call__(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        return self.apply(image, faces)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(margin={self.margin})"


def head_size(box: np.ndarray) -> float:
    """The longer side of a head region, in pixels (at least 1)."""
    return float(max(box[2] - box[0], box[3] - box[1], 1.0))


def cells(length: int, head_size: float, per_head: int) -> int:
    """How many cells of a ``per_head``-cell grid over the head fall across ``length`` pixels."""
    return max(1, int(round(length * per_head / max(head_size, 1.0))))


def downsample(crop: np.ndarray, head_size: float, per_head: int) -> np.ndarray:
    """``crop`` averaged down to ``per_head`` cells across the head's longer side."""
    h, w = crop.shape[:2]
    return cv2.resize(crop, (cells(w, head_size, per_head), cells(h, head_size, per_head)), interpolation=cv2.INTER_AREA)
