"""Dense landmarks: the result type and the crop geometry the landmark models share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import cv2
import numpy as np

from ..errors import ShapeError


@dataclass(frozen=True, eq=False)
class Landmarks:
    """Dense landmarks for N faces, in image pixels.

    ``points`` is (N, K, 3) for the 468-point mesh (x, y and a relative depth z in the
    same pixel scale, smaller z nearer the camera) or (N, 68, 2) for dlib's 68 points.
    ``scores`` is the model's face-presence probability per face (1.0 where the model
    has none); ``model`` is the registry name; ``extras`` holds e.g. ``"iris"`` (N, 10, 3):
    five points per eye (centre first), the eye on the image's left first.
    """

    points: np.ndarray
    scores: np.ndarray
    model: str
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pts = np.asarray(self.points, np.float32)
        if pts.ndim != 3 or pts.shape[2] not in (2, 3):
            raise ShapeError("points", "(N, K, 2 or 3)", tuple(pts.shape))
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "scores", np.asarray(self.scores, np.float32).reshape(len(pts)))

    def __len__(self) -> int:
        return len(self.points)

    @property
    def xy(self) -> np.ndarray:
        return self.points[..., :2]


def roi_matrix(center: np.ndarray, side: float, angle: float, size: int) -> np.ndarray:
    """2x3 affine mapping image pixels into a ``size`` x ``size`` crop of a square ROI.

    The ROI is centred on ``center``, ``side`` pixels wide, rotated by ``angle``
    radians (the crop's x axis points along ``(cos a, sin a)`` in the image).
    """
    scale = size / side
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    # crop = S R^T (p - center) + size/2
    m = np.array([[c, s, 0.0], [-s, c, 0.0]])
    m[:, 2] = size / 2 - m[:, :2] @ center
    return m


def invert_affine(m: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(m)


def warp(image: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def to_image(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Crop-space (K, 3) points (x, y, z in crop pixels) mapped back to image pixels."""
    inv = invert_affine(m)
    out = points.astype(np.float64).copy()
    out[:, :2] = points[:, :2] @ inv[:, :2].T + inv[:, 2]
    out[:, 2] = points[:, 2] * float(np.sqrt(abs(np.linalg.det(inv[:, :2]))))
    return out
