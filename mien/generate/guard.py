"""The memorisation guard: generated faces must not be a training face's identity.

A GAN trained on 17k photos of real people can reproduce one of them. The guard embeds each
generated face with dlib's ResNet (the largest face CenterFace finds, on the bicubic 256 px
upscale, as in ``benchmarks/generation.py``) and compares it with the embeddings of every
training face, shipped beside the generator as ``<model>-guard`` (float16 templates in random
order, no images, no labels; same research licence as the weights). A face nearer than the
guard's threshold is treated as that training person and drawn again with a new latent.

The bar is a 1:N one, not dlib's 1:1 0.6: the distance below which a face whose person is not
among the N training faces would still falsely match one of them with probability 1%, read off
all 29.6 M LFW impostor pairs through the same detect-align-embed path. LFW holds adults only,
and dlib's space does not separate young children: two thirds of *unseen* real 0-9 year olds
fall under that bar. So each age band whose unseen real faces (UTKFace's held-out tenth) cross
the bar more than half the time gets their 5th percentile instead: there the guard catches
near-copies, not every look-alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import InputError

UPSCALE = 256  # the size the guard (and the benchmark) embeds generated faces at


def guard_name(model: str) -> str:
    return f"{model}-guard"


def has_guard(model: str) -> bool:
    from ..models.registry import list_specs

    return any(s.name == guard_name(model) for s in list_specs("generation-guard"))


@dataclass(frozen=True)
class Guard:
    """Training-face templates of one generator and the bar a generated face must clear."""

    model: str
    templates: np.ndarray  # (M, 128) float32, dlib-resnet
    threshold: float  # the 1:N bar
    pair_fmr: float  # per-pair false-match rate of the threshold on LFW
    training_faces: int  # faces in the training split (some had no detectable face)
    band_thresholds: np.ndarray  # (8,) the bar each age band uses (module docstring)

    def nearest(self, images: np.ndarray) -> np.ndarray:
        """Distance from each generated face (N, S, S, 3) to its nearest training face; NaN where
        the detector finds no face (nothing to match)."""
        from ..embed.base import pairwise_distances
        from .gan import upscale

        emb = embed_faces(upscale(images, UPSCALE) if images.shape[1] != UPSCALE else images)
        out = np.full(len(images), np.nan)
        ok = ~np.isnan(emb).any(1)
        if ok.any():
            out[ok] = pairwise_distances(emb[ok], self.templates, "euclidean").min(1)
        return out

    def too_near(self, distances: np.ndarray, age_bands: np.ndarray) -> np.ndarray:
        """Which faces (of the given age bands) count as a training person; no face found: none."""
        return np.nan_to_num(distances, nan=np.inf) < self.band_thresholds[np.asarray(age_bands)]


@lru_cache(maxsize=4)
def load_guard(model: str) -> Guard:
    from ..models.store import model_path

    if not has_guard(model):
        raise InputError(f"generator {model!r} has no memorisation guard; generate with guard=False (--no-guard)")
    with np.load(model_path(guard_name(model))) as f:
        return Guard(model, f["templates"].astype(np.float32), float(f["threshold"]), float(f["pair_fmr"]),
                     int(f["training_faces"]), f["band_thresholds"].astype(np.float64))


def embed_faces(images: np.ndarray, embedder_name: str = "dlib-resnet") -> np.ndarray:
    """Embedding of the largest face in each image (N, D); NaN rows where none is found."""
    from ..detect import get_detector
    from ..embed import get_embedder

    detector, embedder = get_detector(), get_embedder(embedder_name)
    out = np.full((len(images), embedder.info.dim), np.nan, np.float32)
    for i, img in enumerate(images):
        _, one = largest_face(detector, img)
        if one is not None:
            out[i] = embedder.embed(embedder.align(img, one)).vectors[0]
    return out


def largest_face(detector, img: np.ndarray):
    """(number of faces found, the largest as a one-face Faces, or None)."""
    faces = detector(img)
    return len(faces), (faces.largest() if len(faces) else None)
