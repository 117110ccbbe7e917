"""The face store a collection is indexed into, chosen by URL, and the contract every backend keeps.

    sqlite:///path/to/dir (or a plain path)   embedded: one SQLite file, no server (a laptop's library)
    milvus://host:port[/name]                 a Milvus server or cluster (millions of faces)

Guarantees each backend gives (``tests/contract/test_collection_stores.py`` runs one suite on all):

* **Idempotent, all-or-nothing image writes.** ``write`` stores each image's faces, its
  image row and its path under the face ids ``<hash>-<i>``. Content already indexed keeps
  its faces (the new path is recorded beside it); faces a killed earlier attempt left
  without an image row are replaced. So a batch re-run after a worker died or a job was
  killed leaves every image exactly once. An image counts as indexed only once its image
  row is written, after its faces.
* **Resume.** ``indexed_paths`` answers which (path, size, modification time) are done, so
  a rerun skips them without reading them; ``known_hashes`` which contents are.
* **One model per store.** The first write pins the embedding model; a write with another
  raises ``EmbeddingMismatchError``.
* **People.** Cluster assignments are replaced whole (``save_people``); user edits are an
  append-only log (``add_edit``) so they survive every rerun.
* **Errors.** Engine failures become ``StorageError``.
"""

from __future__ import annotations

import os
from pathlib import Path
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any, Self

import numpy as np

from ..errors import InputError
from .types import Edit, FaceRecord, Failure, ImageResult

URL_ENV = "MIEN_COLLECTION_URL"
BACKENDS = {"sqlite": "mien.collection.sqlite_store:SQLiteFaceStore",
            "milvus": "mien.collection.milvus_store:MilvusFaceStore"}


class FaceStore(ABC):
    url: str

    # -- indexing -------------------------------------------------------------------------------
    @abstractmethod
    def write(self, results: Sequence[ImageResult]) -> int:
        """Store the faces of the successful results and the failures; return faces written."""

    @abstractmethod
    def indexed_paths(self, paths: Sequence[str]) -> dict[str, tuple[int, int]]:
        """For each path already indexed: (size, mtime_ns) as recorded."""

    @abstractmethod
    def known_hashes(self, hashes: Sequence[str]) -> set[str]:
        ...

    @abstractmethod
    def failures(self) -> list[Failure]:
        ...

    @property
    @abstractmethod
    def model(self) -> str | None:
        """The embedding model the store is pinned to (None while empty)."""

    # -- reading ---------------------------------------------------------------------------------
    @abstractmethod
    def counts(self) -> dict[str, int]:
        """{"images": ..., "faces": ..., "paths": ..., "failures": ...}"""

    @abstractmethod
    def faces(self, ids: Sequence[str] | None = None) -> list[FaceRecord]:
        """Face records (all, in id order, or those named, in the order named; unknown ids skipped)."""

    @abstractmethod
    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest faces (id, exact distance in the model's metric), nearest first."""

    @abstractmethod
    def paths_of(self, hashes: Sequence[str]) -> dict[str, str]:
        """The first path each content hash was found at."""

    # -- people -----------------------------------------------------------------------------------
    @abstractmethod
    def people(self) -> tuple[dict[str, int], dict[int, str]]:
        """(face id -> person id, person id -> name) as last saved."""

    @abstractmethod
    def save_people(self, assignment: Mapping[str, int], names: Mapping[int, str]) -> None:
        """Replace the whole assignment (faces not named are unassigned) in one write."""

    @abstractmethod
    def edits(self) -> list[Edit]:
        ...

    @abstractmethod
    def add_edit(self, edit: Edit) -> None:
        ...

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "model": self.model, **self.counts()}

    def close(self) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_url() -> str:
    from ..models.store import mien_home

    return os.environ.get(URL_ENV) or f"sqlite://{mien_home() / 'collection'}"


def tenant_url(url: str | None, tenant: str) -> str:
    """The store URL of one tenant (an API key's gallery name): the URL itself for "default",
    else ``DIR/tenants/NAME`` (SQLite) or the collection set ``NAME`` (Milvus: ``BASE_NAME``)."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", tenant):
        raise InputError(f"tenant names are 1-64 letters, digits, '-' or '_', got {tenant!r}")
    text = str(url) if url is not None else default_url()
    if tenant == "default":
        return text
    base, _, query = text.partition("?")
    if base.startswith("milvus://"):
        host, _, name = base[len("milvus://"):].partition("/")
        name = f"{name}_{tenant}" if name else tenant
        return f"milvus://{host}/{name}" + (f"?{query}" if query else "")
    if "://" not in base:
        base = "sqlite://" + os.path.abspath(os.path.expanduser(base))
    return f"{base.rstrip('/')}/tenants/{tenant}" + (f"?{query}" if query else "")


def known_content(url: str | None) -> Callable[[str], bool] | None:
    """A worker's own view of the store at ``url``: does it hold this content (hash) already?"""
    if url is None:
        return None
    if url.startswith("sqlite://"):
        from .sqlite_store import FILE

        if not (Path(url[len("sqlite://"):].split("?", 1)[0]) / FILE).is_file():
            return None  # a Ray actor on another machine: no such file there, and none to make
    store = open_collection(url)
    return lambda digest: bool(store.known_hashes([digest]))


def open_collection(url: str | os.PathLike | None = None, **options: Any) -> FaceStore:
    """The face store a URL names (see the module docstring)."""
    text = str(url) if url is not None else default_url()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "sqlite", os.path.abspath(os.path.expanduser(text))
        text = f"sqlite://{rest}"
    if scheme not in BACKENDS:
        raise InputError(f"unknown collection store {scheme!r} in {text!r}; known: "
                         + ", ".join(f"{s}://" for s in BACKENDS))
    module, name = BACKENDS[scheme].split(":")
    cls = getattr(import_module(module), name)
    return cls.from_url(text, **options)
