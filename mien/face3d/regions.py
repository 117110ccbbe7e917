"""Named points and regions of the 468-point face mesh, and its left-right mirror.

Sides are the person's own: ``right`` is the person's right, which is the image's left in an
ordinary (not mirrored) photo. The contour lists (lips, eyes, brows, face oval) and the mirror
map are ``mien.landmarks.regions``'; the nose, cheek and chin regions are cut out of the
canonical face (centimetres, x to the face's left, y up, z towards the camera) by position.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..landmarks import regions as _shared
from ..landmarks.geometry import canonical_face
from ..landmarks.regions import FACE_OVAL, LIPS_INNER, LIPS_OUTER, hole_triangles, mirror_index

mirror_permutation = mirror_index  # (468,) each point's mirror partner across the midline

POINTS = {
    "nasion": 168,  # deepest point of the nasal bridge, between the eyes
    "glabella": 9,
    "pronasale": 1,  # nose tip
    "subnasale": 2,
    "mesh_top": 10,  # top of the mesh on the forehead: below the hairline, so not trichion
    "menton": 152,  # lowest point of the chin
    "exocanthion_right": 33, "endocanthion_right": 133,
    "exocanthion_left": 263, "endocanthion_left": 362,
    "alare_right": 129, "alare_left": 358,  # most lateral points of the nasal alae
    "cheilion_right": 61, "cheilion_left": 291,  # mouth corners
    "labiale_superius": 0, "labiale_inferius": 17,
    "stomion_upper": 13, "stomion_lower": 14,
    "zygion_right": 234, "zygion_left": 454,  # widest points of the face oval
    "face_side_eye_right": 127, "face_side_eye_left": 356,  # the face's outline at eye level
}

# The contours are ``mien.landmarks.regions``' (whose left/right are the image's); here by the person's side.
EYE_RIGHT, EYE_LEFT = _shared.EYE_LEFT, _shared.EYE_RIGHT
BROW_RIGHT, BROW_LEFT = _shared.BROW_LEFT, _shared.BROW_RIGHT
NOSE_MIDLINE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2)


@lru_cache(maxsize=1)
def regions() -> dict[str, np.ndarray]:
    """Mesh indices per region: eyes, brows, nose, lips, cheeks, chin, jaw."""
    v = canonical_face().vertices
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    lips = np.array(sorted(set(LIPS_OUTER) | set(LIPS_INNER)))
    nose = np.where((np.abs(x) < 2.0) & (y > -2.3) & (y < 3.4) & (z > 4.3) & (np.abs(x) < 0.9 + 0.35 * (3.4 - y)))[0]
    eyes = np.array(sorted(EYE_RIGHT + EYE_LEFT))
    nose = np.setdiff1d(nose, eyes)
    nose_lower = nose[y[nose] < 0.6]
    cheeks = np.where((np.abs(x) > 2.4) & (np.abs(x) < 6.5) & (y > -3.5) & (y < 1.6) & (z > 0.5))[0]
    chin = np.where((y < -5.8) & (np.abs(x) < 3.5))[0]
    jaw = np.array([i for i in FACE_OVAL if y[i] < -1.0])
    return {
        "eyes": eyes,
        "brows": np.array(sorted(BROW_RIGHT + BROW_LEFT)),
        "nose": nose,
        "nose_lower": nose_lower,
        "lips": lips,
        "cheeks": np.setdiff1d(cheeks, np.concatenate([nose, lips, eyes])),
        "chin": chin,
        "jaw": jaw,
    }


@lru_cache(maxsize=1)
def face_triangles() -> np.ndarray:
    """The mesh's triangles plus those closing the eyes and mouth, all wound counter-clockwise
    seen from the front (as the mesh's own are), so normals point out of the face."""
    v = canonical_face().vertices.astype(np.float64)
    holes = np.concatenate(list(hole_triangles().values()))
    n = np.cross(v[holes[:, 1]] - v[holes[:, 0]], v[holes[:, 2]] - v[holes[:, 0]])
    holes = np.where((n[:, 2] < 0)[:, None], holes[:, ::-1], holes)
    return np.concatenate([canonical_face().triangles.astype(np.int32), holes.astype(np.int32)])


def canonical_distance(core: np.ndarray) -> np.ndarray:
    """(468,) distance in cm on the canonical face from each point to the nearest point of ``core``."""
    v = canonical_face().vertices.astype(np.float64)
    return np.min(np.linalg.norm(v[:, None, :] - v[None, np.asarray(core), :], axis=2), axis=1)


def smoothstep(t: np.ndarray) -> np.ndarray:
    """0 for t <= 0, 1 for t >= 1, a C1 ramp in between."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


__all__ = ["POINTS", "FACE_OVAL", "LIPS_OUTER", "LIPS_INNER", "EYE_RIGHT", "EYE_LEFT", "BROW_RIGHT", "BROW_LEFT",
           "NOSE_MIDLINE", "mirror_permutation", "face_triangles", "regions", "canonical_distance", "smoothstep"]
