"""The central value types of mien.

``Faces`` is a struct of arrays, one row per face, in the spirit of supervision's
``Detections``: it filters by index or boolean mask, can be empty, concatenates and
serialises to the JSON shape every CLI command and HTTP endpoint shares::

    {"box": [x1, y1, x2, y2], "score": s, "landmarks": [[x, y], ...], ...extras}

Coordinates are pixels of the image the faces were found in, as float32.
Landmark order for the 5-point set: right eye, left eye (from the viewer: the eye on
the image's left first), nose tip, mouth right, mouth left — the ArcFace/InsightFace order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from .errors import ShapeError

LANDMARK_NAMES_5 = ("eye_1", "eye_2", "nose", "mouth_1", "mouth_2")


def _as_float_array(name: str, value: Any, shape_tail: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float32)
    if arr.size == 0:
        arr = arr.reshape((0, *shape_tail))
    if arr.ndim != 1 + len(shape_tail) or arr.shape[1:] != shape_tail:
        expected = "(N" + "".join(f", {d}" for d in shape_tail) + ")"
        raise ShapeError(name, expected, tuple(arr.shape))
    return arr


@dataclass(frozen=True, eq=False)
class Faces:
    """Faces found in one image: boxes, scores, optional 5-point landmarks and extras.

    ``extras`` maps a name to an array whose first axis has one row per face (for
    example ``"track_id"`` or ``"landmarks_68"``). Indexing returns a new ``Faces``.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray | None = None
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        boxes = _as_float_array("boxes", self.boxes, (4,))
        scores = _as_float_array("scores", self.scores, ())
        if len(scores) != len(boxes):
            raise ShapeError("scores", f"({len(boxes)},) to match boxes", tuple(scores.shape))
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        if self.landmarks is not None:
            lms = np.asarray(self.landmarks, dtype=np.float32)
            if lms.size == 0:
                lms = lms.reshape((0, 5, 2))
            if lms.ndim != 3 or lms.shape[0] != len(boxes) or lms.shape[2] != 2:
                raise ShapeError("landmarks", f"({len(boxes)}, K, 2)", tuple(lms.shape))
            object.__setattr__(self, "landmarks", lms)
        extras = {}
        for key, value in dict(self.extras).items():
            arr = np.asarray(value)
            if arr.ndim == 0 or arr.shape[0] != len(boxes):
                raise ShapeError(f"extras[{key!r}]", f"first axis of length {len(boxes)}", tuple(arr.shape))
            extras[key] = arr
        object.__setattr__(self, "extras", extras)

    # -- construction -------------------------------------------------------------
    @classmethod
    def empty(cls, with_landmarks: bool = True) -> "Faces":
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros((0,), np.float32),
            np.zeros((0, 5, 2), np.float32) if with_landmarks else None,
        )

    @classmethod
    def concat(cls, parts: Sequence["Faces"]) -> "Faces":
        parts = list(parts)
        if not parts:
            return cls.empty()
        keep_lms = all(p.landmarks is not None for p in parts)
        keys = set.intersection(*(set(p.extras) for p in parts))
        return cls(
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.landmarks for p in parts]) if keep_lms else None,
            {k: np.concatenate([p.extras[k] for p in parts]) for k in keys},
        )

    # -- container protocol -------------------------------------------------------
    def __len__(self) -> int:
        return len(self.boxes)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, index: Any) -> "Faces":
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Faces(
            self.boxes[index],
            self.scores[index],
            None if self.landmarks is None else self.landmarks[index],
            {k: v[index] for k, v in self.extras.items()},
        )

    def __iter__(self) -> Iterator["Faces"]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        extras = f", extras={sorted(self.extras)}" if self.extras else ""
        return f"Faces(n={len(self)}, landmarks={self.landmarks is not None}{extras})"

    # -- geometry -----------------------------------------------------------------
    @property
    def widths(self) -> np.ndarray:
        return self.boxes[:, 2] - self.boxes[:, 0]

    @property
    def heights(self) -> np.ndarray:
        return self.boxes[:, 3] - self.boxes[:, 1]

    @property
    def areas(self) -> np.ndarray:
        return np.clip(self.widths, 0, None) * np.clip(self.heights, 0, None)

    def largest(self) -> "Faces":
        """The single largest face by box area (empty stays empty)."""
        if not len(self):
            return self
        return self[int(np.argmax(self.areas))]

    def sorted(self, by: str = "score") -> "Faces":
        """Faces ordered by descending ``score`` or ``area``."""
        key = {"score": self.scores, "area": self.areas}[by]
        return self[np.argsort(-key, kind="stable")]

    def with_extras(self, **extras: Any) -> "Faces":
        """A copy with more per-face arrays attached."""
        return Faces(self.boxes, self.scores, self.landmarks, {**self.extras, **extras})

    def scaled(self, factor: float, offset: tuple[float, float] = (0.0, 0.0)) -> "Faces":
        """Coordinates multiplied by ``factor`` then shifted by ``offset`` (x, y)."""
        off = np.asarray(offset, np.float32)
        return Faces(
            self.boxes * factor + np.tile(off, 2),
            self.scores,
            None if self.landmarks is None else self.landmarks * factor + off,
            self.extras,
        )

    # -- serialisation ------------------------------------------------------------
    def to_list(self, decimals: int = 2) -> list[dict[str, Any]]:
        """One JSON-ready dict per face: box, score, landmarks, then extras."""
        out = []
        for i in range(len(self)):
            face: dict[str, Any] = {
                "box": [round(float(v), decimals) for v in self.boxes[i]],
                "score": round(float(self.scores[i]), 4),
            }
            if self.landmarks is not None:
                face["landmarks"] = [[round(float(x), decimals), round(float(y), decimals)] for x, y in self.landmarks[i]]
            for key, value in self.extras.items():
                face[key] = _jsonable(value[i])
            out.append(face)
        return out

    @classmethod
    def from_list(cls, items: Sequence[Mapping[str, Any]]) -> "Faces":
        if not items:
            return cls.empty()
        has_lms = all("landmarks" in it for it in items)
        extra_keys = set(items[0]) - {"box", "score", "landmarks"}
        return cls(
            np.array([it["box"] for it in items], np.float32),
            np.array([it["score"] for it in items], np.float32),
            np.array([it["landmarks"] for it in items], np.float32) if has_lms else None,
            {k: np.array([it[k] for it in items]) for k in extra_keys},
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True, eq=False)
class AlignedFaces:
    """Face crops cut by a similarity transform, with the matrices to paste them back.

    ``matrices[i]`` is the 2x3 affine that maps image pixels to crop ``i``'s pixels;
    ``inverse_matrices`` maps crop pixels back into the image.
    """

    crops: np.ndarray  # (N, H, W, 3) uint8 RGB
    matrices: np.ndarray  # (N, 2, 3) float64
    template: str
    faces: Faces

    def __post_init__(self) -> None:
        crops = np.asarray(self.crops)
        if crops.ndim != 4 or crops.shape[-1] != 3 or crops.dtype != np.uint8:
            raise ShapeError("crops", "(N, H, W, 3) uint8", f"{crops.shape} {crops.dtype}")
        mats = np.asarray(self.matrices, np.float64)
        if mats.shape != (len(crops), 2, 3):
            raise ShapeError("matrices", f"({len(crops)}, 2, 3)", tuple(mats.shape))
        object.__setattr__(self, "crops", crops)
        object.__setattr__(self, "matrices", mats)

    def __len__(self) -> int:
        return len(self.crops)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of each crop."""
        return int(self.crops.shape[2]), int(self.crops.shape[1])

    @property
    def inverse_matrices(self) -> np.ndarray:
        out = np.empty_like(self.matrices)
        for i, m in enumerate(self.matrices):
            a = m[:, :2]
            inv = np.linalg.inv(a)
            out[i, :, :2] = inv
            out[i, :, 2] = -inv @ m[:, 2]
        return out
