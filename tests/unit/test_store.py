"""The model store on a temporary MIEN_HOME with a small real file (no network)."""

import hashlib
import tarfile

import pytest

from mien.errors import FetchError, ModelCorruptError, ModelNotInstalledError, StorageError, UnknownModelError
from mien.models import store
from mien.models.bundle import export_models, import_models
from mien.models.fetch import pull
from mien.models.registry import REGISTRY, ModelSpec, Source, get_spec, list_specs


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MIEN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def tiny_spec(tmp_path):
    payload = b"weights" * 100
    spec = ModelSpec(
        name="tiny-test", task="test", source=Source("pypi", "nothing", "0", "tiny.bin"),
        sha256=hashlib.sha256(payload).hexdigest(), license="CC0-1.0", commercial=True, format="raw",
        size_bytes=len(payload),
    )
    get_spec("centerface")  # load the catalog first
    REGISTRY[spec.name] = spec
    src = tmp_path / "tiny.bin"
    src.write_bytes(payload)
    yield spec, src
    REGISTRY.pop(spec.name, None)


def test_every_spec_has_licence_hash_and_source():
    for spec in list_specs():
        assert spec.license and isinstance(spec.commercial, bool)
        assert len(spec.sha256) == 64
        assert spec.source.registry in {"pypi", "npm", "bundled"}
        assert len(spec.source.extra_members) == len(spec.source.extra_sha256)


def test_missing_model_error_names_the_fix(home):
    with pytest.raises(ModelNotInstalledError, match="mien models pull centerface"):
        store.model_path("centerface")
    with pytest.raises(UnknownModelError):
        store.model_path("no-such-model")


def test_install_verify_and_detect_corruption(home, tiny_spec):
    spec, src = tiny_spec
    path = store.install_file(spec, src, spec.sha256)
    assert store.model_path("tiny-test") == path and store.is_installed("tiny-test")
    path.write_bytes(b"tampered")
    with pytest.raises(ModelCorruptError, match="mien models pull --force tiny-test"):
        store.model_path("tiny-test")


def test_a_killed_install_leaves_nothing_that_looks_installed(home, tiny_spec):
    import os

    spec, src = tiny_spec
    # What a kill between copy and rename leaves: a hidden staging folder with a partial file.
    staging = home / "models" / ".tiny-test-abc123"
    staging.mkdir(parents=True)
    (staging / "tiny.bin").write_bytes(b"wei")
    assert not store.is_installed("tiny-test")
    with pytest.raises(ModelNotInstalledError):
        store.model_path("tiny-test")
    old = staging.stat().st_mtime - 3600
    os.utime(staging, (old, old))
    store.install_file(spec, src, spec.sha256)
    assert not staging.exists() and store.model_path("tiny-test").read_bytes() == src.read_bytes()


def test_offline_forbids_fetch(home, monkeypatch):
    monkeypatch.setenv("MIEN_OFFLINE", "1")
    with pytest.raises(FetchError, match="MIEN_OFFLINE"):
        pull(["centerface"])


def test_export_import_round_trip_and_tamper_refusal(home, tiny_spec, tmp_path):
    spec, src = tiny_spec
    store.install_file(spec, src, spec.sha256)
    bundle = tmp_path / "models.tar"
    export_models(bundle, ["tiny-test"])
    store.remove("tiny-test")
    assert import_models(bundle) == ["tiny-test"]
    assert store.model_path("tiny-test").read_bytes() == src.read_bytes()
    # A bundle whose file was altered is refused and the store keeps the good copy.
    bad = tmp_path / "bad.tar"
    with tarfile.open(bundle) as tin, tarfile.open(bad, "w") as tout:
        for member in tin.getmembers():
            data = tin.extractfile(member).read()
            if member.name.endswith("tiny.bin"):
                data = b"X" * len(data)
            member.size = len(data)
            import io

            tout.addfile(member, io.BytesIO(data))
    with pytest.raises(ModelCorruptError):
        import_models(bad)
    assert store.model_path("tiny-test").read_bytes() == src.read_bytes()
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(StorageError):
        import_models(tmp_path / "junk.tar")


def test_importing_mien_loads_nothing():
    import subprocess
    import sys

    code = "import sys, mien; mien.Faces; print(sorted(m for m in sys.modules if m.split('.')[0] in {'onnxruntime','dlib','cv2','onnx'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_non_commercial_notice_finds_models_named_anywhere_in_an_output():
    from mien.models.notices import non_commercial_models

    doc = {"detector": "centerface", "faces": [{"age": {"model": "utk-heads"}, "gender": {"model": "dlib-gender"}}],
           "model": "faceres+flip", "landmark_model": "dlib68"}
    assert sorted(n["model"] for n in non_commercial_models(doc)) == ["dlib-shape68", "faceres", "utk-heads"]
    assert non_commercial_models({"detector": "centerface", "model": "dlib-resnet"}) == []
