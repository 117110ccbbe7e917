"""The Ray engine on real photos through the real models: the same results as the local engine,
bad files reported, reruns skipped, and a killed actor's batch redone without duplicates."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest

from mien.collection import index_collection, open_collection

ray = pytest.importorskip("ray")

from mien.collection.ray_engine import start_local

N_IMAGES = 12
BAD = {"empty.jpg": "empty", "notes.txt": "not-image", "truncated.jpg": "truncated"}
ACTOR = b"ray::MapWorker(MapBatches(_IndexActor))"


@pytest.fixture(scope="module")
def ray_instance():
    """One private Ray instance for the module (the engine then uses it and leaves it running)."""
    started = start_local(2)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, data_dir) -> Path:
    root = tmp_path_factory.mktemp("photos")
    images = sorted((data_dir / "lfw" / "images").glob("*.jpg"))[:N_IMAGES]
    for path in images:
        shutil.copy(path, root / path.name)
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.txt").write_text("a shopping list, not a photo\n")
    data = images[0].read_bytes()
    (root / "truncated.jpg").write_bytes(data[:len(data) // 2])
    return root


@pytest.fixture(scope="module")
def local_faces(folder, tmp_path_factory):
    url = f"sqlite://{tmp_path_factory.mktemp('local') / 'store'}"
    report = index_collection(folder, url, engine="local", workers=2)
    assert report.indexed == N_IMAGES
    with open_collection(url) as store:
        return {f.id: f for f in store.faces()}


def assert_once(url: str, faces: int) -> None:
    """Every image, path and face exactly once (ids are content hashes: a redone batch overwrites)."""
    with open_collection(url) as store:
        records = store.faces()
        counts = store.counts()
    assert (counts["images"], counts["paths"], counts["faces"]) == (N_IMAGES, N_IMAGES, faces)
    assert len({f.id for f in records}) == len(records) == faces


def test_ray_indexes_like_local(ray_instance, folder, local_faces, tmp_path):
    url = f"sqlite://{tmp_path / 'store'}"
    report = index_collection(folder, url, engine="ray", workers=2, batch_size=4)
    assert (report.engine, report.workers, report.seen, report.indexed) == ("ray", 2, N_IMAGES + 3, N_IMAGES)
    assert {Path(f.path).name: f.kind for f in report.failures} == BAD
    assert report.retries == 0

    assert_once(url, report.faces)
    with open_collection(url) as store:
        faces = {f.id: f for f in store.faces()}
        assert {Path(f.path).name for f in store.failures()} == set(BAD)
    assert report.faces == len(faces) == len(local_faces) >= N_IMAGES - 1
    assert faces.keys() == local_faces.keys()
    for fid, face in faces.items():
        other = local_faces[fid]
        np.testing.assert_allclose(face.vector, other.vector, atol=1e-5)
        np.testing.assert_allclose(face.box, other.box, atol=1e-3)
        assert face.path == other.path and face.model == other.model
        assert face.quality.passed == other.quality.passed

    again = index_collection(folder, url, engine="ray", workers=2)
    assert (again.skipped, again.indexed, again.faces) == (N_IMAGES, 0, 0)
    assert {Path(f.path).name for f in again.failures} == set(BAD)  # failures are retried, not skipped


def actor_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if fh.read().startswith(ACTOR):
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds Ray's actor processes in /proc")
def test_killed_actor_batch_is_redone(ray_instance, folder, tmp_path):
    url = f"sqlite://{tmp_path / 'store'}"
    killed: list[int] = []

    def kill_one(done: int, total: int) -> None:
        if done and not killed:
            pids = actor_pids()
            assert pids, "no Ray actor process found"
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    report = index_collection(folder, url, engine="ray", workers=2, batch_size=2, progress=kill_one)
    assert killed
    assert report.indexed == N_IMAGES and {Path(f.path).name: f.kind for f in report.failures} == BAD
    assert report.retries >= 1
    assert_once(url, report.faces)
