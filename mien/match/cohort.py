"""Cohort score normalisation (adaptive symmetric normalisation, AS-norm) for 1:1 verification.

Some faces sit close to many others in an embedding space and some far from all, so one raw
distance threshold lets the first kind falsely match often and rejects the second kind's
true matches. AS-norm measures each face against a cohort of faces of *other* people: the
``top_k`` cohort faces nearest to it give a mean and a spread of its impostor scores, and a
pair's score is how many spreads it stands above both faces' impostor means::

    s = -distance(a, b)
    z = ((s - mean_a) / std_a + (s - mean_b) / std_b) / 2

mien reports ``-z`` as the pair's normalised distance, so lower is still more alike and
the calibration machinery (thresholds at target FMRs) works unchanged.

Measured on LFW (docs/recognition.md, ``benchmarks/verification.py --asnorm``): with a
cohort of other people's LFW faces, TAR at FMR 1e-4 over all pairs rises from 68.7% to
85.0% (dlib-resnet, one view) and 76.4% to 88.3% (8 jitter views), and the 10-fold accuracy
of jitter8 from 99.35% to 99.47%. A cohort from another domain (UTKFace) keeps most of the
low-FMR gain but costs 0.10-0.15 points of accuracy: build the cohort from faces like the
ones you verify, of people who are not among them, and as many women as men
(``balanced_subset``: a cohort that is mostly men moved false matches onto women).

A cohort belongs to one embedding id (model and TTA) and normalised scores need their own
thresholds, so the normalised scores get their own id, ``<model>+asnorm-<fingerprint>``,
and ``mien calibrate --cohort`` fits them on labelled pairs.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..atomic import write_atomic
from ..embed.base import l2_normalize
from ..errors import InputError, MienError, StorageError

DEFAULT_TOP_K = 200  # of 50 and 200, the better on LFW with either cohort (docs/recognition.md)
MIN_SPREAD = 1e-6
_FORMAT = 1


@dataclass(frozen=True)
class Cohort:
    """Embeddings of other people's faces, from one embedding id, and how many of them to use."""

    model: str  # embedding id the vectors came from, e.g. "dlib-resnet+jitter8"
    metric: str
    vectors: np.ndarray  # (M, D) float32
    top_k: int = DEFAULT_TOP_K
    source: str = ""  # what the faces were, for the record

    def __post_init__(self) -> None:
        v = np.asarray(self.vectors)
        if v.ndim != 2 or not len(v) or not np.isfinite(v).all():
            raise InputError(f"a cohort needs a non-empty (M, D) array of finite vectors; got shape {v.shape}")
        if not 2 <= self.top_k <= len(v):
            raise InputError(f"cohort of {len(v)} faces cannot give its {self.top_k} nearest (top_k); "
                             f"use more faces or a top_k of at most {len(v)}")
        # Kept ready for scoring: every verify compares two faces with all of them.
        ready = np.asarray(v, np.float64)
        if self.metric == "cosine":
            ready = l2_normalize(ready)
        object.__setattr__(self, "_ready", ready)
        object.__setattr__(self, "_sq_norms", (ready * ready).sum(axis=1))

    @property
    def fingerprint(self) -> str:
        """8 hex digits naming these vectors and top_k: normalised scores depend on both."""
        h = hashlib.sha256(np.ascontiguousarray(self.vectors, np.float32).tobytes())
        h.update(f"{self.top_k}".encode())
        return h.hexdigest()[:8]

    @property
    def score_model(self) -> str:
        """The id of the normalised scores: their calibrations are looked up under it."""
        return f"{self.model}+asnorm-{self.fingerprint}"

    def check(self, model: str) -> None:
        if model != self.model:
            raise InputError(f"the cohort holds {self.model!r} embeddings; these are {model!r} "
                             f"(build a cohort with the same --model and --tta)")

    def impostor_stats(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and spread of each face's ``top_k`` highest scores against the cohort."""
        x = np.atleast_2d(np.asarray(vectors, np.float64))
        if self.metric == "cosine":
            scores = l2_normalize(x) @ self._ready.T - 1.0  # -(cosine distance)
        else:
            sq = (x * x).sum(axis=1)[:, None] + self._sq_norms[None] - 2.0 * x @ self._ready.T
            scores = -np.sqrt(np.clip(sq, 0.0, None))
        top = -np.partition(-scores, self.top_k - 1, axis=1)[:, : self.top_k]
        return top.mean(axis=1), np.maximum(top.std(axis=1), MIN_SPREAD)

    def normalized_distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``-z`` for row i of ``a`` against row i of ``b`` (lower = more alike)."""
        from ..embed.base import paired_distances

        a, b = np.atleast_2d(a), np.atleast_2d(b)
        return as_norm(paired_distances(a, b, self.metric), self.impostor_stats(a), self.impostor_stats(b))


def as_norm(distance: np.ndarray, stats_a: tuple[np.ndarray, np.ndarray],
            stats_b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Normalised distance ``-z`` from raw distances and each side's (mean, spread) of cohort
    scores; arrays broadcast, so a (N, 1) and a (1, M) side give a whole (N, M) matrix."""
    (ma, sa), (mb, sb) = stats_a, stats_b
    score = -np.asarray(distance, np.float64)
    return -0.5 * ((score - ma) / sa + (score - mb) / sb)


def build_cohort(images: Iterable[Any], embed_one: Callable[[Any], Any], top_k: int = DEFAULT_TOP_K,
                 source: str = "", balance_by: str | None = None) -> tuple[Cohort, list[tuple[str, str]]]:
    """A cohort from the largest face of each image; ``embed_one(image) -> Embeddings`` of one face.

    ``balance_by`` names a label (e.g. "estimated gender (dlib-gender)"): ``embed_one`` then
    returns ``(Embeddings, label)`` and the cohort keeps every label equally often
    (``balanced_subset``), saying so in its ``source``. ``top_k`` is checked on the final set.
    Returns the cohort and (image, reason) for each image skipped (no face, unreadable).
    """
    vectors, labels, skipped, model, metric = [], [], [], None, None
    for image in images:
        try:
            out = embed_one(image)
        except InputError as exc:  # no face, unreadable file: the cohort does without it
            skipped.append((str(image), str(exc)))
            continue
        emb, label = out if balance_by is not None else (out, None)
        model, metric = emb.model, emb.metric
        vectors.append(emb.vectors[0])
        labels.append(str(label))
    if model is None:
        raise InputError(f"no face found in any of the {len(skipped)} cohort images")
    vectors = np.asarray(vectors, np.float32)
    if balance_by is not None:
        keep = balanced_subset(labels)
        counts = Counter(labels[i] for i in keep)
        source += f"; balanced by {balance_by}: " + ", ".join(f"{n} {g}" for g, n in sorted(counts.items()))
        vectors = vectors[keep]
    return Cohort(model, metric, vectors, top_k, source), skipped


def balanced_subset(labels: Sequence[str], seed: int = 0) -> np.ndarray:
    """Indices that keep every label equally often (as often as the rarest), drawn at random.

    A cohort that is mostly of one group normalises the other group's faces against
    look-alikes it barely contains, and moves false matches onto that group: on LFW (75%
    of faces estimated male) an unbalanced cohort gave women 2.6x men's FMR at FMR 1e-3 where
    a gender-balanced one gave 1.1x (docs/fairness/README.md).
    """
    labels = np.asarray(labels)
    groups = {g: np.flatnonzero(labels == g) for g in np.unique(labels)}
    if len(groups) < 2:
        raise InputError(f"cannot balance a cohort with one group only ({', '.join(map(str, groups)) or 'none'})")
    rng = np.random.default_rng(seed)
    size = min(len(i) for i in groups.values())
    return np.sort(np.concatenate([rng.choice(i, size, replace=False) for i in groups.values()]))


def save_cohort(cohort: Cohort, path: str | os.PathLike) -> Path:
    """Write atomically (``mien.atomic``): a kill never leaves half a cohort."""
    target = Path(path)
    if target.suffix != ".npz":
        raise InputError(f"cohort files are .npz; got {target}")
    buffer = io.BytesIO()
    np.savez(buffer, format=_FORMAT, model=cohort.model, metric=cohort.metric,
             vectors=np.asarray(cohort.vectors, np.float32), top_k=cohort.top_k, source=cohort.source)
    try:
        write_atomic(target, buffer.getvalue())
    except OSError as exc:
        raise StorageError(f"cannot write cohort {target}: {exc}") from exc
    return target


def load_cohort(path: str | os.PathLike, top_k: int | None = None) -> Cohort:
    """A cohort written by ``save_cohort`` (``top_k`` overrides the one stored)."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"cohort file {file} does not exist")
    try:
        with np.load(file, allow_pickle=False) as z:
            if int(z["format"]) != _FORMAT:
                raise StorageError(f"cohort {file} has format {int(z['format'])}; this mien reads {_FORMAT}")
            return Cohort(str(z["model"]), str(z["metric"]), z["vectors"].astype(np.float32),
                          int(top_k if top_k is not None else z["top_k"]), str(z["source"]))
    except MienError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise StorageError(f"cannot read cohort {file}: {exc}") from exc
