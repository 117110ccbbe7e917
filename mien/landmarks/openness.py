"""How open the eyes and the mouth are, from the 468-point face mesh.

* eye openness (eye aspect ratio): the gap between the middle of the upper and lower lid
  over the distance between the eye's corners, per eye; about 0.23-0.30 open in frontal LFW
  photos, under 0.15 counted as closed by the quality checks;
* mouth opening: the gap between the middles of the inner lips over the width between the
  inner lip corners; about 0 closed, 0.3 and more open.

Both are ratios of 2D image distances, so they do not change with the face's size or roll;
turning the head (yaw) shortens the widths and raises the ratios a little. These are the
measures ``mien.quality`` checks (eyes open, mouth closed) and the video timeline records.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError

# (corner, corner), (upper lid, lower lid): the eye on the image's left (the person's right), then the right one.
EYES = (((33, 133), (159, 145)), ((263, 362), (386, 374)))
LIPS_INNER = (13, 14)  # middle of the upper inner lip, of the lower
MOUTH_CORNERS = (78, 308)  # inner lip corners


def _check(mesh: np.ndarray) -> np.ndarray:
    pts = np.asarray(mesh, np.float64)
    if pts.ndim != 2 or pts.shape[0] != 468 or pts.shape[1] < 2:
        raise ShapeError("mesh", "(468, 2 or 3) face-mesh points", pts.shape)
    return pts[:, :2]


def _ratio(pts: np.ndarray, gap: tuple[int, int], width: tuple[int, int]) -> float:
    return float(np.linalg.norm(pts[gap[0]] - pts[gap[1]]) / max(np.linalg.norm(pts[width[0]] - pts[width[1]]), 1e-6))


def eye_openness(mesh: np.ndarray) -> tuple[float, float]:
    """(image-left eye, image-right eye) lid gap over eye width."""
    pts = _check(mesh)
    left, right = (_ratio(pts, lids, corners) for corners, lids in EYES)
    return left, right


def mouth_opening(mesh: np.ndarray) -> float:
    """Inner-lip gap over the width between the inner lip corners."""
    return _ratio(_check(mesh), LIPS_INNER, MOUTH_CORNERS)
