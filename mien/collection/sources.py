"""What to index: a folder (walked), a list of paths, or a text file of paths and URLs.

Local paths are listed with their size and modification time, which is what lets a rerun
skip images already indexed without reading them again. URLs (``s3://``, ``gs://``,
``https://`` ...) are read through fsspec where the user has it installed (and the
protocol's own package, e.g. s3fs); they have no cheap modification time, so a rerun
recognises them by content hash after reading.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

LIST_SUFFIXES = (".txt", ".lst", ".list", ".csv")


@dataclass(frozen=True)
class Source:
    path: str  # absolute local path or URL
    size: int = -1  # -1: not known without reading (URLs)
    mtime_ns: int = -1

    @property
    def is_url(self) -> bool:
        return is_url(self.path)


def is_url(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def list_sources(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Source]:
    """Every input under ``source``, sorted (a folder walks recursively; hidden files and folders are skipped)."""
    if isinstance(source, (list, tuple)):
        return [_one(str(p)) for p in source]
    text = str(source)
    if is_url(text):
        return [Source(text)]
    path = Path(os.path.expanduser(text))
    if path.is_dir():
        return _walk(path)
    if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        return [_one(line) for line in _lines(path)]
    if path.is_file():
        return [_one(str(path))]
    raise InputError(f"no such folder, list or file: {text}")


def _walk(root: Path) -> list[Source]:
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                out.append(_one(os.path.join(folder, name)))
    return out


def _lines(path: Path) -> Iterable[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the list {path}: {exc}") from exc
    base = path.parent
    for line in text.splitlines():
        line = line.split(",")[0].strip() if path.suffix.lower() == ".csv" else line.strip()
        if not line or line.startswith("#"):
            continue
        yield line if is_url(line) or os.path.isabs(line) else str(base / line)


def _one(text: str) -> Source:
    if is_url(text):
        return Source(text)
    path = os.path.abspath(os.path.expanduser(text.removeprefix("file://")))
    try:
        st = os.stat(path)
    except OSError:
        return Source(path)  # reported as missing when read
    return Source(path, st.st_size, st.st_mtime_ns)


def read_bytes(path: str) -> bytes:
    """The file's bytes; ``OSError`` (``FileNotFoundError`` for missing) as the caller classifies it."""
    if not is_url(path):
        with open(path, "rb") as fh:
            return fh.read()
    try:
        import fsspec
    except ImportError as exc:
        raise OSError(f"reading {path} needs fsspec (pip install fsspec and the protocol's package, e.g. s3fs)") from exc
    try:
        with fsspec.open(path, "rb") as fh:
            return fh.read()
    except (ImportError, ValueError) as exc:  # fsspec: unknown protocol or its package missing
        raise OSError(str(exc)) from exc
