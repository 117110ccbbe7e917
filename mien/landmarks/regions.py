"""Named regions of MediaPipe's 468-point face mesh, shared by every editor.

Each contour is an ordered ring of mesh indices (as in MediaPipe's
``face_mesh_connections``), so it can be filled as a polygon. "left"/"right" are the
image's: ``EYE_LEFT`` is the eye on the image's left (the person's right eye).
The mesh's own triangles (``mien.landmarks.geometry.canonical_face().triangles``) leave
the eyes and the mouth open; :func:`hole_triangles` closes them.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
EYE_LEFT = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
EYE_RIGHT = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
BROW_LEFT = (46, 53, 52, 65, 55, 107, 66, 105, 63, 70)  # lower edge outwards-in, then the upper edge back
BROW_RIGHT = (276, 283, 282, 295, 285, 336, 296, 334, 293, 300)
NOSE_BRIDGE = (168, 6, 197, 195, 5, 4, 1)  # from between the eyes down to the tip
CHEEK_LEFT, CHEEK_RIGHT = 50, 280  # cheekbone centres
# Anchor points of the regions whose colour and light are matched separately.
COLOUR_REGIONS = {
    "forehead": (151, 108, 337, 9),
    "cheek_left": (50, 117, 187, 205),
    "cheek_right": (280, 346, 411, 425),
    "nose": (6, 197, 195, 5, 4),
    "chin": (152, 175, 199, 200, 18),
}

HOLES = {"mouth": LIPS_INNER, "eye_left": EYE_LEFT, "eye_right": EYE_RIGHT}


def polygon_triangles(ring: np.ndarray) -> np.ndarray:
    """Ear-clipping triangulation of a simple polygon given as (K, 2) points: (K-2, 3) ring positions."""
    pts = np.asarray(ring, np.float64)
    area = 0.5 * np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
    order = list(range(len(pts))) if area > 0 else list(range(len(pts)))[::-1]
    tris = []
    while len(order) > 3:
        for k in range(len(order)):
            a, b, c = order[k - 1], order[k], order[(k + 1) % len(order)]
            pa, pb, pc = pts[a], pts[b], pts[c]
            cross = (pb[0] - pa[0]) * (pc[1] - pa[1]) - (pb[1] - pa[1]) * (pc[0] - pa[0])
            if cross <= 0:
                continue  # reflex corner
            inside = False
            for j in order:
                if j in (a, b, c):
                    continue
                if _in_triangle(pts[j], pa, pb, pc):
                    inside = True
                    break
            if not inside:
                tris.append((a, b, c))
                order.pop(k)
                break
        else:  # degenerate ring: fan the rest
            tris.extend((order[0], order[i], order[i + 1]) for i in range(1, len(order) - 1))
            order = order[:3]
            break
    tris.append(tuple(order))
    return np.array(tris, np.int32)


def _in_triangle(p, a, b, c) -> bool:
    def side(u, v, w):
        return (v[0] - u[0]) * (w[1] - u[1]) - (v[1] - u[1]) * (w[0] - u[0])

    return side(a, b, p) >= 0 and side(b, c, p) >= 0 and side(c, a, p) >= 0


@lru_cache(maxsize=1)
def hole_triangles() -> dict[str, np.ndarray]:
    """Triangles (mesh indices) that close the mouth and the two eyes, per hole."""
    from .geometry import canonical_face

    front = canonical_face().vertices[:, :2] * np.array([1.0, -1.0])  # x right-ish, y down, like an image
    out = {}
    for name, ring in HOLES.items():
        idx = np.asarray(ring)
        out[name] = idx[polygon_triangles(front[idx])]
    return out


@lru_cache(maxsize=1)
def face_triangles() -> np.ndarray:
    """The mesh's 898 triangles plus those closing the mouth and eyes: the whole face oval, (T, 3)."""
    from .geometry import canonical_face

    return np.concatenate([canonical_face().triangles.astype(np.int32), *hole_triangles().values()])


@lru_cache(maxsize=1)
def mirror_index() -> np.ndarray:
    """(468,) the mesh point mirroring each point across the face's midline (itself on the midline)."""
    from .geometry import canonical_face

    v = canonical_face().vertices.astype(np.float64)
    flipped = v * np.array([-1.0, 1.0, 1.0])
    d = ((flipped[:, None, :] - v[None, :, :]) ** 2).sum(-1)
    return np.argmin(d, axis=1).astype(np.int32)


def polygon_mask(shape: tuple[int, int], points: np.ndarray, ring: tuple[int, ...]) -> np.ndarray:
    """A uint8 mask (255 inside) of the polygon ``points[ring]`` in an image of ``shape`` (h, w)."""
    mask = np.zeros(shape[:2], np.uint8)
    poly = np.round(np.asarray(points)[list(ring), :2] * 16).astype(np.int32)
    cv2.fillPoly(mask, [poly], 255, lineType=cv2.LINE_AA, shift=4)
    return mask
