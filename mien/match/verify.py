"""1:1 verification: are two faces the same person, at a calibrated false-match rate?

    >>> from mien.match import verify_images
    >>> result = verify_images("a.jpg", "b.jpg", fmr=1e-3)
    >>> result.same, result.distance, result.threshold, result.fmr

The threshold comes from a calibration (the user's own from ``mien calibrate``, else the
one mien ships, measured on LFW) at the requested target FMR; the result says which.
With a ``cohort`` (``mien.match.cohort``) the pair's distance is normalised against it and
the threshold applies to ``normalized_distance``, from the calibration fitted with that cohort.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..embed import Embedder, Embeddings, get_embedder
from ..embed.base import l2_normalize
from ..image import load_image
from ..types import Faces
from .calibration import load_calibration
from .cohort import Cohort
from .faces import REFINE_SCALE, one_face, recognition_detector

DEFAULT_FMR = 1e-3


@dataclass(frozen=True)
class Verification:
    """The answer of one comparison, with the operating point that produced it."""

    same: bool
    distance: float  # in the model's metric; lower = more alike
    similarity: float  # cosine similarity of the two vectors
    threshold: float  # accepted as the same person when distance <= threshold
    fmr: float  # estimated false-match rate at that threshold
    target_fmr: float | None  # the FMR asked for (None when a raw threshold was given)
    model: str
    metric: str
    calibration: str  # where the threshold came from
    normalized_distance: float | None = None  # with a cohort: the AS-norm score, compared with the threshold
    score_model: str | None = None  # with a cohort: the id its calibration is kept under
    spread_a: float | None = None  # with TTA: each face's Embeddings.spread (larger: less sure)
    spread_b: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("distance", "similarity", "threshold", "normalized_distance", "spread_a", "spread_b"):
            if d[key] is not None:
                d[key] = round(d[key], 6)
        return d


def verify(
    a: Embeddings,
    b: Embeddings,
    fmr: float = DEFAULT_FMR,
    threshold: float | None = None,
    calibration: str | None = None,
    cohort: Cohort | None = None,
) -> Verification:
    """Compare one embedding with another at target ``fmr`` (or a raw ``threshold``).

    With ``cohort`` the decision uses the AS-norm distance and the calibration kept under
    ``cohort.score_model`` (``mien calibrate --cohort``); ``threshold`` is then in those units.
    """
    for name, e in (("a", a), ("b", b)):
        if len(e) != 1:
            raise ShapeError(name, "Embeddings of one face", f"{len(e)} faces")
    distance = float(a.distances(b)[0, 0])
    similarity = float((l2_normalize(a.vectors.astype(np.float64)) * l2_normalize(b.vectors.astype(np.float64))).sum())
    normalized, score_model, score = None, None, distance
    if cohort is not None:
        cohort.check(a.model)
        normalized = score = float(cohort.normalized_distances(a.vectors, b.vectors)[0])
        score_model = cohort.score_model
    cal = load_calibration(score_model or a.model, calibration)
    if threshold is None:
        threshold = cal.threshold_for(fmr)
        target: float | None = fmr
    else:
        target = None
    return Verification(
        same=bool(score <= threshold),
        distance=distance,
        similarity=similarity,
        threshold=float(threshold),
        fmr=cal.estimated_fmr(threshold),
        target_fmr=target,
        model=a.model,
        metric=a.metric,
        calibration=cal.source,
        normalized_distance=normalized,
        score_model=score_model,
        spread_a=None if a.spread is None else float(a.spread[0]),
        spread_b=None if b.spread is None else float(b.spread[0]),
    )


def embed_image(
    image: Any,
    embedder: Embedder | str | None = None,
    detector: Any = None,
    largest: bool = False,
    source: str | None = None,
    refine: float | None = REFINE_SCALE,
) -> Embeddings:
    """The embedding of the one face in ``image`` (path, bytes, array or PIL image).

    ``refine``: landmarks averaged with a detection at this fraction of the size
    (``mien.match.faces.refine_landmarks``; None skips that pass: faster, less accurate).
    """
    return embed_located(image, embedder, detector, largest, source, refine)[0]


def embed_located(
    image: Any,
    embedder: Embedder | str | None = None,
    detector: Any = None,
    largest: bool = False,
    source: str | None = None,
    refine: float | None = REFINE_SCALE,
) -> tuple[Embeddings, np.ndarray, Faces]:
    """``embed_image``, plus the decoded RGB pixels and the face it embedded, for callers that
    also run other models on that face (``mien cohort --balance-gender``)."""
    model, detector = _resolve(embedder, detector)
    label = source or (str(image) if isinstance(image, (str, os.PathLike)) else "the image")
    pixels = load_image(image)
    face = one_face(pixels, detector, label, largest, refine)
    return model.embed_faces(pixels, face), pixels, face


def verify_images(
    a: Any,
    b: Any,
    fmr: float = DEFAULT_FMR,
    embedder: Embedder | str | None = None,
    detector: Any = None,
    largest: bool = False,
    threshold: float | None = None,
    calibration: str | None = None,
    refine: float | None = REFINE_SCALE,
    cohort: Cohort | None = None,
) -> Verification:
    """Detect, align and embed the one face in each image, then ``verify``."""
    model, detector = _resolve(embedder, detector)
    if cohort is not None:
        cohort.check(model.model_id)  # before the work of embedding
    ea = embed_image(a, model, detector, largest, refine=refine)
    eb = embed_image(b, model, detector, largest, refine=refine)
    return verify(ea, eb, fmr=fmr, threshold=threshold, calibration=calibration, cohort=cohort)


def _resolve(embedder: Embedder | str | None, detector: Any) -> tuple[Embedder, Any]:
    """Embedder and detector objects from objects, names or None (the defaults)."""
    from ..embed import DEFAULT_EMBEDDER

    if embedder is None or isinstance(embedder, str):
        embedder = get_embedder(embedder or DEFAULT_EMBEDDER)
    if detector is None or isinstance(detector, str):
        detector = recognition_detector(detector)
    return embedder, detector
