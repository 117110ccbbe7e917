"""The embedder contract and the ``Embeddings`` value every embedder returns.

An embedder turns aligned face crops into fixed-length vectors. Each result is tagged
with the id of the model that made it (plus ``+flip`` or ``+jitter8`` when test-time
augmentation was used, which shifts the score distribution: ``mien.embed.tta``), and
with the metric the model is compared by; comparing embeddings of two different ids raises
``EmbeddingMismatchError`` instead of returning a meaningless number.

Subclasses set ``info`` and implement ``_forward(crops) -> (N, D) float32`` on a batch of
RGB uint8 crops of ``info.input_size``; they may override ``align`` when the model wants
a crop other than ``align_faces(image, faces, template=info.template)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import EmbeddingMismatchError, InputError, ShapeError
from ..types import AlignedFaces, Faces
from .tta import DEFAULT_JITTERS, apply_view, check_tta, tta_suffix, view_matrices

METRICS = ("euclidean", "cosine")


@dataclass(frozen=True, eq=False)
class Embeddings:
    """Face descriptors (N, D) float32, tagged with the model id and its metric.

    ``spread`` (N,), with test-time augmentation only: how far each face's views' vectors
    lie from their mean, in the model's metric (``view_spread``). A face whose embedding
    moves when it is mirrored or shifted a little is one the model is unsure of: on LFW,
    setting aside the pairs with the largest spread removes false non-matches faster
    than any of mien's image quality checks (docs/recognition.md, "Which faces fail").
    """

    vectors: np.ndarray
    model: str
    metric: str = "cosine"
    spread: np.ndarray | None = None

    def __post_init__(self) -> None:
        vectors = np.asarray(self.vectors, np.float32)
        if vectors.ndim == 1:
            vectors = vectors[None]
        if vectors.ndim != 2:
            raise ShapeError("vectors", "(N, D)", tuple(vectors.shape))
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        object.__setattr__(self, "vectors", vectors)
        if self.spread is not None:
            spread = np.asarray(self.spread, np.float32).reshape(-1)
            if len(spread) != len(vectors):
                raise ShapeError("spread", f"({len(vectors)},)", tuple(spread.shape))
            object.__setattr__(self, "spread", spread)

    def __len__(self) -> int:
        return len(self.vectors)

    def __getitem__(self, index: Any) -> "Embeddings":
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Embeddings(self.vectors[index], self.model, self.metric,
                          None if self.spread is None else self.spread[index])

    def __repr__(self) -> str:
        return f"Embeddings(n={len(self)}, dim={self.dim}, model={self.model!r}, metric={self.metric!r})"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def check_comparable(self, other: "Embeddings") -> None:
        if self.model != other.model or self.dim != other.dim:
            raise EmbeddingMismatchError(
                f"cannot compare embeddings of {self.model!r} ({self.dim}-D) with {other.model!r} ({other.dim}-D); "
                "embed both faces with the same model"
            )

    def distances(self, other: "Embeddings") -> np.ndarray:
        """Pairwise distances (len(self), len(other)) in this model's metric (lower = more alike)."""
        self.check_comparable(other)
        return pairwise_distances(self.vectors, other.vectors, self.metric)

    def to_list(self, decimals: int = 6) -> list[list[float]]:
        return np.round(self.vectors.astype(np.float64), decimals).tolist()

    @classmethod
    def concat(cls, parts: Sequence["Embeddings"]) -> "Embeddings":
        parts = list(parts)
        if not parts:
            raise ValueError("concat needs at least one Embeddings")
        for p in parts[1:]:
            parts[0].check_comparable(p)
        spread = None if any(p.spread is None for p in parts) else np.concatenate([p.spread for p in parts])
        return cls(np.concatenate([p.vectors for p in parts]), parts[0].model, parts[0].metric, spread)


def view_spread(views: np.ndarray, metric: str) -> np.ndarray:
    """(N,) mean distance, in ``metric``, of each face's (N, V, D) view vectors to their mean."""
    views = np.asarray(views, np.float64)
    mean = views.mean(axis=1, keepdims=True)
    if metric == "cosine":
        return 1.0 - (l2_normalize(views) * l2_normalize(mean)).sum(axis=2).mean(axis=1)
    return np.linalg.norm(views - mean, axis=2).mean(axis=1)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def pairwise_distances(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if metric == "cosine":
        return 1.0 - l2_normalize(a) @ l2_normalize(b).T
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(sq, 0.0, None))


def paired_distances(a: np.ndarray, b: np.ndarray, metric: str) -> np.ndarray:
    """Distance between row i of ``a`` and row i of ``b``."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if metric == "cosine":
        return 1.0 - (l2_normalize(a) * l2_normalize(b)).sum(1)
    return np.linalg.norm(a - b, axis=1)


@dataclass(frozen=True)
class EmbedderInfo:
    name: str  # the embedder's id, used to tag its embeddings
    models: tuple[str, ...]  # registry names of the weight files it loads
    dim: int
    input_size: tuple[int, int]  # (width, height) of the crop
    template: str  # alignment template passed to mien.align.align_faces
    metric: str  # "euclidean" or "cosine"
    description: str


class Embedder(ABC):
    """Base class: ``embed(crops) -> Embeddings``; ``embed_faces(image, faces)`` aligns first."""

    info: EmbedderInfo

    def __init__(self, batch_size: int = 32, flip: bool = False, tta: str | None = None,
                 jitters: int = DEFAULT_JITTERS) -> None:
        """``tta``: "none", "flip" or "jitter" (``jitters`` views), see ``mien.embed.tta``;
        ``flip=True`` is the older spelling of ``tta="flip"``."""
        if flip and tta not in (None, "flip"):
            raise InputError(f"flip=True contradicts tta={tta!r}; pass one of them")
        self.batch_size = int(batch_size)
        self.tta = tta or ("flip" if flip else "none")
        check_tta(self.tta, jitters)
        self.jitters = int(jitters)  # views of the "jitter" level
        self._views: np.ndarray | None = None

    @property
    def flip(self) -> bool:
        return self.tta == "flip"

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def model_id(self) -> str:
        """The tag of this embedder's output: its name, plus ``+flip`` / ``+jitter8`` with TTA."""
        return self.info.name + tta_suffix(self.tta, self.jitters)

    @property
    def views(self) -> np.ndarray:
        """(V, 2, 3) crop->view affines of the TTA level (V = 1 without TTA)."""
        if self._views is None:
            self._views = view_matrices(self.tta, self.jitters, self.info.input_size)
        return self._views

    @abstractmethod
    def _forward(self, crops: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB crops of ``info.input_size`` -> (N, D) float32."""

    def align(self, image: np.ndarray, faces: Faces) -> AlignedFaces:
        from ..align import align_faces

        return align_faces(image, faces, template=self.info.template)

    def embed_views(self, crops: AlignedFaces | np.ndarray) -> np.ndarray:
        """(N, V, D) float32: the network's vector for each TTA view of each crop."""
        arr = crops.crops if isinstance(crops, AlignedFaces) else np.asarray(crops)
        w, h = self.info.input_size
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4 or arr.shape[1:] != (h, w, 3) or arr.dtype != np.uint8:
            raise ShapeError("crops", f"(N, {h}, {w}, 3) uint8 for {self.name}", f"{arr.shape} {arr.dtype}")
        views = self.views
        out = np.zeros((len(arr), len(views), self.info.dim), np.float32)
        for start in range(0, len(arr), self.batch_size):
            batch = arr[start : start + self.batch_size]
            for v, matrix in enumerate(views):
                out[start : start + len(batch), v] = self._forward(apply_view(batch, matrix))
        return out

    def embed(self, crops: AlignedFaces | np.ndarray) -> Embeddings:
        """Embed aligned crops in batches; with TTA, the mean of the views' vectors and their spread."""
        views = self.embed_views(crops)
        spread = view_spread(views, self.info.metric) if views.shape[1] > 1 else None
        return Embeddings(views.mean(axis=1), self.model_id, self.info.metric, spread)

    def embed_faces(self, image: np.ndarray, faces: Faces) -> Embeddings:
        """Align ``faces`` found in ``image`` and embed them (one row per face)."""
        if not len(faces):
            return Embeddings(np.zeros((0, self.info.dim), np.float32), self.model_id, self.info.metric)
        return self.embed(self.align(image, faces))

    def __call__(self, crops: AlignedFaces | np.ndarray) -> Embeddings:
        return self.embed(crops)
