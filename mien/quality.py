"""Face image quality for enrolment, in the spirit of ISO/IEC 29794-5 and ICAO 9303.

Each face gets a list of ``Check`` results, one per measure, each with the measured
value, a score in [0, 1] (1 inside the accepted range, falling linearly to 0 one
``margin`` outside it), and pass/fail against ``QualityThresholds`` that callers can
change (``QualityThresholds(max_yaw=5)`` or ``QualityThresholds.icao()``). The face's
overall score is the geometric mean of the check scores; it passes when all checks pass.

Measures (all from the 468-point mesh, computed on demand):

* sharpness: variance of the Laplacian of the face, grey, resampled so the eyes are
  64 px apart (blur and low resolution both lower it);
* exposure: mean luminance of the face skin (0-255) and the share of clipped pixels;
* contrast: standard deviation of the face's luminance;
* face size: distance between the eye centres in pixels (ICAO asks for 90+);
* pose: yaw, pitch, roll from ``mien.landmarks.pose``;
* eyes open: lid gap / eye width (eye aspect ratio), the more closed eye;
* mouth closed: inner-lip gap / mouth width;
* occlusion (heuristic): colour distance (CIE Lab) between the eye region and the
  cheeks (dark glasses), and between the lower face (mouth, chin, cheeks) and the
  forehead (masks, scarves, hands); the larger of the two. Make-up, beards, fringes
  over the forehead and strong shadows raise it too: treat it as a hint, not a verdict.

These are not certified ISO/IEC 29794-5 quality components; thresholds were set on
LFW-style photos (see docs/analysis.md for the measured distributions).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from .attributes.base import check_rgb
from .landmarks.base import Landmarks
from .landmarks.openness import EYES, eye_openness, mouth_opening
from .landmarks.pose import head_pose
from .types import Faces

# Mesh indices of the cheeks, the eyes and the forehead (eye corners and lids: ``landmarks.openness.EYES``).
CHEEKS = (50, 280, 117, 346)
EYE_REGION = (33, 133, 159, 145, 263, 362, 386, 374, 168)
LOWER_FACE = (13, 14, 78, 308, 17, 0, 61, 291, 152, 175, 199, 377, 148, *CHEEKS)
FOREHEAD = (10, 151, 109, 338, 67, 297)


@dataclass(frozen=True)
class QualityThresholds:
    min_sharpness: float = 8.0
    min_brightness: float = 60.0
    max_brightness: float = 200.0
    max_clipped: float = 0.05  # share of face pixels at 0-5 or 250-255
    min_contrast: float = 20.0
    min_eye_distance: float = 40.0  # pixels between the eye centres
    max_yaw: float = 15.0
    max_pitch: float = 15.0
    max_roll: float = 10.0
    min_eye_openness: float = 0.15
    max_mouth_open: float = 0.15
    max_occlusion: float = 36.0  # CIE Lab distance between face regions

    @classmethod
    def icao(cls) -> "QualityThresholds":
        """Stricter settings after ICAO 9303 photo rules (90 px between eyes, near-frontal)."""
        return cls(min_eye_distance=90.0, max_yaw=5.0, max_pitch=5.0, max_roll=8.0, max_mouth_open=0.08)

    def with_(self, **changes: float) -> "QualityThresholds":
        return replace(self, **changes)


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    passed: bool
    score: float
    limit: str  # the rule, e.g. ">= 40" or "60..200"

    def to_dict(self) -> dict[str, Any]:
        return {"value": round(self.value, 3), "passed": self.passed, "score": round(self.score, 3), "limit": self.limit}


@dataclass(frozen=True)
class FaceQuality:
    checks: tuple[Check, ...]
    score: float
    passed: bool
    failed: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 3), "passed": self.passed, "failed": list(self.failed),
                "checks": {c.name: c.to_dict() for c in self.checks}}


def _check(name: str, value: float, lo: float | None, hi: float | None, margin: float) -> Check:
    below = (lo - value) if lo is not None and value < lo else 0.0
    above = (value - hi) if hi is not None and value > hi else 0.0
    score = float(np.clip(1.0 - max(below, above) / margin, 0.0, 1.0))
    limit = f"{lo:g}..{hi:g}" if lo is not None and hi is not None else (f">= {lo:g}" if lo is not None else f"<= {hi:g}")
    return Check(name, float(value), below == 0 and above == 0, score, limit)


def _eye_centres(pts: np.ndarray) -> np.ndarray:
    return np.array([(pts[a, :2] + pts[b, :2]) / 2 for (a, b), _ in EYES])


def _face_crop(image: np.ndarray, pts: np.ndarray, eye_px: float = 64.0) -> tuple[np.ndarray, np.ndarray]:
    """Grey and RGB crop of the face, rotated level and scaled so the eyes are ``eye_px`` apart."""
    left, right = _eye_centres(pts)
    d = right - left
    dist = float(np.hypot(*d)) or 1.0
    scale = eye_px / dist
    angle = np.degrees(np.arctan2(d[1], d[0]))
    centre = pts[:, :2].mean(0)
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    size = int(eye_px * 2.6)
    m[:, 2] += size / 2 - centre
    rgb = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    hull = cv2.convexHull((pts[:, :2] @ m[:, :2].T + m[:, 2]).astype(np.int32))
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    return rgb, mask.astype(bool)


def _region_lab(lab: np.ndarray, pts: np.ndarray, idx: tuple[int, ...], radius: int) -> np.ndarray:
    h, w = lab.shape[:2]
    samples = []
    for i in idx:
        x, y = int(round(pts[i, 0])), int(round(pts[i, 1]))
        patch = lab[max(0, y - radius):min(h, y + radius + 1), max(0, x - radius):min(w, x + radius + 1)]
        if patch.size:
            samples.append(patch.reshape(-1, 3))
    return np.concatenate(samples).mean(0) if samples else np.zeros(3)


def face_quality(image: np.ndarray, mesh_points: np.ndarray, thresholds: QualityThresholds | None = None) -> FaceQuality:
    """Quality of one face from the image and its (468, 3) mesh points."""
    t = thresholds or QualityThresholds()
    pts = np.asarray(mesh_points, np.float64)
    rgb, mask = _face_crop(image, pts)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    skin = grey[mask] if mask.any() else grey.ravel()
    sharp = float(cv2.Laplacian(grey, cv2.CV_64F)[mask].var()) if mask.any() else 0.0
    clipped = float(((skin <= 5) | (skin >= 250)).mean())
    eyes = _eye_centres(pts)
    eye_dist = float(np.linalg.norm(eyes[1] - eyes[0]))
    pose = head_pose(pts)
    openness = min(eye_openness(pts))
    mouth = mouth_opening(pts)
    radius = max(1, int(eye_dist * 0.06))
    x0, y0 = np.maximum(np.floor(pts[:, :2].min(0)) - radius, 0).astype(int)
    x1, y1 = np.ceil(pts[:, :2].max(0)).astype(int) + radius + 1
    lab = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    local = pts[:, :2] - (x0, y0)
    # dark glasses: eyes unlike the cheeks; masks, scarves, hands: lower face unlike the forehead
    occlusion = max(
        float(np.linalg.norm(_region_lab(lab, local, EYE_REGION, radius) - _region_lab(lab, local, CHEEKS, radius))),
        float(np.linalg.norm(_region_lab(lab, local, LOWER_FACE, radius) - _region_lab(lab, local, FOREHEAD, radius))),
    )
    checks = (
        _check("sharpness", sharp, t.min_sharpness, None, t.min_sharpness),
        _check("brightness", float(skin.mean()), t.min_brightness, t.max_brightness, 40.0),
        _check("clipped", clipped, None, t.max_clipped, 0.1),
        _check("contrast", float(skin.std()), t.min_contrast, None, t.min_contrast),
        _check("eye_distance", eye_dist, t.min_eye_distance, None, t.min_eye_distance / 2),
        _check("yaw", abs(pose.yaw), None, t.max_yaw, 20.0),
        _check("pitch", abs(pose.pitch), None, t.max_pitch, 20.0),
        _check("roll", abs(pose.roll), None, t.max_roll, 15.0),
        _check("eyes_open", float(openness), t.min_eye_openness, None, t.min_eye_openness),
        _check("mouth_closed", float(mouth), None, t.max_mouth_open, 0.2),
        _check("occlusion", occlusion, None, t.max_occlusion, 20.0),
    )
    score = float(np.exp(np.mean(np.log(np.maximum([c.score for c in checks], 1e-3)))))
    failed = tuple(c.name for c in checks if not c.passed)
    return FaceQuality(checks, score, not failed, failed)


def assess(image: np.ndarray, faces: Faces, thresholds: QualityThresholds | None = None,
           mesh: Landmarks | None = None) -> list[FaceQuality]:
    """Quality of every face; runs the face mesh unless ``mesh`` is given."""
    check_rgb(image)
    if mesh is None:
        from .landmarks.mesh import FaceMesh

        mesh = FaceMesh().predict(image, faces)
    return [face_quality(image, p, thresholds) for p in mesh.points]


def thresholds_from_dict(values: dict[str, float], base: QualityThresholds | None = None) -> QualityThresholds:
    """Thresholds with some fields changed; unknown names raise ``InputError``."""
    from .errors import InputError

    base = base or QualityThresholds()
    known = asdict(base)
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InputError(f"unknown quality threshold(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return replace(base, **{k: float(v) for k, v in values.items()})
