"""Piecewise-affine warping over triangles, and the triangulations that cover a whole frame.

``warp_triangles`` paints each destination triangle with the pixels of its source
triangle (each triangle may come from its own image): a label image says which
triangle covers each destination pixel, one 2x3 affine per triangle maps those pixels
back to the source, and one ``cv2.remap`` per source image samples them. Triangles are
painted in the order given, so passing them far-to-near hides what the face itself hides.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np

from ..errors import ShapeError
from ..landmarks.regions import FACE_OVAL, face_triangles


def triangle_affines(dst: np.ndarray, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 2, 3) affines mapping each destination triangle onto its source triangle, and a (T,) ok flag
    (False for degenerate destination triangles)."""
    dst = np.asarray(dst, np.float64)
    src = np.asarray(src, np.float64)
    if dst.shape != src.shape or dst.ndim != 3 or dst.shape[1:] != (3, 2):
        raise ShapeError("triangles", "two (T, 3, 2) arrays", f"{dst.shape} and {src.shape}")
    d = np.concatenate([dst.transpose(0, 2, 1), np.ones((len(dst), 1, 3))], axis=1)  # (T, 3, 3)
    det = np.linalg.det(d)
    ok = np.abs(det) > 1e-6
    d[~ok] = np.eye(3)
    mats = src.transpose(0, 2, 1) @ np.linalg.inv(d)  # (T, 2, 3)
    return mats, ok


def warp_triangles(images: Sequence[np.ndarray], dst_tris: np.ndarray, src_tris: np.ndarray,
                   shape: tuple[int, int], which: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Warp source triangles into an image of ``shape`` (h, w).

    ``dst_tris``/``src_tris``: (T, 3, 2) pixel corners; ``which`` (T,) picks each triangle's
    image from ``images`` (all 0 by default). Returns the warped (h, w, 3) uint8 image and a
    (h, w) int32 label image: the triangle painted at each pixel, -1 where none is.
    """
    h, w = shape[:2]
    dst_tris = np.asarray(dst_tris, np.float64)
    which = np.zeros(len(dst_tris), np.int32) if which is None else np.asarray(which, np.int32)
    mats, ok = triangle_affines(dst_tris, src_tris)
    labels = np.full((h, w), -1, np.int32)
    fixed = np.round(dst_tris * 16).astype(np.int32)
    for t in np.flatnonzero(ok):
        cv2.fillConvexPoly(labels, fixed[t], int(t), lineType=cv2.LINE_8, shift=4)
    out = np.zeros((h, w, 3), np.uint8)
    ys, xs = np.nonzero(labels >= 0)
    if not len(ys):
        return out, labels
    m = mats[labels[ys, xs]]
    sx = m[:, 0, 0] * xs + m[:, 0, 1] * ys + m[:, 0, 2]
    sy = m[:, 1, 0] * xs + m[:, 1, 1] * ys + m[:, 1, 2]
    src_of = which[labels[ys, xs]]
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    for k, image in enumerate(images):
        sel = src_of == k
        if not sel.any():
            continue
        map_x = np.full((y1 - y0, x1 - x0), -1.0, np.float32)
        map_y = np.full((y1 - y0, x1 - x0), -1.0, np.float32)
        map_x[ys[sel] - y0, xs[sel] - x0] = sx[sel]
        map_y[ys[sel] - y0, xs[sel] - x0] = sy[sel]
        sampled = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        out[ys[sel], xs[sel]] = sampled[ys[sel] - y0, xs[sel] - x0]
    return out, labels


# -- whole-frame triangulation (for morphing and averaging) -------------------------------
RING_SCALE = 1.35  # a second ring, this much wider than the face oval, carries hair and ears


def frame_points(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Mesh points (468, 2+) plus a ring around the face and the frame's corners and edge midpoints."""
    xy = np.asarray(points, np.float64)[:, :2]
    oval = xy[list(FACE_OVAL)]
    centre = oval.mean(0)
    ring = centre + RING_SCALE * (oval - centre)
    w, h = size
    border = np.array([[0, 0], [w / 2, 0], [w - 1, 0], [w - 1, h / 2], [w - 1, h - 1], [w / 2, h - 1],
                       [0, h - 1], [0, h / 2]], np.float64)
    return np.concatenate([xy, ring, border])


def delaunay(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles (T, 3) of (K, 2) points, as indices (OpenCV's Subdiv2D)."""
    pts = np.asarray(points, np.float64)
    lo, hi = pts.min(0) - 10, pts.max(0) + 10
    subdiv = cv2.Subdiv2D((int(lo[0]), int(lo[1]), int(hi[0] - lo[0]) + 1, int(hi[1] - lo[1]) + 1))
    for p in pts:
        subdiv.insert((float(p[0]), float(p[1])))
    tris = subdiv.getTriangleList().reshape(-1, 3, 2)
    out = []
    for tri in tris:
        d = ((pts[None, :, :] - tri[:, None, :]) ** 2).sum(-1)
        idx = d.argmin(1)
        if d[np.arange(3), idx].max() < 1e-3 and len(set(idx.tolist())) == 3:
            out.append(idx)
    return np.array(out, np.int32).reshape(-1, 3)


def frame_triangles(reference: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Triangles over ``frame_points``: the face's own (mesh + closed eyes and mouth) inside the
    oval, Delaunay outside it (computed on ``reference``, the mesh of a typical face)."""
    pts = frame_points(reference, size)
    n = 468
    outer = np.concatenate([np.asarray(FACE_OVAL), np.arange(n, len(pts))])
    tris = outer[delaunay(pts[outer])]
    centroids = pts[tris].mean(1)
    oval = pts[list(FACE_OVAL)].astype(np.float32).reshape(-1, 1, 2)
    outside = np.array([cv2.pointPolygonTest(oval, (float(x), float(y)), False) < 0 for x, y in centroids], bool)
    return np.concatenate([face_triangles(), tris[outside]])


@lru_cache(maxsize=8)
def _cached_frame_triangles(key: bytes, w: int, h: int) -> np.ndarray:
    return frame_triangles(np.frombuffer(key, np.float64).reshape(468, 2), (w, h))


def warp_frame(image: np.ndarray, src_pts: np.ndarray, dst_pts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """The whole ``image`` warped so that its ``src_pts`` (from ``frame_points``) land on ``dst_pts``."""
    out, labels = warp_triangles([image], dst_pts[tris], src_pts[tris], image.shape[:2])
    missing = labels < 0
    if missing.any():  # pixels on no triangle (rounding at the frame's edge): keep the source's
        out[missing] = image[missing]
    return out


@dataclass(frozen=True)
class Triangulation:
    """Triangles shared by every face of a morph or an average, and the frame they cover."""

    triangles: np.ndarray
    size: tuple[int, int]  # (w, h)

    @classmethod
    def for_shape(cls, reference: np.ndarray, size: tuple[int, int]) -> "Triangulation":
        ref = np.ascontiguousarray(np.asarray(reference, np.float64)[:, :2])
        return cls(_cached_frame_triangles(ref.tobytes(), int(size[0]), int(size[1])), (int(size[0]), int(size[1])))
