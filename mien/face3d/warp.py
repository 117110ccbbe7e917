"""Piecewise-affine maps over triangles: each destination triangle takes its pixels from the
matching source triangle by that pair's affine map (continuous across shared edges).

Used twice: to warp a photo when the mesh moves (``simulate``), and to unwrap the photo into
the mesh's UV layout (``texture``). Triangles are painted far to near (``depth``), so where
triangles overlap in the destination the nearest one gives the pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

SUBPIXEL = 4  # fixed-point bits for cv2.fillConvexPoly


def triangle_affines(src: np.ndarray, dst: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 2, 3) affines mapping each destination triangle onto its source triangle, and a
    (T,) mask of the triangles that are not degenerate in the destination."""
    d = np.concatenate([dst[triangles], np.ones((len(triangles), 3, 1))], axis=2)  # (T, 3, 3) rows x, y, 1
    s = src[triangles]  # (T, 3, 2)
    det = np.linalg.det(d)
    ok = np.abs(det) > 1e-6
    out = np.zeros((len(triangles), 2, 3))
    # A @ d_k = s_k for the three corners k: A = s^T (d^T)^-1
    out[ok] = np.transpose(s[ok], (0, 2, 1)) @ np.linalg.inv(np.transpose(d[ok], (0, 2, 1)))
    return out, ok


def triangle_ids(dst: np.ndarray, triangles: np.ndarray, size: tuple[int, int], depth: np.ndarray | None = None,
                 keep: np.ndarray | None = None) -> np.ndarray:
    """(H, W) int32: the index of the triangle covering each pixel of a ``size`` (w, h) canvas, -1 for none."""
    w, h = size
    ids = np.full((h, w), -1, np.int32)
    order = np.arange(len(triangles)) if depth is None else np.argsort(-depth[triangles].mean(1), kind="stable")
    fixed = np.round(dst * (1 << SUBPIXEL)).astype(np.int32)
    for t in order:
        if keep is not None and not keep[t]:
            continue
        cv2.fillConvexPoly(ids, fixed[triangles[t]], int(t), lineType=cv2.LINE_8, shift=SUBPIXEL)
    return ids


def piecewise_maps(src: np.ndarray, dst: np.ndarray, triangles: np.ndarray, size: tuple[int, int],
                   depth: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``cv2.remap`` maps (x, y float32) for a ``size`` (w, h) output, and the (H, W) triangle ids.

    Pixels outside every triangle map to themselves (identity).
    """
    src = np.asarray(src, np.float64)[:, :2]
    dst = np.asarray(dst, np.float64)[:, :2]
    affines, ok = triangle_affines(src, dst, triangles)
    ids = triangle_ids(dst, triangles, size, depth, ok)
    w, h = size
    map_x, map_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    ys, xs = np.nonzero(ids >= 0)
    a = affines[ids[ys, xs]]
    map_x[ys, xs] = a[:, 0, 0] * xs + a[:, 0, 1] * ys + a[:, 0, 2]
    map_y[ys, xs] = a[:, 1, 0] * xs + a[:, 1, 1] * ys + a[:, 1, 2]
    return map_x, map_y, ids


def warp_piecewise(image: np.ndarray, src: np.ndarray, dst: np.ndarray, triangles: np.ndarray,
                   depth: np.ndarray | None = None, size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``image`` warped so that the points ``src`` move to ``dst``; and the (H, W) bool mask of
    the pixels inside the triangles. Outside the mask the result is ``image`` itself (same size) or
    black (another ``size``)."""
    h, w = image.shape[:2]
    size = size or (w, h)
    map_x, map_y, ids = piecewise_maps(src, dst, triangles, size, depth)
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mask = ids >= 0
    if size == (w, h):
        warped[~mask] = image[~mask]
    else:
        warped[~mask] = 0
    return warped, mask
