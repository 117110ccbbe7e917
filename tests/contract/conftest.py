"""The gallery contract runs on every backend: the embedded SQLite store always, and each
server store named in ``MIEN_TEST_GALLERY_URLS`` (space-separated; ``.ci/run`` starts a
Milvus server in a loopback-only network namespace and names it there; ``scripts/postgres.sh
exec`` names its PostgreSQL server)."""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest

from mien.embed import Embeddings


def _server_urls() -> list[str]:
    return [u for u in os.environ.get("MIEN_TEST_GALLERY_URLS", "").split() if u]


def server_url(schemes: tuple[str, ...], start: str) -> str:
    """The first server URL with one of ``schemes``; without one, the test is skipped, saying how to start it."""
    url = next((u for u in _server_urls() if u.startswith(schemes)), None)
    if url is None:
        pytest.skip(f"no {schemes[0]} URL in MIEN_TEST_GALLERY_URLS ({start})")
    return url


@pytest.fixture
def milvus_url() -> str:
    return server_url(("milvus://",), "scripts/milvus.sh start, then pytest under scripts/milvus.sh exec")


@pytest.fixture
def pg_url() -> str:
    return server_url(("postgresql://", "postgres://"),
                      "start one: scripts/postgres.sh start, then run pytest under scripts/postgres.sh exec")


@pytest.fixture(params=["sqlite", *_server_urls()])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'store'}"
    return request.param


@pytest.fixture
def gallery_name() -> str:
    """A fresh gallery name per test, so tests sharing one server store never meet."""
    return f"t{uuid.uuid4().hex[:12]}"


class People:
    """Synthetic 128-D identities shaped like dlib's space: people ~0.9 apart, photos of one ~0.35."""

    def __init__(self, n: int = 40, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.centres = rng.normal(size=(n, 128)) * (0.9 / np.sqrt(2 * 128))

    def photo(self, i: int, n: int = 1, model: str = "dlib-resnet") -> Embeddings:
        noise = self.rng.normal(size=(n, 128)) * (0.35 / np.sqrt(2 * 128))
        return Embeddings((self.centres[i] + noise).astype(np.float32), model, "euclidean")

    def stranger(self) -> Embeddings:
        return Embeddings((self.rng.normal(size=(1, 128)) * (0.9 / np.sqrt(2 * 128))).astype(np.float32),
                          "dlib-resnet", "euclidean")


@pytest.fixture
def people() -> People:
    return People()
