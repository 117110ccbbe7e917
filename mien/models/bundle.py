"""Export installed models to one tar and import it on an air-gapped machine.

The tar holds ``mien-models.json`` (name, file, sha256 of the stored file, source hash)
and one folder per model. Import checks every hash against the archive's manifest
and, for files shipped as-is, against the registry before anything lands in the store.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Iterable

from ..errors import ModelCorruptError, StorageError
from . import store
from .registry import get_spec

BUNDLE_MANIFEST = "mien-models.json"


def export_models(path: Path, names: Iterable[str]) -> list[str]:
    names = list(names)
    entries = []
    for name in names:
        file = store.model_path(name, verify=True)
        manifest = store.read_manifest(name) or {}
        entries.append({
            "name": name,
            "file": file.name,
            "sha256": store.sha256_file(file),
            "source_sha256": manifest.get("source_sha256", get_spec(name).sha256),
        })
    tmp = Path(str(path) + ".part")
    try:
        with tarfile.open(tmp, "w") as tar:
            data = json.dumps({"format": 1, "models": entries}, indent=2).encode()
            info = tarfile.TarInfo(BUNDLE_MANIFEST)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            for entry in entries:
                folder = store.model_dir(entry["name"])
                tar.add(folder / entry["file"], arcname=f"{entry['name']}/{entry['file']}")
                tar.add(folder / store.MANIFEST, arcname=f"{entry['name']}/{store.MANIFEST}")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path}: {exc}") from exc
    return names


def import_models(path: Path) -> list[str]:
    try:
        tar = tarfile.open(path)
    except (OSError, tarfile.TarError) as exc:
        raise StorageError(f"cannot read model bundle {path}: {exc}") from exc
    imported = []
    with tar, tempfile.TemporaryDirectory(prefix="mien-import-") as tmp:
        try:
            manifest = json.load(tar.extractfile(BUNDLE_MANIFEST))
        except (KeyError, TypeError, ValueError) as exc:
            raise StorageError(f"{path} is not a mien model bundle (no valid {BUNDLE_MANIFEST})") from exc
        for entry in manifest.get("models", []):
            spec = get_spec(entry["name"])
            if entry.get("source_sha256") != spec.sha256:
                raise ModelCorruptError(spec.name, path, spec.sha256, str(entry.get("source_sha256")))
            member = f"{spec.name}/{entry['file']}"
            target = Path(tmp) / spec.name
            target.mkdir()
            try:
                src = tar.extractfile(member)
            except KeyError:
                src = None
            if src is None:
                raise StorageError(f"{path} lacks {member}")
            (target / entry["file"]).write_bytes(src.read())
            got = store.sha256_file(target / entry["file"])
            if got != entry["sha256"] or (not spec.convert and got != spec.sha256):
                raise ModelCorruptError(spec.name, f"{path}:{member}", entry["sha256"], got)
            store.install_file(spec, target / entry["file"], source_sha256=entry["source_sha256"])
            imported.append(spec.name)
    return imported
