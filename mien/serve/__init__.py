"""mien serve: the HTTP API (under /v1) and the web app (at /), in one process.

``config`` holds the limits; ``keys`` the hashed API keys with scopes and a gallery each;
``auth`` turns a request's key into a caller; ``work`` runs CPU-bound model calls off the
event loop behind a bounded queue; ``errors`` maps mien's error tree to JSON; ``schemas``
are the result shapes the CLI prints and the API returns; ``routes`` one module per
capability; ``app`` puts them together.

    >>> from mien.serve import ServeConfig, create_app
    >>> app = create_app(ServeConfig(store="sqlite:///srv/faces"))
"""

from __future__ import annotations

from .config import ServeConfig

__all__ = ["ServeConfig", "create_app"]


def __getattr__(name: str):
    if name == "create_app":  # FastAPI is imported only when an app is made
        from .app import create_app

        return create_app
    raise AttributeError(name)
