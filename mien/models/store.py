"""The model store: one folder per model under ``$MIEN_HOME/models``.

Each installed model has its file and a ``manifest.json`` recording the source, the
source hash and the hash of the stored file (they differ for converted models).
Paths are resolved lazily so tests and users can move the store with ``MIEN_HOME``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import ModelCorruptError, ModelNotInstalledError, StorageError
from .registry import ModelSpec, get_spec

MANIFEST = "manifest.json"

# Hash checks of large files cost time; remember files verified in this process
# by (path, size, mtime) so a model loaded twice is hashed once.
_verified: set[tuple[str, int, int]] = set()


def mien_home() -> Path:
    return Path(os.environ.get("MIEN_HOME") or Path.home() / ".cache" / "mien")


def offline() -> bool:
    return os.environ.get("MIEN_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def model_dir(name: str) -> Path:
    return mien_home() / "models" / name


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(name: str) -> dict[str, Any] | None:
    path = model_dir(name) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read {path}: {exc}") from exc


def bundled_path(spec: ModelSpec) -> Path:
    """Files that ship inside the mien package itself (weights mien trained)."""
    return Path(__file__).resolve().parent.parent / spec.source.member


def is_installed(name: str) -> bool:
    spec = get_spec(name)
    if spec.source.registry == "bundled":
        return bundled_path(spec).is_file()
    return (model_dir(name) / spec.filename).is_file() and (model_dir(name) / MANIFEST).is_file()


def expected_hash(spec: ModelSpec) -> str:
    """The hash the stored file must have: the registry's, or the manifest's for converted models."""
    if not spec.convert or spec.source.registry == "bundled":
        return spec.sha256
    manifest = read_manifest(spec.name) or {}
    if manifest.get("source_sha256") != spec.sha256 or "file_sha256" not in manifest:
        raise ModelNotInstalledError(spec.name, model_dir(spec.name) / spec.filename)
    return manifest["file_sha256"]


def model_path(name: str, verify: bool = True) -> Path:
    """Path of an installed model's file; raises an error naming the fixing command."""
    spec = get_spec(name)
    if spec.source.registry == "bundled":
        path = bundled_path(spec)
        if not path.is_file():
            raise ModelNotInstalledError(name, path)
        if verify:
            verify_file(spec, path)
        return path
    path = model_dir(name) / spec.filename
    if not path.is_file() or not (model_dir(name) / MANIFEST).is_file():
        raise ModelNotInstalledError(name, path)
    if verify:
        verify_file(spec, path)
    return path


def verify_file(spec: ModelSpec, path: Path) -> None:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _verified:
        return
    want = expected_hash(spec)
    got = sha256_file(path)
    if got != want:
        raise ModelCorruptError(spec.name, path, want, got)
    _verified.add(key)


def install_file(spec: ModelSpec, produced: Path, source_sha256: str) -> Path:
    """Move a produced file into the store atomically and write its manifest.

    The file lands in a temporary folder beside the target first, so a kill in the
    middle never leaves a half-written model that looks installed.
    """
    root = mien_home() / "models"
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(root, spec.name)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=root))
    staging.chmod(0o755)
    try:
        shutil.copyfile(produced, staging / spec.filename)
        manifest = {
            "name": spec.name,
            "task": spec.task,
            "source": asdict(spec.source),
            "source_sha256": source_sha256,
            "file": spec.filename,
            "file_sha256": sha256_file(staging / spec.filename),
            "license": spec.license,
            "commercial": spec.commercial,
            "converted_by": spec.convert,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        target = model_dir(spec.name)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{spec.name}-old-", dir=root))
            os.replace(target, old / "x")
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return model_dir(spec.name) / spec.filename


def _remove_stale_staging(root: Path, name: str, age_s: float = 600.0) -> None:
    """Delete staging folders a killed install left behind (hidden, so never seen as installed)."""
    now = time.time()
    for leftover in root.glob(f".{name}-*"):
        if leftover.is_dir() and now - leftover.stat().st_mtime > age_s:
            shutil.rmtree(leftover, ignore_errors=True)


def remove(name: str) -> bool:
    target = model_dir(name)
    if not target.exists():
        return False
    shutil.rmtree(target)
    return True
