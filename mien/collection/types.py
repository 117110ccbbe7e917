"""The values a photo collection is made of: face records, image outcomes, reports, people.

A ``FaceRecord`` is one face in one image: where it is (box, 5-point landmarks), how good
it is (``FaceQuality``: the gate clustering uses), what age the age model reads, and its
embedding tagged with the model that made it. Face ids are the image's content hash and
the face's index, so re-indexing an image writes the same ids (idempotent writes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FaceQuality:
    """The cheap quality measures the clustering gate reads (no mesh: indexing stays fast)."""

    eye_distance: float  # pixels between the eye centres
    sharpness: float  # variance of the Laplacian of the aligned grey crop
    yaw: float  # degrees, from the 5 landmarks (nose offset against the eye line); sign: subject's left
    detector_score: float
    passed: bool
    failed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"eye_distance": round(self.eye_distance, 2), "sharpness": round(self.sharpness, 2),
                "yaw": round(self.yaw, 1), "detector_score": round(self.detector_score, 4),
                "passed": self.passed, "failed": list(self.failed)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaceQuality:
        return cls(float(data["eye_distance"]), float(data["sharpness"]), float(data["yaw"]),
                   float(data["detector_score"]), bool(data["passed"]), tuple(data.get("failed", ())))


@dataclass(frozen=True, eq=False)
class FaceRecord:
    image: str  # the image's content hash (sha256 hex)
    index: int  # the face's position among the image's faces
    box: tuple[float, float, float, float]
    landmarks: tuple[tuple[float, float], ...]
    quality: FaceQuality
    age: float | None
    vector: np.ndarray  # (D,) float32
    model: str
    second: np.ndarray | None = None  # the second model's unit vector (faceres) for faces read as young
    path: str | None = None  # where the image was found (the first path seen for this content)

    @property
    def id(self) -> str:
        return face_id(self.image, self.index)

    def to_dict(self, vector: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "image": self.image, "path": self.path, "index": self.index,
            "box": [round(float(v), 2) for v in self.box],
            "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks],
            "quality": self.quality.to_dict(), "age": None if self.age is None else round(float(self.age), 1),
            "model": self.model,
        }
        if vector:
            out["embedding"] = [round(float(v), 6) for v in self.vector]
        return out


def face_id(image: str, index: int) -> str:
    return f"{image[:24]}-{index}"


@dataclass(frozen=True)
class Failure:
    """An input that could not be indexed, and why (``kind``: empty, not-image, unreadable, missing, worker-died)."""

    path: str
    kind: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "kind": self.kind, "message": self.message}


@dataclass(frozen=True, eq=False)
class ImageResult:
    """What the pipeline made of one input: its faces, or the reason it failed."""

    path: str
    size: int
    mtime_ns: int
    hash: str | None = None
    width: int = 0
    height: int = 0
    faces: tuple[FaceRecord, ...] = ()
    failure: Failure | None = None
    known: bool = False  # the content was already indexed (under another path): not processed again


@dataclass(frozen=True)
class IndexReport:
    source: str
    store: str
    engine: str
    workers: int
    seen: int  # inputs found in the source
    skipped: int  # already indexed (same path, size and modification time), not redone
    indexed: int  # images processed and written in this run
    duplicates: int  # processed images whose content was already indexed under another path
    faces: int  # faces written in this run
    failures: tuple[Failure, ...]
    retries: int  # batches re-run after a worker died
    seconds: float
    model: str
    pipeline: Mapping[str, Any] = field(default_factory=dict)  # the other models that ran: {"detector": ..., "age": {"model"}, ...}

    @property
    def images_per_second(self) -> float:
        return self.indexed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for f in self.failures:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        return {"source": self.source, "store": self.store, "engine": self.engine, "workers": self.workers,
                "seen": self.seen, "skipped": self.skipped, "indexed": self.indexed, "duplicates": self.duplicates,
                "faces": self.faces, "failed": len(self.failures), "failed_by_kind": kinds,
                "failures": [f.to_dict() for f in self.failures], "retries": self.retries,
                "seconds": round(self.seconds, 3), "images_per_second": round(self.images_per_second, 3),
                "model": self.model, "pipeline": dict(self.pipeline)}


@dataclass(frozen=True)
class PhotoHit:
    """One photo in which the searched person appears: its best face and the distance to it."""

    image: str
    path: str | None
    face: str
    distance: float
    box: tuple[float, float, float, float]
    person: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"image": self.image, "path": self.path, "face": self.face, "distance": round(self.distance, 4),
                "box": [round(float(v), 2) for v in self.box], "person": self.person}


@dataclass(frozen=True)
class Person:
    """A group of faces the clustering calls one person; ``faces`` representative first."""

    id: int
    name: str | None
    faces: tuple[str, ...]
    images: int
    sheet: str | None = None  # the contact sheet's path, when written

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        faces = self.faces if limit is None else self.faces[:limit]
        return {"id": self.id, "name": self.name, "size": len(self.faces), "images": self.images,
                "faces": list(faces), "sheet": self.sheet}


@dataclass(frozen=True)
class Edit:
    """A user's correction, kept across reruns: merge, split or name, on face ids (clusters renumber)."""

    kind: str  # "merge" | "split" | "name"
    faces: tuple[str, ...]  # merge: all faces of both people; split/name: the faces it is about
    other: tuple[str, ...] = ()  # split: the faces the first set must stay apart from
    name: str | None = None
    at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "faces": list(self.faces), "other": list(self.other), "name": self.name, "at": self.at}
