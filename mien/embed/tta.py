"""Test-time augmentation (TTA): embed several views of each aligned crop, average the vectors.

Levels, named by ``Embedder(tta=...)`` and ``--tta``; each tags its embeddings with its
own id, because averaging views moves the distance distribution and so the calibrated
thresholds:

* ``none``: the crop alone (id ``dlib-resnet``);
* ``flip``: the crop and its mirror image (id ``dlib-resnet+flip``), 2x the network time;
* ``jitter``: ``jitters`` views (default 8; id ``dlib-resnet+jitter8``): the crop, its
  mirror, then views cut the way dlib's ``jitter_image`` cuts them for
  ``compute_face_descriptor(..., num_jitters)`` (dlib/image_transforms/interpolation.h):
  the chip's rectangle 3 px inside its border, enlarged by 1/U(0.97, 0.99), moved by up
  to 2% of its size, turned by up to 3 degrees, every second one mirrored (dlib tosses a
  coin). The views come from a fixed seed, so every face gets the same ones and an
  image always gets the same embedding. ``jitters`` times the network time.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import InputError

TTA_LEVELS = ("none", "flip", "jitter")
DEFAULT_JITTERS = 8  # on LFW's 29.6M pairs, 8 views gave what 16 did (docs/recognition.md)
JITTER_SEED = 0

# dlib's jitter_image constants
_MAX_ROTATION_DEG = 3.0
_OBJECT_HEIGHT = (0.97, 0.99)
_TRANSLATE = 0.02
_INSET = 3


def check_tta(tta: str, jitters: int) -> None:
    if tta not in TTA_LEVELS:
        raise InputError(f"tta must be one of {', '.join(TTA_LEVELS)}; got {tta!r}")
    if tta == "jitter" and int(jitters) < 2:
        raise InputError(f"jitter TTA needs at least 2 views (the crop and its mirror); got jitters={jitters}")


def tta_suffix(tta: str, jitters: int) -> str:
    """The part of the embedding id naming the TTA: "", "+flip" or "+jitter16"."""
    return {"none": "", "flip": "+flip", "jitter": f"+jitter{int(jitters)}"}[tta]


def mirror_matrix(width: int) -> np.ndarray:
    return np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]])


def jitter_matrices(n: int, size: tuple[int, int], seed: int = JITTER_SEED) -> np.ndarray:
    """(n, 2, 3) crop->view affines: identity, mirror, then dlib-style random jitters."""
    w, h = size
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2, 3))
    flip = np.vstack([mirror_matrix(w), [0.0, 0.0, 1.0]])
    inner_w, inner_h = w - 2 * _INSET, h - 2 * _INSET
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    for i in range(n):
        if i < 2:
            out[i] = np.eye(3)[:2] if i == 0 else mirror_matrix(w)
            continue
        shift = rng.uniform(-_TRANSLATE, _TRANSLATE, 2) * (inner_w, inner_h)
        box = int(inner_h / rng.uniform(*_OBJECT_HEIGHT))  # dlib: long box_size = height / perturb
        angle = np.deg2rad(rng.uniform(-_MAX_ROTATION_DEG, _MAX_ROTATION_DEG))
        scale = h / box
        c, s = np.cos(angle), np.sin(angle)
        rot = scale * np.array([[c, -s], [s, c]])
        m = np.eye(3)
        m[:2, :2] = rot
        m[:2, 2] = centre - rot @ (centre + shift)
        if i % 2 == 1:
            m = flip @ m
        out[i] = m[:2]
    return out


def view_matrices(tta: str, jitters: int, size: tuple[int, int]) -> np.ndarray:
    """The crop->view affines of a TTA level: (1 | 2 | jitters, 2, 3)."""
    check_tta(tta, jitters)
    if tta == "none":
        return np.eye(3)[None, :2]
    if tta == "flip":
        return jitter_matrices(2, size)
    return jitter_matrices(int(jitters), size)


def apply_view(crops: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """One view of a batch of (N, H, W, 3) crops: the crops, their mirror, or a warp."""
    h, w = crops.shape[1:3]
    if np.array_equal(matrix, np.eye(3)[:2]):
        return crops
    if np.array_equal(matrix, mirror_matrix(w)):
        return np.ascontiguousarray(crops[:, :, ::-1])
    return np.stack([cv2.warpAffine(c, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                     for c in crops])
