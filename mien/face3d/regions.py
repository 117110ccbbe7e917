"""Named points and regions of the 468-point face mesh, and its left-right mirror.

Sides are the person's own: ``right`` is the person's right, which is the image's left in an
ordinary (not mirrored) photo. The contour lists (lips, eyes, brows, face oval) are MediaPipe's
face-mesh connection sets; the nose, cheek and chin regions are cut out of the canonical face
(centimetres, x to the face's left, y up, z towards the camera) by position.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..landmarks.geometry import canonical_face

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

# A closed loop around the face, clockwise in the image from the forehead top.
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415)
EYE_RIGHT = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173)
EYE_LEFT = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)
BROW_RIGHT = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
BROW_LEFT = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
NOSE_MIDLINE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2)


@lru_cache(maxsize=1)
def mirror_permutation() -> np.ndarray:
    """(468,) index of each point's mirror image (its own index on the midline)."""
    v = canonical_face().vertices.astype(np.float64)
    mirrored = v * [-1.0, 1.0, 1.0]
    d = np.linalg.norm(v[None, :, :] - mirrored[:, None, :], axis=2)
    return np.argmin(d, axis=1)


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


def canonical_distance(core: np.ndarray) -> np.ndarray:
    """(468,) distance in cm on the canonical face from each point to the nearest point of ``core``."""
    v = canonical_face().vertices.astype(np.float64)
    return np.min(np.linalg.norm(v[:, None, :] - v[None, np.asarray(core), :], axis=2), axis=1)


def smoothstep(t: np.ndarray) -> np.ndarray:
    """0 for t <= 0, 1 for t >= 1, a C1 ramp in between."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
