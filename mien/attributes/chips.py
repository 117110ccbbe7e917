"""Face crops in the layouts attribute models were trained on.

* ``dlib_chips``: dlib's aligned face chip (``get_face_chip_details`` from the
  5-point shape predictor, padding 0.2), as Cydral's age and gender models expect.
  dlib's shape predictor was trained on dlib HOG boxes; detector boxes are first
  mapped to that box convention (``HOG_FROM_BOX``: measured on 148 UTKFace faces where
  CenterFace and HOG both found one face: HOG box = CenterFace box moved by these
  fractions of its width and height).
* ``square_crops``: the face box made square, widened by a margin, cut and resized
  (fer's crop: the Haar box plus 10 px at 48-64 px faces, about 10% per side).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..models.runtime import dlib_shape_predictor
from ..types import Faces

HOG_FROM_BOX = (-0.040, 0.033, 0.986, 0.957)  # left, top, right, bottom as fractions of (w, h)
# dlib chips are cut from face regions downscaled first when the face is larger than this many
# pixels: a 2,000-px face in a 12 MP photo otherwise costs ~0.7 s per model in padding and dlib's
# chip extraction; faces of LFW, UTKFace and the group photo (all under 640 px) are never touched.
MAX_FACE_PX = 640


def hog_boxes(faces: Faces) -> np.ndarray:
    """Detector boxes mapped to dlib HOG's box convention, (N, 4) xyxy float."""
    b = faces.boxes.astype(np.float64)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    fx0, fy0, fx1, fy1 = HOG_FROM_BOX
    return np.stack([b[:, 0] + fx0 * w, b[:, 1] + fy0 * h, b[:, 0] + fx1 * w, b[:, 1] + fy1 * h], axis=1)


def _face_region(image: np.ndarray, box: np.ndarray, context: float = 1.0,
                 max_side: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The box widened by ``context`` of its size per side, cut from ``image`` with
    mirrored borders where it leaves the image, and the box in the cut's pixels.

    Mirroring (rather than black) matters on tight crops such as UTKFace: a dlib chip
    with padding 0.2 reaches past a tightly cropped face, and black borders cost about
    2 points of gender accuracy there.

    ``max_side``: a box larger than this is cut at a scale that makes it this size (area
    resampling, before the borders are added): a 2,000-px face in a 12 MP photo then costs
    what a 600-px one does, for a chip of 150 px that could not hold the extra detail anyway.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    m = context * side
    l, t, r, b = int(np.floor(x0 - m)), int(np.floor(y0 - m)), int(np.ceil(x1 + m)), int(np.ceil(y1 + m))
    inside = np.ascontiguousarray(image[max(t, 0):min(b, h), max(l, 0):min(r, w)])
    borders = (max(0, -t), max(0, b - h), max(0, -l), max(0, r - w))
    scale = 1.0
    if max_side is not None and side > max_side and inside.size:
        scale = max_side / side
        size = (max(1, round(inside.shape[1] * scale)), max(1, round(inside.shape[0] * scale)))
        inside = cv2.resize(inside, size, interpolation=cv2.INTER_AREA)
        borders = tuple(int(round(v * scale)) for v in borders)
    local = np.array([x0 - l, y0 - t, x1 - l, y1 - t]) * scale
    if not any(borders):
        return inside, local
    mode = cv2.BORDER_REFLECT_101 if max(borders) < min(inside.shape[:2]) else cv2.BORDER_REPLICATE
    return cv2.copyMakeBorder(inside, *borders, mode), local


def dlib_shapes(image: np.ndarray, faces: Faces, predictor: str = "dlib-shape5") -> list:
    """dlib ``full_object_detection`` per face from a dlib shape predictor (image pixels)."""
    import dlib

    sp = dlib_shape_predictor(predictor)
    out = []
    for x0, y0, x1, y1 in hog_boxes(faces):
        rect = dlib.rectangle(int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)))
        out.append(sp(image, rect))
    return out


def dlib_chips(image: np.ndarray, faces: Faces, size: int, padding: float = 0.2) -> np.ndarray:
    """(N, size, size, 3) uint8 RGB dlib face chips, each cut on its own from ``image``."""
    return dlib_chip_sets(image, faces, size, (padding,))[0]


def dlib_chip_sets(image: np.ndarray, faces: Faces, size: int, paddings: tuple[float, ...]) -> list[np.ndarray]:
    """One (N, size, size, 3) uint8 array of dlib chips per padding, from one 5-point shape per face."""
    import dlib

    sp = dlib_shape_predictor("dlib-shape5")
    chips: list[list] = [[] for _ in paddings]
    for box in hog_boxes(faces):
        region, (x0, y0, x1, y1) = _face_region(image, box, max_side=max(MAX_FACE_PX, 4 * size))
        rect = dlib.rectangle(int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)))
        shape = sp(region, rect)
        for out, padding in zip(chips, paddings):
            out.append(dlib.extract_image_chip(region, dlib.get_face_chip_details(shape, size, padding)))
    return [np.stack(c).astype(np.uint8) if c else np.zeros((0, size, size, 3), np.uint8) for c in chips]


def square_crops(image: np.ndarray, faces: Faces, size: int, margin: float = 0.1, gray: bool = False,
                 border: str = "mean") -> np.ndarray:
    """(N, size, size[, 3]) uint8 crops of each square box widened by ``margin`` per side.

    Parts outside the image are filled with the image's mean grey, as fer pads
    (``border="mean"``), or mirrored (``border="reflect"``, for wide margins on tight crops).
    """
    if border not in ("mean", "reflect"):
        raise ValueError(f"border must be 'mean' or 'reflect', not {border!r}")
    src = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if gray else image
    fill = float(src.mean())
    h, w = src.shape[:2]
    out = []
    for x0, y0, x1, y1 in faces.boxes.astype(np.float64):
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        side = max(2.0, max(x1 - x0, y1 - y0) * (1 + 2 * margin))
        l, t = int(round(cx - side / 2)), int(round(cy - side / 2))
        r, b = l + int(round(side)), t + int(round(side))
        pad = max(0, -l, -t, r - w, b - h)
        if not pad:
            padded = src
        elif border == "reflect":
            mode = cv2.BORDER_REFLECT_101 if pad < min(h, w) else cv2.BORDER_REPLICATE
            padded = cv2.copyMakeBorder(src, pad, pad, pad, pad, mode)
        else:
            padded = cv2.copyMakeBorder(src, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(fill, fill, fill))
        crop = padded[t + pad:b + pad, l + pad:r + pad]
        interp = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
        out.append(cv2.resize(crop, (size, size), interpolation=interp))
    shape = (0, size, size) if gray else (0, size, size, 3)
    return np.stack(out) if out else np.zeros(shape, np.uint8)
