"""Make-up painted on the mesh's regions in CIELAB, keeping the skin's and lips' texture.

The colour's a and b (its hue and chroma) replace the region's by ``strength``; its
lightness moves the region's mean lightness, not each pixel's, so the lips' lines and
highlights stay. Masks have soft edges (Gaussian, scaled to the face); the lipstick mask
is the outer lip contour minus the inner one, so the mouth's interior (teeth) stays clear.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..landmarks.regions import (BROW_LEFT, BROW_RIGHT, CHEEK_LEFT, CHEEK_RIGHT, EYE_LEFT, EYE_RIGHT, FACE_OVAL,
                                 LIPS_INNER, LIPS_OUTER, polygon_mask)
from .colour import Colour
from .colour_match import from_lab, to_lab
from .face import FaceGeometry

LIP_SOFTNESS = 0.012  # edge blur, share of the face width
BLUSH_RADIUS = 0.13  # share of the face width
LINER_WIDTH, LINER_WING = 0.012, 0.045  # eyeliner thickness and the wing past the outer corner, share of the face width
SHADOW_HEIGHT = 0.5  # eyeshadow reaches this share of the way from the upper lid to the brow
# The upper lids, inner corner to outer corner (the contours' second halves), image-left eye first.
UPPER_LIDS = (tuple(EYE_LEFT[8:]) + (EYE_LEFT[0],), tuple(EYE_RIGHT[8:]) + (EYE_RIGHT[0],))
BROWS = (BROW_LEFT, BROW_RIGHT)


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


def _face_width(face: FaceGeometry) -> float:
    return float(np.ptp(face.xy[list(FACE_OVAL), 0]))


def _paint_mask(image: np.ndarray, mask: np.ndarray, colour: Colour, strength: float, lightness: float) -> np.ndarray:
    """Paint through a full-size mask, touching only its bounding box."""
    ys, xs = np.nonzero(mask > 0.01)
    if not len(ys):
        return image.copy()
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    x0, y0, x1, y1 = box
    return paint(image, mask[y0:y1, x0:x1], colour, strength, box, lightness)


def eyeliner(image: np.ndarray, face: FaceGeometry, colour: Colour, strength: float = 0.8) -> np.ndarray:
    """A line along each upper lid, with a short wing past the outer corner."""
    xy, fw = face.xy, _face_width(face)
    mask = np.zeros(image.shape[:2], np.float32)
    thick = max(1, int(round(LINER_WIDTH * fw)))
    for lid, brow in zip(UPPER_LIDS, BROWS):
        pts = xy[list(lid)]
        outer, before = pts[-1], pts[-2]
        up = xy[list(brow)].mean(0) - pts.mean(0)
        direction = (outer - before) / (np.linalg.norm(outer - before) + 1e-6)
        wing = outer + LINER_WING * fw * (direction + 0.6 * up / (np.linalg.norm(up) + 1e-6))
        line = np.round(np.vstack([pts, wing]) * 16).astype(np.int32)
        cv2.polylines(mask, [line], False, 1.0, thick, cv2.LINE_AA, shift=4)
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.5, 0.3 * thick))
    return _paint_mask(image, mask, colour, strength, lightness=1.0)


def eyeshadow(image: np.ndarray, face: FaceGeometry, colour: Colour, strength: float = 0.5) -> np.ndarray:
    """Colour on the upper lids, from the lash line part of the way up to the brows, soft-edged."""
    xy, fw = face.xy, _face_width(face)
    mask = np.zeros(image.shape[:2], np.uint8)
    for lid, brow in zip(UPPER_LIDS, BROWS):
        pts = xy[list(lid)]
        lift = SHADOW_HEIGHT * (xy[list(brow)].mean(0) - pts.mean(0))
        ring = np.vstack([pts, (pts + lift)[::-1]])
        cv2.fillPoly(mask, [np.round(ring * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(0.8, 0.015 * fw))
    return _paint_mask(image, soft, colour, strength, lightness=0.4)


def foundation(image: np.ndarray, face: FaceGeometry, colour: Colour, strength: float = 0.3) -> np.ndarray:
    """An even tint over the skin of the face (eyes, brows and lips left out), soft at the edge."""
    xy, fw = face.xy, _face_width(face)
    shape = image.shape[:2]
    mask = polygon_mask(shape, xy, FACE_OVAL).astype(np.float32) / 255.0
    k = max(1, int(0.02 * fw))
    for ring in (EYE_LEFT, EYE_RIGHT, BROW_LEFT, BROW_RIGHT, LIPS_OUTER):
        hole = cv2.dilate(polygon_mask(shape, xy, ring), np.ones((2 * k + 1, 2 * k + 1), np.uint8))
        mask = np.minimum(mask, 1.0 - hole.astype(np.float32) / 255.0)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.03 * fw))
    return _paint_mask(image, mask, colour, strength, lightness=0.3)
