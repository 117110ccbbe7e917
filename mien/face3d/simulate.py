"""What-if simulation of a facial change on a photo: the mesh moved as asked, the photo warped.

    >>> from mien.face3d import Changes, simulate
    >>> sim = simulate("me.jpg", Changes(nose_width=-10, chin=3, lips=15))
    >>> sim.image          # watermarked result; sim.side_by_side() for before | after

Each change moves the points of one region of the metric face (``Face3D``, millimetres, pose
removed) and fades to nothing over a border band, measured on the canonical face, so region
borders stay smooth. The moved mesh goes back through the photo's pose, and the photo is
warped piecewise-affinely (``mien.edit.warp``) over the mesh's triangles (eyes and mouth closed)
plus a band of triangles from the face outline to a fixed ring around it, painted far to near:
pixels outside that ring are the original ones, bit for bit.
The result carries mien's watermark and a provenance record (operation "edit"). It shows
what the geometric change looks like on this photo; it does not predict a surgical outcome.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

import cv2
import numpy as np

from ..errors import InputError
from ..image import ImageInput, describe, load_image
from ..landmarks.geometry import canonical_face
from .metric import Face3D
from .regions import FACE_OVAL, NOSE_MIDLINE, POINTS, canonical_distance, face_triangles, regions, smoothstep

NOTICE = "a what-if simulation on the photo, not a prediction of a surgical outcome"
RING = 1.35  # the fixed ring around the face outline, as a multiple of the outline's size
EDIT_MODEL = "face-mesh"


@dataclass(frozen=True)
class EditSpec:
    name: str
    unit: str  # "%" or "mm"
    low: float
    high: float
    description: str


EDITS: dict[str, EditSpec] = {e.name: e for e in (
    EditSpec("nose_width", "%", -30.0, 30.0, "width of the lower nose (alae), about the nose's midline"),
    EditSpec("mouth_width", "%", -20.0, 20.0, "width of the mouth, about its centre"),
    EditSpec("lips", "%", -30.0, 50.0, "lip fullness: each lip's height from the line between the lips"),
    EditSpec("chin", "mm", -6.0, 6.0, "chin length: the chin moved down (+) or up (-)"),
)}


@dataclass(frozen=True)
class Changes:
    """Requested changes; 0 leaves a region alone. Amounts outside ``EDITS``' ranges are refused."""

    nose_width: float = 0.0  # percent
    mouth_width: float = 0.0  # percent
    lips: float = 0.0  # percent
    chin: float = 0.0  # millimetres

    def __post_init__(self) -> None:
        for f in fields(self):
            spec, value = EDITS[f.name], float(getattr(self, f.name))
            if not np.isfinite(value) or not spec.low <= value <= spec.high:
                raise InputError(f"{f.name.replace('_', '-')} {value:+g}{spec.unit} is outside the allowed range "
                                 f"{spec.low:+g}{spec.unit} to {spec.high:+g}{spec.unit}")

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) == 0 for f in fields(self))

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items() if v}


def parse_amount(name: str, text: str) -> float:
    """'-10%', '+3mm', '15' -> a number in the unit ``EDITS[name]`` uses; another unit is refused."""
    spec = EDITS[name]
    match = re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)\s*(%|mm)?\s*", str(text))
    if match is None:
        raise InputError(f"--{name.replace('_', '-')} needs a number like {'-10%' if spec.unit == '%' else '+3mm'}, "
                         f"got {text!r}")
    unit = match.group(2) or spec.unit
    if unit != spec.unit:
        raise InputError(f"--{name.replace('_', '-')} is given in {spec.unit}, not {unit}")
    return float(match.group(1))


def _weight(core: np.ndarray, band_cm: float) -> np.ndarray:
    """1 on ``core``, fading smoothly to 0 at ``band_cm`` from it (canonical face, cm)."""
    return smoothstep(1.0 - canonical_distance(core) / band_cm)


def displacement(face: Face3D, changes: Changes) -> np.ndarray:
    """(468, 3) millimetres each mesh point moves, in the face frame."""
    v = face.vertices
    reg = regions()
    out = np.zeros_like(v)
    if changes.nose_width:
        axis = v[[i for i in NOSE_MIDLINE if i in set(reg["nose_lower"])], 0].mean()
        out[:, 0] += changes.nose_width / 100 * (v[:, 0] - axis) * _weight(reg["nose_lower"], 0.8)
    if changes.mouth_width:
        centre = (v[POINTS["cheilion_right"], 0] + v[POINTS["cheilion_left"], 0]) / 2
        out[:, 0] += changes.mouth_width / 100 * (v[:, 0] - centre) * _weight(reg["lips"], 1.0)
    if changes.lips:
        line = (v[POINTS["stomion_upper"], 1] + v[POINTS["stomion_lower"], 1]) / 2
        out[:, 1] += changes.lips / 100 * (v[:, 1] - line) * _weight(reg["lips"], 0.5)
    if changes.chin:
        c = canonical_face().vertices
        lip, chin = c[POINTS["labiale_inferius"], 1], c[POINTS["menton"], 1] + 1.0
        down = smoothstep((lip - c[:, 1]) / (lip - chin)) * smoothstep((5.5 - np.abs(c[:, 0])) / 3.0)
        out[:, 1] -= changes.chin * down
    return out


def _band(points_2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ring points around the face outline and the triangles joining outline and ring."""
    oval = np.array(FACE_OVAL)
    centre = points_2d[oval].mean(0)
    ring = centre + (points_2d[oval] - centre) * RING
    n, k = len(oval), len(points_2d)
    tris = []
    for i in range(n):
        j = (i + 1) % n
        tris += [(oval[i], oval[j], k + i), (oval[j], k + j, k + i)]
    return ring, np.array(tris, np.int32)


def warp_face(image: np.ndarray, face: Face3D, moved_mm: np.ndarray) -> tuple[np.ndarray, float]:
    """The photo warped so the mesh follows ``moved_mm`` (face frame); and the largest shift in pixels."""
    src = face.image_points[:, :2].astype(np.float64)
    shift = face.to_image(face.vertices + moved_mm)[:, :2] - face.to_image(face.vertices)[:, :2]
    dst = src + shift
    from ..edit.warp import warp_triangles

    ring, band = _band(src)
    mesh_tris = face_triangles()
    far_first = mesh_tris[np.argsort(-face.image_points[mesh_tris, 2].mean(1), kind="stable")]
    triangles = np.concatenate([band, far_first])  # the band behind the face, the face far to near
    src_all, dst_all = np.vstack([src, ring]), np.vstack([dst, ring])
    warped, labels = warp_triangles([image], dst_all[triangles], src_all[triangles], image.shape[:2])
    out = image.copy()
    inside = labels >= 0
    out[inside] = warped[inside]
    return out, float(np.abs(shift).max())


@dataclass(frozen=True, eq=False)
class Simulation:
    """The simulated photo (watermarked when at least 128 px a side), the original and what moved."""

    image: np.ndarray
    before: np.ndarray
    edited: np.ndarray  # the warped photo before the watermark
    changes: Changes
    face: Face3D
    max_shift_px: float
    watermarked: bool
    source: str = "image"
    notice: str = NOTICE

    def side_by_side(self, labels: bool = True) -> np.ndarray:
        """Before | after in one image, watermarked as a whole."""
        pair = np.hstack([self.before, self.edited])
        if labels:
            h, w = self.before.shape[:2]
            scale = max(0.4, h / 600)
            for text, x in (("before", 8), ("after (simulated)", w + 8)):
                org = (x, int(12 + 24 * scale))
                cv2.putText(pair, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), max(2, int(4 * scale)), cv2.LINE_AA)
                cv2.putText(pair, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), max(1, int(2 * scale)), cv2.LINE_AA)
        return _mark(pair)[0]

    def record(self, side_by_side: bool = False) -> Any:
        from ..provenance import ProvenanceRecord

        return ProvenanceRecord(operation="edit", model=EDIT_MODEL, watermark=self.watermarked,
                                params={"simulation": self.changes.to_dict(), "side_by_side": side_by_side,
                                        "notice": self.notice})

    def to_dict(self) -> dict[str, Any]:
        return {"image": self.source, "notice": self.notice, "changes": self.changes.to_dict(),
                "max_shift_px": round(self.max_shift_px, 2), "watermarked": self.watermarked, **self.face.to_dict()}


def _mark(image: np.ndarray) -> tuple[np.ndarray, bool]:
    from ..provenance import mark
    from ..provenance.watermark import TILE

    if min(image.shape[:2]) < TILE:
        return image, False
    return mark(image, "edit"), True


def simulate(image: ImageInput, changes: Changes, lifter: Any = None, largest: bool = False,
             source: str | None = None) -> Simulation:
    """Simulate ``changes`` on the one face of ``image`` (the largest with ``largest``)."""
    from .capture import FaceLifter

    if changes.empty:
        raise InputError("nothing to simulate: give at least one of " + ", ".join(
            f"{e.name.replace('_', '-')} ({e.low:+g}..{e.high:+g}{e.unit})" for e in EDITS.values()))
    source = source or describe(image)
    pixels = load_image(image)
    face = (lifter or FaceLifter()).lift(pixels, largest=largest, source=source)
    edited, shift = warp_face(pixels, face, displacement(face, changes))
    marked, watermarked = _mark(edited)
    return Simulation(marked, pixels, edited, changes, face, shift, watermarked, source)
