"""The photo unwrapped into the face mesh's UV layout, the half turned away filled from the other.

Each mesh triangle is warped from the photo into its place in MediaPipe's canonical UV map
(piecewise-affine, ``mien.edit.warp``). A triangle's weight is how squarely it faces the camera
times the share of it left uncovered by nearer triangles. The UV layout is symmetric (u -> 1 - u
maps each point onto its mirror partner), so where a texel's own weight is low its mirror texel
takes over, and where both are low (under the chin, behind the jaw) the face's median skin colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..landmarks.geometry import canonical_face
from .metric import Face3D, camera_frame
from .regions import face_triangles

TEXTURE_SIZE = 512
FULL_FACING = 0.4  # a triangle facing the camera at least this much (cosine) keeps its own texels


@dataclass(frozen=True, eq=False)
class Texture:
    image: np.ndarray  # (S, S, 3) uint8, UV origin at the top left
    filled_share: float  # share of the face's texels taken from the mirror side or the skin colour


def triangle_visibility(face: Face3D, image_shape: tuple[int, int]) -> np.ndarray:
    """(T,) weight in [0, 1] of each triangle of ``face_triangles()`` as seen in the photo."""
    from ..edit.warp import warp_triangles

    tris = face_triangles()
    cam = camera_frame(face.image_points)
    a, b, c = cam[tris[:, 0]], cam[tris[:, 1]], cam[tris[:, 2]]
    n = np.cross(b - a, c - a)
    facing = np.clip(n[:, 2] / (np.linalg.norm(n, axis=1) + 1e-9), 0.0, 1.0)
    xy = face.image_points[:, :2].astype(np.float64)
    order = np.argsort(-face.image_points[tris, 2].mean(1), kind="stable")  # far to near
    blank = np.zeros((*image_shape[:2], 3), np.uint8)
    _, labels = warp_triangles([blank], xy[tris[order]], xy[tris[order]], image_shape[:2])
    seen = np.bincount(labels[labels >= 0].ravel(), minlength=len(tris)).astype(np.float64)
    visible = np.zeros(len(tris))
    visible[order] = seen  # labels index the reordered triangles
    p = xy[tris]
    area = 0.5 * np.abs((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1]) - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))
    share = np.where(area >= 2.0, np.clip(visible / np.maximum(area, 1e-9) / 0.5, 0.0, 1.0), 1.0)
    return facing * share


def bake_texture(image: np.ndarray, face: Face3D, size: int = TEXTURE_SIZE) -> Texture:
    """The UV texture of ``face`` from ``image`` (RGB uint8), ``size`` pixels a side."""
    from ..edit.warp import warp_triangles

    tris = face_triangles()
    uv = canonical_face().uv.astype(np.float64) * (size - 1)
    xy = face.image_points[:, :2].astype(np.float64)
    texture, labels = warp_triangles([image], uv[tris], xy[tris], (size, size))
    weight = triangle_visibility(face, image.shape[:2])
    own = np.where(labels >= 0, np.clip(weight[np.maximum(labels, 0)] / FULL_FACING, 0.0, 1.0), 0.0)
    inside = labels >= 0
    good = inside & (own > 0.9)
    skin = np.median(texture[good], axis=0) if good.any() else np.array([180.0, 140.0, 120.0])
    mirror, mirror_own = texture[:, ::-1].astype(np.float64), own[:, ::-1]
    fill = mirror_own[..., None] * mirror + (1 - mirror_own[..., None]) * skin
    out = own[..., None] * texture + (1 - own[..., None]) * fill
    out[~inside] = skin
    filled = float(1 - own[inside].mean()) if inside.any() else 1.0
    return Texture(np.clip(np.rint(out), 0, 255).astype(np.uint8), filled)
