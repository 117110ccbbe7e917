"""Detect-then-enrich: find faces, then add landmarks, pose, attributes, quality, liveness.

    >>> from mien.analyze import Analyzer
    >>> result = Analyzer().analyze(image)          # Analysis: Faces + one FaceAnalysis per face
    >>> result.results[0].age.value, result.results[0].pose.yaw

Each stage returns new values; a stage that cannot run raises its typed ``MienError``
(a missing model names ``mien models pull``) rather than being skipped silently.
mien predicts no race or ethnicity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from .attributes import AttributeModel, Prediction, get_attribute_model, withholding
from .detect import DEFAULT_DETECTOR, Detector, get_detector
from .errors import InputError
from .image import ImageInput, load_image
from .landmarks import Landmarks, get_landmarker
from .landmarks.pose import HeadPose, head_pose, project
from .quality import FaceQuality, QualityThresholds, face_quality
from .types import Faces

ATTRIBUTES = ("age", "gender", "expression")


@dataclass(frozen=True, eq=False)
class FaceAnalysis:
    """Everything mien found out about one face."""

    index: int
    mesh: np.ndarray | None = None  # (468, 3) or (68, 2) image pixels
    iris: np.ndarray | None = None  # (10, 3)
    pose: HeadPose | None = None
    attributes: tuple[Prediction, ...] = ()
    quality: FaceQuality | None = None
    liveness: dict[str, Any] | None = None

    def attribute(self, task: str) -> Prediction | None:
        return next((p for p in self.attributes if p.task == task), None)

    @property
    def age(self) -> Prediction | None:
        return self.attribute("age")

    @property
    def gender(self) -> Prediction | None:
        return self.attribute("gender")

    @property
    def expression(self) -> Prediction | None:
        return self.attribute("expression")

    def to_dict(self, include_mesh: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in self.attributes:
            out[p.task] = p.to_dict()
        if self.pose is not None:
            out["pose"] = self.pose.to_dict()
        if self.quality is not None:
            out["quality"] = self.quality.to_dict()
        if self.liveness is not None:
            out["liveness"] = {k: v.to_dict() for k, v in self.liveness.items()}
        if include_mesh and self.mesh is not None:
            out["mesh"] = np.round(self.mesh, 1).tolist()
        if include_mesh and self.iris is not None:
            out["iris"] = np.round(self.iris, 1).tolist()
        return out


@dataclass(frozen=True, eq=False)
class Analysis:
    faces: Faces
    results: tuple[FaceAnalysis, ...]
    width: int
    height: int
    landmark_model: str | None = None

    def __len__(self) -> int:
        return len(self.results)

    def to_dict(self, include_mesh: bool = False) -> dict[str, Any]:
        faces = self.faces.to_list()
        for face, res in zip(faces, self.results):
            face.update(res.to_dict(include_mesh))
        return {"width": self.width, "height": self.height, "faces": faces}


class Analyzer:
    """A reusable pipeline; models load on first use and stay loaded.

    landmarks   "face-mesh" (default; gives pose, quality), "dlib68" (non-commercial;
                no pose) or None
    attributes  tasks or model names: any of "age", "gender", "expression"
    quality     run the quality checks (needs the face mesh)
    liveness    run the EXPERIMENTAL antispoof + liveness models
    min_probability  per task, e.g. {"gender": 0.8}: answer "unknown" (``ABSTAIN``) instead
                of guessing when the classifier's top probability is lower
    age_interval  level of dlib-age's calibrated range: 0.5, 0.8 (default), 0.9, 0.95 or None
    """

    def __init__(
        self,
        detector: str | Detector = DEFAULT_DETECTOR,
        landmarks: str | None = "face-mesh",
        attributes: Sequence[str] = ATTRIBUTES,
        iris: bool = False,
        quality: bool = False,
        liveness: bool = False,
        thresholds: QualityThresholds | None = None,
        max_faces: int | None = None,
        min_probability: Mapping[str, float] | None = None,
        age_interval: float | None = 0.8,
    ) -> None:
        if quality and landmarks != "face-mesh":
            raise InputError("quality checks need the face mesh (landmarks='face-mesh')")
        self.detector = detector if isinstance(detector, Detector) else get_detector(detector)
        self.landmarks = landmarks
        options = {"iris": iris} if landmarks == "face-mesh" else {}
        self._landmarker = get_landmarker(landmarks, **options) if landmarks else None
        self._attributes: list[AttributeModel] = [
            get_attribute_model(a, interval_level=age_interval) if a in ("age", "dlib-age") else get_attribute_model(a)
            for a in attributes]
        self._attributes = withholding(self._attributes, min_probability or {})
        self.quality = quality
        self.liveness = liveness
        self.thresholds = thresholds
        self.max_faces = max_faces

    def analyze(self, image: ImageInput, faces: Faces | None = None) -> Analysis:
        """Analyse every face (or the ``max_faces`` largest); ``faces`` skips detection."""
        pixels = load_image(image)
        if faces is None:
            faces = self.detector.detect(pixels)
        if self.max_faces is not None and len(faces) > self.max_faces:
            faces = faces.sorted("area")[: self.max_faces]
        lms: Landmarks | None = self._landmarker.predict(pixels, faces) if self._landmarker and len(faces) else None
        preds = [m.predict(pixels, faces) for m in self._attributes]
        live = None
        if self.liveness and len(faces):
            from .liveness import check_liveness

            live = check_liveness(pixels, faces)
        results = []
        for i in range(len(faces)):
            mesh = None if lms is None else lms.points[i]
            is_mesh = mesh is not None and mesh.shape == (468, 3)
            results.append(FaceAnalysis(
                index=i,
                mesh=mesh,
                iris=lms.extras["iris"][i] if lms is not None and "iris" in lms.extras else None,
                pose=head_pose(mesh) if is_mesh else None,
                attributes=tuple(p[i] for p in preds),
                quality=face_quality(pixels, mesh, self.thresholds) if self.quality and is_mesh else None,
                liveness=live[i] if live is not None else None,
            ))
        return Analysis(faces, tuple(results), pixels.shape[1], pixels.shape[0], self.landmarks)


def analyze(image: ImageInput, **options: Any) -> Analysis:
    """One-shot ``Analyzer(**options).analyze(image)``."""
    return Analyzer(**options).analyze(image)


def labels(result: FaceAnalysis) -> str:
    parts = []
    if result.age is not None:
        span = "" if result.age.interval is None else " ({:.0f}-{:.0f})".format(*result.age.interval)
        parts.append(f"{result.age.value:.0f}y{span}")
    if result.gender is not None:
        sign = "?" if result.gender.withheld else result.gender.value[0].upper()
        parts.append(f"{sign} {result.gender.probability:.0%}")
    if result.expression is not None:
        parts.append(f"{result.expression.value} {result.expression.probability:.0%}")
    if result.quality is not None:
        parts.append("Q ok" if result.quality.passed else f"Q {result.quality.score:.2f}")
    return " | ".join(parts)


def draw_analysis(image: np.ndarray, analysis: Analysis, mesh: bool = True, axes: bool = True) -> np.ndarray:
    """A copy of ``image`` with boxes, labels, mesh (or 68 points) and pose axes drawn."""
    from .draw import draw_faces

    out = draw_faces(image, analysis.faces, labels=[labels(r) or f"{s:.2f}" for r, s in zip(analysis.results, analysis.faces.scores)])
    for res, width in zip(analysis.results, analysis.faces.widths):
        radius = 1 if width < 200 else 2
        if mesh and res.mesh is not None:
            for x, y in res.mesh[:, :2]:
                cv2.circle(out, (int(round(x)), int(round(y))), radius, (255, 255, 255), -1)
        if res.iris is not None:
            for x, y in res.iris[:, :2]:
                cv2.circle(out, (int(round(x)), int(round(y))), radius, (0, 200, 255), -1)
        if axes and res.pose is not None:
            # x (red), y (green), z (blue) axes of the fitted head, 6 cm long, from the nose tip
            ends = project(res.pose, np.array([[0, 0, 0], [6, 0, 0], [0, 6, 0], [0, 0, 6]], np.float64))
            nose = res.mesh[1, :2]
            thick = max(1, int(width / 60))
            for end, colour in zip(ends[1:], ((255, 0, 0), (0, 255, 0), (0, 0, 255))):
                tip = end - ends[0] + nose
                cv2.arrowedLine(out, (int(round(nose[0])), int(round(nose[1]))), (int(round(tip[0])), int(round(tip[1]))),
                                colour, thick, cv2.LINE_AA, tipLength=0.2)
    return out
