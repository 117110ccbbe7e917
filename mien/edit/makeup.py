"""Make-up painted on the mesh's regions in CIELAB, keeping the skin's and lips' texture.

The colour's a and b (its hue and chroma) replace the region's by ``strength``; its
lightness moves the region's mean lightness, not each pixel's, so the lips' lines and
highlights stay. Masks have soft edges (Gaussian, scaled to the face); the lipstick mask
is the outer lip contour minus the inner one, so the mouth's interior (teeth) stays clear.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..landmarks.regions import CHEEK_LEFT, CHEEK_RIGHT, FACE_OVAL, LIPS_INNER, LIPS_OUTER, polygon_mask
from .colour import Colour
from .colour_match import from_lab, to_lab
from .face import FaceGeometry

LIP_SOFTNESS = 0.012  # edge blur, share of the face width
BLUSH_RADIUS = 0.13  # share of the face width


def _roi(points: np.ndarray, shape: tuple[int, int], margin: float) -> tuple[int, int, int, int]:
    x0, y0 = points.min(0) - margin
    x1, y1 = points.max(0) + margin
    h, w = shape[:2]
    return max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1)) + 1), min(h, int(np.ceil(y1)) + 1)


def paint(image: np.ndarray, mask: np.ndarray, colour: Colour, strength: float, box: tuple[int, int, int, int],
          lightness: float = 0.7) -> np.ndarray:
    """``colour`` painted into ``image`` through ``mask`` (float 0-1, box-sized) inside ``box``."""
    x0, y0, x1, y1 = box
    out = image.copy()
    if x1 <= x0 or y1 <= y0 or mask.max() <= 0:
        return out
    lab = to_lab(image[y0:y1, x0:x1])
    target = to_lab(np.array([[colour.rgb]], np.uint8))[0, 0]
    m = (mask * strength)[..., None]
    weight = mask > 0.5
    mean_l = float(lab[..., 0][weight].mean()) if weight.any() else float(lab[..., 0].mean())
    new = lab.copy()
    new[..., 0] = lab[..., 0] + m[..., 0] * lightness * (target[0] - mean_l)
    new[..., 1:] = lab[..., 1:] * (1 - m) + target[1:] * m
    out[y0:y1, x0:x1] = from_lab(new)
    return out


def lipstick(image: np.ndarray, face: FaceGeometry, colour: Colour, strength: float = 0.6) -> np.ndarray:
    """Lipstick on the lips of ``face``; the inside of the mouth is left clear."""
    xy = face.xy
    face_w = float(np.ptp(xy[list(FACE_OVAL), 0]))
    soft = max(0.6, LIP_SOFTNESS * face_w)
    box = _roi(xy[list(LIPS_OUTER)], image.shape, 3 * soft + 2)
    x0, y0, x1, y1 = box
    local = xy - [x0, y0]
    size = (y1 - y0, x1 - x0)
    mask = (polygon_mask(size, local, LIPS_OUTER).astype(np.float32) - polygon_mask(size, local, LIPS_INNER)) / 255.0
    mask = cv2.GaussianBlur(np.clip(mask, 0, 1), (0, 0), soft)
    return paint(image, mask, colour, strength, box)


def blush(image: np.ndarray, face: FaceGeometry, colour: Colour, strength: float = 0.35) -> np.ndarray:
    """Soft round blush on both cheekbones."""
    xy = face.xy
    face_w = float(np.ptp(xy[list(FACE_OVAL), 0]))
    r = BLUSH_RADIUS * face_w
    out = image
    for idx in (CHEEK_LEFT, CHEEK_RIGHT):
        c = xy[idx]
        box = _roi(np.array([c]), image.shape, 2 * r)
        x0, y0, x1, y1 = box
        yy, xx = np.mgrid[y0:y1, x0:x1]
        mask = np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2 * (0.6 * r) ** 2)).astype(np.float32)
        out = paint(out, mask, colour, strength, box, lightness=0.3)
    return out
