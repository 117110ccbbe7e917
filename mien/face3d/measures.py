"""Facial measurements from one photo: distances, proportions, asymmetry, with uncertainty.

Every measure is taken on the metric, pose-normalised face (``metric.Face3D``), on each mesh
pass (the photo and its mirror image) and on their mean. Its uncertainty (1 SD) combines the
scale's error (for millimetre measures), half the difference between the two passes (the
landmark noise of this photo) and a floor of half a pixel per landmark. A measure that cannot
be trusted for this photo (head turned too far, face too small, mesh unsure) has no value and
says why. These are research measurements, not a diagnosis.

Landmarks follow anthropometric names (Farkas): en/ex eye corners, al nasal alae, ch mouth
corners, n nasion, g glabella, sn subnasale, me menton, zy the face's widest points. "right"
and "left" are the person's own sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..image import ImageInput, describe, load_image
from .metric import Face3D
from .regions import POINTS
from .symmetry import SYMMETRY_REGIONS, mirror_fit, region_asymmetry

NOTICE = "research measurement, not a diagnosis"
MIN_MESH_SCORE = 0.5
MIN_EYE_PX = 30.0  # pupils at least this far apart in the photo for any measure
MIN_IRIS_PX = 5.0  # iris at least this wide for a millimetre scale
NOISE_PX = 0.5  # floor of the landmark error per point, pixels
MAX_YAW_WIDTH = 30.0  # widths between paired points, taken in 3D
MAX_YAW_SIDES = 20.0  # measures that need both sides of the face seen well (outline, asymmetry)
MAX_PITCH_HEIGHT = 20.0  # vertical measures

P = POINTS


def _d(a: int, b: int) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda v, _: float(np.linalg.norm(v[a] - v[b]))


def _dy(a: int, b: int) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda v, _: float(v[a, 1] - v[b, 1])


def _fifths(v: np.ndarray) -> np.ndarray:
    xs = v[[P["face_side_eye_right"], P["exocanthion_right"], P["endocanthion_right"], P["endocanthion_left"],
            P["exocanthion_left"], P["face_side_eye_left"]], 0]
    parts = np.diff(xs)
    return parts / parts.sum()


def _lift(corner: int) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda v, _: float(v[corner, 1] - (v[P["stomion_upper"], 1] + v[P["stomion_lower"], 1]) / 2)


def _asym(region: str) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda v, _: region_asymmetry(mirror_fit(v).distances)[region]


@dataclass(frozen=True)
class MeasureSpec:
    name: str
    unit: str  # mm, ratio or %
    definition: str
    compute: Callable[[np.ndarray, np.ndarray], float] | None  # (vertices mm, pupils mm) -> value
    max_yaw: float = MAX_YAW_WIDTH
    max_pitch: float = 90.0
    unavailable: str = ""  # why this measure can never be taken from the mesh
    floor: bool = True  # add the half-pixel landmark floor (distances between a few points)

    @property
    def scaled(self) -> bool:
        return self.unit == "mm"


MEASURES: tuple[MeasureSpec, ...] = (
    MeasureSpec("ipd", "mm", "inter-pupillary distance: iris centre to iris centre",
                lambda _, p: float(np.linalg.norm(p[0] - p[1]))),
    MeasureSpec("intercanthal_width", "mm", "en-en, inner eye corners", _d(133, 362)),
    MeasureSpec("biocular_width", "mm", "ex-ex, outer eye corners", _d(33, 263)),
    MeasureSpec("eye_fissure_right", "mm", "ex-en of the right eye (palpebral fissure length)", _d(33, 133)),
    MeasureSpec("eye_fissure_left", "mm", "ex-en of the left eye", _d(263, 362)),
    MeasureSpec("nose_width", "mm", "al-al, the nasal alae", _d(P["alare_right"], P["alare_left"])),
    MeasureSpec("nose_length", "mm", "n-sn, nasion to subnasale", _d(P["nasion"], P["subnasale"]),
                max_pitch=MAX_PITCH_HEIGHT),
    MeasureSpec("mouth_width", "mm", "ch-ch, the mouth corners", _d(P["cheilion_right"], P["cheilion_left"])),
    MeasureSpec("face_width", "mm", "zy-zy, the widest points of the face outline", _d(P["zygion_right"], P["zygion_left"]),
                max_yaw=MAX_YAW_SIDES),
    MeasureSpec("face_height", "mm", "n-me, nasion to menton", _d(P["nasion"], P["menton"]), max_pitch=MAX_PITCH_HEIGHT),
    MeasureSpec("third_upper", "mm", "tr-g, hairline to glabella", None,
                unavailable="the mesh stops below the hairline: trichion is not a mesh point"),
    MeasureSpec("third_middle", "mm", "g-sn, glabella to subnasale, vertical", _dy(P["glabella"], P["subnasale"]),
                max_pitch=MAX_PITCH_HEIGHT),
    MeasureSpec("third_lower", "mm", "sn-me, subnasale to menton, vertical", _dy(P["subnasale"], P["menton"]),
                max_pitch=MAX_PITCH_HEIGHT),
    MeasureSpec("thirds_ratio", "ratio", "lower third / middle third (1 in the classical canon)",
                lambda v, _: float((v[P["subnasale"], 1] - v[P["menton"], 1]) / (v[P["glabella"], 1] - v[P["subnasale"], 1])),
                max_pitch=MAX_PITCH_HEIGHT),
    *(MeasureSpec(f"fifth_{k + 1}", "ratio",
                  f"fifth {k + 1} of the face width at eye level (right to left), share of the whole (0.2 in the canon)",
                  (lambda i: lambda v, _: float(_fifths(v)[i]))(k), max_yaw=MAX_YAW_SIDES) for k in range(5)),
    *(MeasureSpec(f"asymmetry_{r}", "mm", f"RMS distance of the {r} points to their mirror partners "
                  "(mirrored about the fitted mid-sagittal plane)", _asym(r), max_yaw=MAX_YAW_SIDES,
                  floor=False)
      for r in SYMMETRY_REGIONS),
    MeasureSpec("asymmetry_overall", "mm", "RMS asymmetry over the whole mesh", _asym("overall"), max_yaw=MAX_YAW_SIDES,
                floor=False),
    MeasureSpec("asymmetry_index", "%", "overall asymmetry as a percentage of the face height (0 = symmetric)",
                lambda v, p: 100 * _asym("overall")(v, p) / _d(P["nasion"], P["menton"])(v, p), max_yaw=MAX_YAW_SIDES),
    MeasureSpec("mouth_corner_lift_right", "mm", "height of the right mouth corner above the lips' centre",
                _lift(P["cheilion_right"]), max_yaw=MAX_YAW_SIDES),
    MeasureSpec("mouth_corner_lift_left", "mm", "height of the left mouth corner above the lips' centre",
                _lift(P["cheilion_left"]), max_yaw=MAX_YAW_SIDES),
    MeasureSpec("smile_asymmetry", "mm", "left mouth-corner lift minus right (expression asymmetry; > 0: left higher)",
                lambda v, p: _lift(P["cheilion_left"])(v, p) - _lift(P["cheilion_right"])(v, p), max_yaw=MAX_YAW_SIDES),
)
MEASURE_NAMES = tuple(m.name for m in MEASURES)


@dataclass(frozen=True)
class Measure:
    name: str
    value: float | None
    unit: str
    uncertainty: float | None  # 1 SD
    reason: str | None = None  # why there is no value

    def to_dict(self) -> dict[str, Any]:
        return {"value": None if self.value is None else round(self.value, 3), "unit": self.unit,
                "uncertainty": None if self.uncertainty is None else round(self.uncertainty, 3), "reason": self.reason}


@dataclass(frozen=True, eq=False)
class FaceMeasurements:
    """The measures of one face, with the pose, scale and quality of its photo."""

    source: str
    face: Face3D
    measures: tuple[Measure, ...]
    quality: Any = None  # mien.quality.FaceQuality
    notice: str = NOTICE

    def __getitem__(self, name: str) -> Measure:
        for m in self.measures:
            if m.name == name:
                return m
        raise KeyError(f"unknown measure {name!r}; known: {', '.join(MEASURE_NAMES)}")

    def value(self, name: str) -> float | None:
        return self[name].value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"image": self.source, "notice": self.notice, **self.face.to_dict()}
        if self.quality is not None:
            out["quality"] = {"score": round(self.quality.score, 3), "passed": self.quality.passed,
                              "failed": list(self.quality.failed)}
        out["measures"] = {m.name: m.to_dict() for m in self.measures}
        return out

    def row(self) -> dict[str, Any]:
        """One flat CSV row: photo facts, then value, uncertainty and note of each measure."""
        pose, scale = self.face.pose, self.face.scale
        row: dict[str, Any] = {
            "image": self.source, "error": "", "yaw": round(pose.yaw, 1), "pitch": round(pose.pitch, 1),
            "roll": round(pose.roll, 1), "eye_distance_px": round(self.face.eye_distance_px, 1),
            "iris_px": round(scale.iris_px, 2), "mm_per_px": round(scale.mm_per_px, 5),
            "scale_error": round(scale.relative_error, 4), "mesh_score": round(self.face.score, 3),
            "quality_score": "" if self.quality is None else round(self.quality.score, 3),
            "quality_failed": "" if self.quality is None else ";".join(self.quality.failed),
        }
        for m in self.measures:
            row[m.name] = "" if m.value is None else round(m.value, 3)
            row[f"{m.name}_sd"] = "" if m.uncertainty is None else round(m.uncertainty, 3)
            row[f"{m.name}_note"] = m.reason or ""
        row["notice"] = self.notice
        return row


CSV_COLUMNS = ("image", "error", "yaw", "pitch", "roll", "eye_distance_px", "iris_px", "mm_per_px", "scale_error",
               "mesh_score", "quality_score", "quality_failed",
               *(f"{n}{s}" for n in MEASURE_NAMES for s in ("", "_sd", "_note")), "notice")


def _refusal(face: Face3D) -> str | None:
    """Why no measure at all can be trusted on this face, or None."""
    if face.score < MIN_MESH_SCORE:
        return f"the mesh model is not sure this is a face (presence {face.score:.2f} < {MIN_MESH_SCORE})"
    if face.eye_distance_px < MIN_EYE_PX:
        return f"face too small: pupils {face.eye_distance_px:.0f} px apart, needs at least {MIN_EYE_PX:.0f}"
    return None


def _reason(spec: MeasureSpec, face: Face3D, refusal: str | None) -> str | None:
    if spec.unavailable:
        return spec.unavailable
    if refusal:
        return refusal
    if abs(face.pose.yaw) > spec.max_yaw:
        return f"head turned {abs(face.pose.yaw):.0f} deg, past the {spec.max_yaw:.0f} deg this measure is trusted to"
    if abs(face.pose.pitch) > spec.max_pitch:
        return f"head tilted {abs(face.pose.pitch):.0f} deg, past the {spec.max_pitch:.0f} deg this measure is trusted to"
    if spec.scaled and face.scale.iris_px < MIN_IRIS_PX:
        return f"iris only {face.scale.iris_px:.1f} px across: the mm scale needs at least {MIN_IRIS_PX:.0f} px"
    return None


def measure_one(spec: MeasureSpec, face: Face3D, refusal: str | None = None) -> Measure:
    reason = _reason(spec, face, refusal)
    if reason is not None or spec.compute is None:
        return Measure(spec.name, None, spec.unit, None, reason)
    value = spec.compute(face.vertices, face.pupils)
    per_pass = [spec.compute(v, p) for v, p in zip(face.passes, face.pupil_passes)]
    noise = (max(per_pass) - min(per_pass)) / 2 if len(per_pass) > 1 else 0.0
    var = noise ** 2
    if spec.scaled:
        var += (value * face.scale.relative_error) ** 2
        if spec.floor:
            var += (NOISE_PX * np.sqrt(2) * face.scale.mm_per_px) ** 2
    return Measure(spec.name, float(value), spec.unit, float(np.sqrt(var)))


def measure_face(face: Face3D, image: np.ndarray | None = None, source: str = "image") -> FaceMeasurements:
    """Every measure of ``face``; with ``image`` also its enrolment-quality checks."""
    refusal = _refusal(face)
    measures = tuple(measure_one(spec, face, refusal) for spec in MEASURES)
    quality = None
    if image is not None:
        from ..quality import face_quality

        quality = face_quality(image, face.image_points)
    return FaceMeasurements(source, face, measures, quality)


class Measurer:
    """Detector + mesh + measures, reusable over many photos."""

    def __init__(self, lifter: Any = None, ipd_mm: float | None = None) -> None:
        from .capture import FaceLifter

        self.lifter = lifter or FaceLifter(ipd_mm=ipd_mm)

    def measure(self, image: ImageInput, largest: bool = False, source: str | None = None) -> FaceMeasurements:
        source = source or describe(image)
        pixels = load_image(image)
        return measure_face(self.lifter.lift(pixels, largest=largest, source=source), pixels, source)


def measure_image(image: ImageInput, largest: bool = False, ipd_mm: float | None = None) -> FaceMeasurements:
    """One-shot ``Measurer(ipd_mm=ipd_mm).measure(image, largest)``."""
    return Measurer(ipd_mm=ipd_mm).measure(image, largest)
