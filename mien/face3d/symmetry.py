"""Facial asymmetry: the face mirrored about its fitted mid-sagittal plane.

Each point is paired with its mirror point (``regions.mirror_permutation``); the mirrored face
(x negated, pairs swapped) is aligned rigidly onto the face (Kabsch). The reflection that
results is the mirror about the best mid-sagittal plane, and each point's distance to its
mirrored partner is its asymmetry (0 for a perfectly symmetric face). A region's asymmetry is
the root mean square over its points, in millimetres.

The mesh model itself leans towards symmetric faces, so these values are lower bounds of the
true asymmetry, and the side turned away from the camera is partly the model's guess: trust
them only near frontal photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .regions import mirror_permutation, regions

SYMMETRY_REGIONS = ("eyes", "brows", "nose", "lips", "cheeks", "jaw")


@dataclass(frozen=True)
class MirrorFit:
    normal: np.ndarray  # (3,) unit normal of the mid-sagittal plane
    offset: float  # plane: normal . p = offset (mm)
    distances: np.ndarray  # (468,) each point to its mirrored partner, mm


def kabsch(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and translation minimising sum |R src + t - dst|^2."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    u, _, vt = np.linalg.svd((dst - mu_d).T @ (src - mu_s))
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    rot = u @ np.diag([1.0, 1.0, d]) @ vt
    return rot, mu_d - rot @ mu_s


def mirror_fit(vertices: np.ndarray) -> MirrorFit:
    """Fit the mid-sagittal plane of (468, 3) points and measure each point's asymmetry."""
    v = np.asarray(vertices, np.float64)
    flip = np.diag([-1.0, 1.0, 1.0])
    mirrored = (v @ flip)[mirror_permutation()]
    rot, t = kabsch(mirrored, v)
    aligned = mirrored @ rot.T + t
    reflection = rot @ flip  # p -> reflection p + t mirrors about the plane
    w, vecs = np.linalg.eigh((reflection + reflection.T) / 2)
    normal = vecs[:, int(np.argmin(w))]
    offset = float(normal @ t) / 2
    return MirrorFit(normal, offset, np.linalg.norm(aligned - v, axis=1))


def region_asymmetry(distances: np.ndarray) -> dict[str, float]:
    """RMS asymmetry (mm) per region and over the whole mesh ("overall")."""
    reg = regions()
    out = {name: float(np.sqrt(np.mean(distances[reg[name]] ** 2))) for name in SYMMETRY_REGIONS}
    out["overall"] = float(np.sqrt(np.mean(distances ** 2)))
    return out
