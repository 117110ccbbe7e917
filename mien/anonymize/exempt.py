"""Consent exemptions: faces of people who agreed to appear stay visible.

The hook is one method, ``is_exempt(image, faces) -> (N,) bool``. Anonymisation asks it
about every detected face and leaves the ones it returns True for. Anything that answers
the question can plug in: a gallery of enrolled identities, a list of boxes a human
approved, a badge detector.

``EmbeddingExemption`` is the identity-based one: it holds embeddings of reference photos
of the consenting people and exempts a face whose embedding is within a calibrated
distance of any of them. It takes the embedder as a plain function
``embed(image, faces) -> (N, D)``, so any of mien's embedders (or a gallery's) fits.

It fails secure: faces too small to verify reliably are never exempt, and the threshold
should be one the embedder was calibrated at for a low false-match rate, since a false
match shows a stranger's face.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Protocol, runtime_checkable

import numpy as np

from ..errors import InputError, MultipleFacesError, NoFaceError, ShapeError
from ..image import ImageInput, describe, load_image
from ..types import Faces

EmbedFn = Callable[[np.ndarray, Faces], np.ndarray]


@runtime_checkable
class Exemption(Protocol):
    """Decides which faces stay visible."""

    def is_exempt(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        """(len(faces),) bool: True for faces that must NOT be hidden."""


def check_exempt(flags: object, n: int) -> np.ndarray:
    """Validate an exemption's answer: a bool array with one entry per face."""
    arr = np.asarray(flags)
    if arr.shape != (n,) or arr.dtype != bool:
        raise ShapeError("Exemption.is_exempt result", f"({n},) bool", f"{arr.shape} {arr.dtype}")
    return arr


class EmbeddingExemption:
    """Exempt faces whose embedding is within ``threshold`` of a consenting person's.

    ``references``: (M, D) embeddings of the consenting people (several per person is
    fine). ``metric``: "cosine" (distance 1 - cos) or "euclidean". ``min_face``: faces
    shorter than this many pixels are never exempt.
    """

    def __init__(self, embed: EmbedFn, references: np.ndarray, threshold: float,
                 metric: str = "cosine", min_face: float = 40.0) -> None:
        refs = np.asarray(references, np.float32)
        if refs.ndim != 2 or len(refs) == 0:
            raise ShapeError("references", "(M, D) with M >= 1", tuple(refs.shape))
        if metric not in ("cosine", "euclidean"):
            raise InputError(f"unknown metric {metric!r}; known: cosine, euclidean")
        self.embed = embed
        self.references = refs
        self.threshold = float(threshold)
        self.metric = metric
        self.min_face = float(min_face)

    @classmethod
    def from_photos(cls, photos: Iterable[ImageInput], embed: EmbedFn, detect: Callable[[np.ndarray], Faces],
                    threshold: float, **options) -> "EmbeddingExemption":
        """Enrol one reference per photo; each photo must show exactly one face."""
        refs = []
        for photo in photos:
            image = load_image(photo)
            faces = detect(image)
            if len(faces) == 0:
                raise NoFaceError(describe(photo), "a consent reference photo needs one clear face")
            if len(faces) > 1:
                raise MultipleFacesError(describe(photo), len(faces), "a consent reference photo must show only the consenting person")
            refs.append(np.asarray(embed(image, faces), np.float32)[0])
        if not refs:
            raise InputError("no reference photos given for the consent exemption")
        return cls(embed, np.stack(refs), threshold, **options)

    @classmethod
    def from_embedder(cls, photos: Iterable[ImageInput], embedder: Any = "dlib-resnet", detector: Any = None,
                      threshold: float | None = None, fmr: float = 1e-4, min_face: float = 40.0) -> "EmbeddingExemption":
        """Enrol reference photos with one of mien's embedders (a name or an ``Embedder``).

        ``threshold``: the distance at or under which a face counts as a consenting person;
        by default the embedder's calibrated threshold at false-match rate ``fmr`` (from
        ``mien.match``), kept strict because a false match leaves a stranger visible.
        The reference photos are detected at the detector's normal threshold.
        """
        from ..detect import Detector, get_detector
        from ..embed import Embedder, get_embedder

        model = embedder if isinstance(embedder, Embedder) else get_embedder(embedder)
        det = detector if isinstance(detector, Detector) else get_detector(*([detector] if detector else []))
        if threshold is None:
            try:
                from ..match.calibration import load_calibration
            except ImportError:
                raise InputError("no calibrated threshold is available in this install; pass threshold=") from None
            threshold = load_calibration(model.model_id).threshold_for(fmr)

        def embed(image: np.ndarray, faces: Faces) -> np.ndarray:
            return model.embed_faces(image, faces).vectors

        return cls.from_photos(photos, embed, det.detect, threshold, metric=model.info.metric, min_face=min_face)

    def distances(self, embeddings: np.ndarray) -> np.ndarray:
        """(N,) distance from each embedding to its nearest reference."""
        e = np.asarray(embeddings, np.float32)
        if e.ndim != 2 or e.shape[1] != self.references.shape[1]:
            raise ShapeError("embeddings", f"(N, {self.references.shape[1]})", tuple(e.shape))
        if self.metric == "cosine":
            a = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
            b = self.references / np.maximum(np.linalg.norm(self.references, axis=1, keepdims=True), 1e-12)
            return (1.0 - a @ b.T).min(axis=1)
        return np.linalg.norm(e[:, None, :] - self.references[None, :, :], axis=2).min(axis=1)

    def is_exempt(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        out = np.zeros(len(faces), bool)
        eligible = np.flatnonzero(faces.heights >= self.min_face)
        if len(eligible):
            out[eligible] = self.distances(self.embed(image, faces[eligible])) <= self.threshold
        return out
