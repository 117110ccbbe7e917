"""The stages every engine runs on each image: read, decode, detect, align, embed, assess.

``FacePipeline.process(sources)`` turns a batch of inputs into ``ImageResult`` values (the
faces, or the reason the input failed). It is the one code path of indexing: local worker
processes (``mien.collection.local``) and Ray actors (``mien.collection.ray_engine``) each
hold one pipeline (its models load once, on first use) and call ``process``; only the
driver writes to the store. A bad input becomes a ``Failure`` in its result, never an
exception that stops the batch.

Per face it records the box, the 5 landmarks, cheap quality measures for the clustering
gate (eye distance, sharpness of the aligned crop, yaw from the landmarks, detector score:
no 468-point mesh, which would triple the cost per face), the age the age model reads and,
for faces read as young children, a second embedding from faceres (dlib's space separates
young children poorly; see docs/collection.md).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from ..errors import ImageError, MienError
from .cluster import YOUNG_AGE
from .sources import Source, read_bytes
from .types import FaceQuality, FaceRecord, Failure, ImageResult

VIDEO_MAGIC = (b"\x1aE\xdf\xa3",)  # Matroska/WebM
VIDEO_BRANDS = (b"ftyp",)  # MP4/MOV at offset 4
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".3gp")


@dataclass(frozen=True)
class PipelineOptions:
    model: str = "dlib-resnet"
    detector: str | None = None  # None: recognition's detector (CenterFace at 640 px)
    age: bool = True
    second: str | None = "faceres"  # second opinion for young faces; None to skip
    young_age: float = YOUNG_AGE  # faces read at or under this age get the second embedding
    min_eye_distance: float = 12.0  # pixels
    min_sharpness: float = 6.0  # Laplacian variance of the 150 px aligned grey crop (LFW: 1st percentile ~5.6)
    max_yaw: float = 50.0  # degrees (LFW: 99.5th percentile ~50)
    min_score: float = 0.5


class FacePipeline:
    def __init__(self, options: PipelineOptions = PipelineOptions()) -> None:
        self.options = options
        self._embedder: Any = None
        self._detector: Any = None
        self._age: Any = None
        self._second: Any = None

    # -- models, loaded on first use and kept ---------------------------------------------
    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from ..embed import get_embedder

            self._embedder = get_embedder(self.options.model)
        return self._embedder

    @property
    def detector(self) -> Any:
        if self._detector is None:
            from ..match.faces import recognition_detector

            self._detector = recognition_detector(self.options.detector)
        return self._detector

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    def load(self) -> FacePipeline:
        """Load every model now (workers do this once, before their first batch)."""
        self.embedder, self.detector  # noqa: B018
        if self.options.age:
            self._age_model()
        if self.options.second:
            self._second_model()
        return self

    def _age_model(self) -> Any:
        if self._age is None:
            from ..attributes import get_attribute_model

            self._age = get_attribute_model("age")
        return self._age

    def _second_model(self) -> Any:
        if self._second is None:
            from ..embed import get_embedder

            self._second = get_embedder(self.options.second)
        return self._second

    # -- the stages ---------------------------------------------------------------------------
    def process(self, sources: Sequence[Source], known: Callable[[str], bool] | None = None) -> list[ImageResult]:
        """``known(content_hash)``: whether the store already holds this content; such images
        (a moved or copied file) are read and hashed but not decoded or run through the models."""
        return [self.process_one(s, known) for s in sources]

    def process_one(self, source: Source, known: Callable[[str], bool] | None = None) -> ImageResult:
        base = ImageResult(source.path, source.size, source.mtime_ns)
        try:
            data = read_bytes(source.path)
        except FileNotFoundError:
            return replace(base, failure=Failure(source.path, "missing", "no such file"))
        except OSError as exc:
            return replace(base, failure=Failure(source.path, "unreadable", str(exc.strerror or exc)))
        digest = hashlib.sha256(data).hexdigest()
        base = replace(base, hash=digest, size=len(data) if source.size < 0 else source.size)
        if not data:
            return replace(base, failure=Failure(source.path, "empty", "zero-byte file"))
        if known is not None and known(digest):
            return replace(base, known=True)
        try:
            from ..image import load_image

            pixels = load_image(data)
        except ImageError as exc:
            kind = "video" if _looks_like_video(source.path, data) else _image_failure(str(exc))
            message = re.sub(r"\s*<_io\.BytesIO object at 0x[0-9a-f]+>", "", str(exc))  # not the user's file
            return replace(base, failure=Failure(source.path, kind, message))
        try:
            faces = self.faces(pixels, digest)
        except MienError as exc:  # a model refusing this image (shape, size): the image fails, the job goes on
            return replace(base, failure=Failure(source.path, "unprocessable", str(exc)))
        faces = tuple(replace(f, path=source.path) for f in faces)
        return replace(base, width=int(pixels.shape[1]), height=int(pixels.shape[0]), faces=faces)

    def faces(self, pixels: np.ndarray, digest: str) -> list[FaceRecord]:
        from ..match.faces import detect_with_fallback

        found, _ = detect_with_fallback(pixels, self.detector)
        if not len(found):
            return []
        aligned = self.embedder.align(pixels, found)
        vectors = self.embedder.embed(aligned).vectors
        ages = self._ages(pixels, found)
        seconds = self._seconds(pixels, found, ages)
        out = []
        for i in range(len(found)):
            lms = found.landmarks[i]
            out.append(FaceRecord(
                image=digest, index=i, box=tuple(float(v) for v in found.boxes[i]),
                landmarks=tuple((float(x), float(y)) for x, y in lms[:5]),
                quality=self.quality(lms, aligned.crops[i], float(found.scores[i])),
                age=None if ages is None else ages[i], vector=vectors[i].astype(np.float32),
                model=self.model_id, second=None if seconds is None else seconds[i]))
        return out

    def _ages(self, pixels: np.ndarray, faces: Any) -> list[float] | None:
        if not self.options.age:
            return None
        return [float(p.value) for p in self._age_model().predict(pixels, faces)]

    def _seconds(self, pixels: np.ndarray, faces: Any, ages: list[float] | None) -> list[np.ndarray | None] | None:
        if not self.options.second or ages is None:
            return None
        young = [i for i, a in enumerate(ages) if a <= self.options.young_age]
        out: list[np.ndarray | None] = [None] * len(ages)
        if young:
            model = self._second_model()
            vectors = model.embed_faces(pixels, faces[np.asarray(young)]).vectors
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            for j, i in enumerate(young):
                out[i] = vectors[j].astype(np.float32)
        return out

    def quality(self, landmarks: np.ndarray, crop: np.ndarray, score: float) -> FaceQuality:
        o = self.options
        eye_distance, yaw = landmark_geometry(landmarks)
        grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
        sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
        failed = tuple(name for name, ok in (
            ("face_size", eye_distance >= o.min_eye_distance), ("sharpness", sharpness >= o.min_sharpness),
            ("pose", abs(yaw) <= o.max_yaw), ("detector_score", score >= o.min_score)) if not ok)
        return FaceQuality(eye_distance, sharpness, yaw, score, not failed, failed)


def landmark_geometry(landmarks: np.ndarray) -> tuple[float, float]:
    """Eye distance (px) and an approximate yaw (degrees) from the 5 landmarks.

    Yaw: the nose tip's offset from the eye midpoint along the eye line, over half the eye
    distance. Turning by θ moves the nose by about depth·sin θ while the eyes close up to
    about half-width·cos θ, so the ratio grows as tan θ (nose depth ≈ eye half-width):
    yaw ≈ atan(ratio). On LFW the median face reads 10°, the 99th percentile 44°.
    Approximate, for gating, not for measuring pose.
    """
    pts = np.asarray(landmarks, np.float64)
    eyes = pts[1] - pts[0]
    distance = float(np.hypot(*eyes))
    if distance < 1e-6:
        return 0.0, 90.0
    axis = eyes / distance
    offset = float(np.dot(pts[2] - (pts[0] + pts[1]) / 2, axis))
    return distance, math.degrees(math.atan(offset / (0.5 * distance)))


def _looks_like_video(path: str, data: bytes) -> bool:
    head = data[:16]
    return (path.lower().endswith(VIDEO_SUFFIXES) or head.startswith(VIDEO_MAGIC)
            or head[4:8] in VIDEO_BRANDS or (head[:4] == b"RIFF" and head[8:12] == b"AVI "))


def _image_failure(message: str) -> str:
    text = message.lower()
    if "pixels" in text and ("limit" in text or "large" in text or "exceed" in text):
        return "too-large"
    if "truncated" in text:
        return "truncated"
    return "not-image"
