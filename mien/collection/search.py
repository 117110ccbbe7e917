"""Search a collection by face: every photo with this person, nearest first.

The probe's face (exactly one, or the largest with ``largest=True``) is embedded with the
store's model, the store returns its nearest faces, and every face within the model's
calibrated 1:1 threshold at ``fmr`` counts as a hit; each photo is listed once, at its
nearest face. Over a collection of N faces about ``fmr * N`` strangers pass the threshold
by chance, which ``SearchResult.expected_false`` states, so callers pick ``fmr`` for
their collection's size (default 1e-4: ~10 chance hits per 100,000 faces).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from .store import FaceStore
from .types import PhotoHit

DEFAULT_FMR = 1e-4
MAX_NEIGHBOURS = 10_000


@dataclass(frozen=True)
class SearchResult:
    model: str
    fmr: float
    threshold: float
    faces_searched: int
    expected_false: float
    hits: tuple[PhotoHit, ...]
    truncated: bool  # the neighbour limit was reached: more photos may pass the threshold

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "fmr": self.fmr, "threshold": round(self.threshold, 4),
                "faces_searched": self.faces_searched, "expected_false": round(self.expected_false, 3),
                "photos": len(self.hits), "truncated": self.truncated, "hits": [h.to_dict() for h in self.hits]}


def search_face(store: FaceStore, probe: Any, fmr: float = DEFAULT_FMR, limit: int = 1000, *,
                largest: bool = False, embedder: Any = None, detector: Any = None) -> SearchResult:
    """Photos in ``store`` with the person in ``probe`` (an image, a path or a (D,) embedding).

    ``embedder`` / ``detector``: already-loaded models to use (a service shares its own);
    by default the store's model and recognition's detector are loaded for this call."""
    model = store.model
    if model is None:
        raise InputError(f"the collection at {store.url} is empty: index photos into it first (mien index)")
    vector = _probe_vector(probe, model, largest, embedder, detector)
    return search_vector(store, vector, fmr, limit)


def search_vector(store: FaceStore, vector: np.ndarray, fmr: float = DEFAULT_FMR, limit: int = 1000) -> SearchResult:
    from ..match.calibration import load_calibration

    if not 0 < fmr < 1:
        raise InputError(f"fmr must be in (0, 1), got {fmr}")
    if limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    model = store.model or ""
    threshold = load_calibration(model).threshold_for(fmr)
    counts = store.counts()
    k = min(MAX_NEIGHBOURS, max(limit * 4, 64))
    near = [(f, d) for f, d in store.search(vector, k) if d <= threshold]
    truncated = len(near) == k
    faces = {f.id: f for f in store.faces([f for f, _ in near])}
    assignment, _ = store.people()
    seen: dict[str, PhotoHit] = {}
    for face_id, distance in near:
        face = faces.get(face_id)
        if face is None or face.image in seen:
            continue
        seen[face.image] = PhotoHit(face.image, face.path, face_id, distance, face.box, assignment.get(face_id))
        if len(seen) == limit:
            truncated = truncated or len(near) > len(seen)
            break
    return SearchResult(model, fmr, threshold, counts["faces"], fmr * counts["faces"], tuple(seen.values()), truncated)


def _probe_vector(probe: Any, model: str, largest: bool, embedder: Any, detector: Any) -> np.ndarray:
    if isinstance(probe, np.ndarray) and probe.ndim == 1:
        return probe.astype(np.float32)
    from ..embed import get_embedder
    from ..image import describe, load_image
    from ..match.faces import one_face, recognition_detector

    embedder = embedder or get_embedder(model.partition("+")[0])
    if embedder.model_id != model:
        raise InputError(f"the collection holds {model!r} embeddings; this search embeds with {embedder.model_id!r}")
    pixels = load_image(probe)
    face = one_face(pixels, detector or recognition_detector(), describe(probe), largest)
    return embedder.embed_faces(pixels, face).vectors[0]
