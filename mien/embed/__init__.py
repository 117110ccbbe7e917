"""Face embedders behind one interface. ``get_embedder(name)`` builds one by name.

Every embedder returns ``Embeddings`` tagged with its model id, so descriptors of two
models are never compared by mistake (``EmbeddingMismatchError``).
"""

from __future__ import annotations

from typing import Any

from .._lazy import resolve
from .base import Embedder, EmbedderInfo, Embeddings, paired_distances, pairwise_distances

# name -> "module:Class"; imported only when asked for, so importing mien loads nothing.
EMBEDDERS: dict[str, str] = {
    "dlib-resnet": "mien.embed.dlib_resnet:DlibResNet",
    "faceres": "mien.embed.faceres:FaceRes",
    "mobileface": "mien.embed.mobileface:MobileFace",
}

DEFAULT_EMBEDDER = "dlib-resnet"


def embedder_class(name: str) -> type[Embedder]:
    return resolve(EMBEDDERS, name, "embedder")


def get_embedder(name: str = DEFAULT_EMBEDDER, **options: Any) -> Embedder:
    """An embedder by name, with options (batch_size, flip, threads)."""
    return embedder_class(name)(**options)


__all__ = [
    "DEFAULT_EMBEDDER", "EMBEDDERS", "Embedder", "EmbedderInfo", "Embeddings",
    "embedder_class", "get_embedder", "paired_distances", "pairwise_distances",
]
