"""Gallery stores chosen by a URL: ``sqlite:///path`` (or a plain path), ``milvus://host:port``,
``postgresql://user@host:port/dbname`` (or ``postgres://``).

The default, with no URL and no ``MIEN_GALLERY_URL``, is the embedded store under
``$MIEN_HOME/gallery``. A query string passes options to the backend
(``sqlite:///srv/faces?nprobe=64``).
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from ..errors import InputError
from .base import GalleryStore

URL_ENV = "MIEN_GALLERY_URL"
BACKENDS = {
    "sqlite": "mien.gallery.sqlite:SQLiteStore",
    "milvus": "mien.gallery.milvus:MilvusStore",
    "postgresql": "mien.gallery.postgres:PostgresStore",
    "postgres": "mien.gallery.postgres:PostgresStore",
}


def default_url() -> str:
    from ..models.store import mien_home

    return os.environ.get(URL_ENV) or f"sqlite://{mien_home() / 'gallery'}"


def open_store(url: str | os.PathLike | None = None) -> GalleryStore:
    """The store a URL names (see the module docstring)."""
    text = str(url) if url is not None else default_url()
    scheme, sep, _ = text.partition("://")
    if not sep:
        scheme, text = "sqlite", f"sqlite://{os.path.abspath(os.path.expanduser(text))}"
    if scheme not in BACKENDS:
        raise InputError(f"unknown gallery store {scheme!r} in {text!r}; known: "
                         + ", ".join(f"{s}://" for s in BACKENDS))
    module, name = BACKENDS[scheme].split(":")
    cls = getattr(import_module(module), name)
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InputError(f"not a store URL: {text!r}: {exc}") from exc
    options: dict[str, Any] = {k: _number(v) for k, v in parse_qsl(parts.query)}
    if scheme == "sqlite":
        path = text[len("sqlite://"):].split("?", 1)[0]
        if not path:
            raise InputError(f"no path in {text!r}; use sqlite:///absolute/path")
        return cls(path, **_known(options, ("nprobe", "timeout"), text))
    if scheme in ("postgresql", "postgres"):
        return cls(_postgres_conninfo(parts, text), **_known(options, ("nprobe", "timeout"), text))
    return cls(parts.hostname or "127.0.0.1", parts.port or 19530, **_known(options, ("nprobe", "db", "consistency", "timeout"), text))


def _postgres_conninfo(parts: SplitResult, url: str) -> str:
    """The URL without mien's options, for libpq (which reads the rest: user, password, host, port, dbname)."""
    try:
        parts.port
    except ValueError as exc:
        raise InputError(f"bad port in {url!r}: {exc}") from exc
    if not parts.path.strip("/"):
        raise InputError(f"no database in {url!r}; use postgresql://user@host:port/dbname")
    return url.split("#", 1)[0].split("?", 1)[0]


def _known(options: dict[str, Any], allowed: tuple[str, ...], url: str) -> dict[str, Any]:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(unknown)} in {url!r}; known: {', '.join(allowed)}")
    return options


def _number(value: str) -> Any:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value
