"""What one `mien serve` process is allowed to do: where it binds, its store, its limits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

HOME_ENV = "MIEN_SERVE_HOME"


def serve_home() -> Path:
    """Where the service keeps its keys and job files: $MIEN_SERVE_HOME, else $MIEN_HOME/serve."""
    from ..models.store import mien_home

    return Path(os.environ.get(HOME_ENV) or mien_home() / "serve")


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    store: str | None = None  # gallery store URL; None: the embedded store under $MIEN_HOME
    collection: str | None = None  # photo collection store URL; None: the embedded one under $MIEN_HOME
    gallery_key: str | None = None  # template key (file path or hex); None: $MIEN_GALLERY_KEY(_FILE)
    home: Path = field(default_factory=serve_home)
    workers: int = max(1, min(4, os.cpu_count() or 1))  # threads running model calls
    queue: int = 32  # requests waiting for a worker beyond those running; more get 503
    max_body_bytes: int = 25 * 1024 * 1024  # an image upload; videos have their own limit
    max_video_bytes: int = 200 * 1024 * 1024
    max_pixels: int = 40_000_000  # per decoded image (a 20000x20000 upload is refused, not decoded)
    rate: float = 20.0  # requests per second per key (a key may carry its own)
    burst: int = 40
    timeout_s: float = 60.0  # one request's model work
    cors_origins: tuple[str, ...] = ()  # CORS is off unless origins are named
    jobs_kept: int = 50  # finished video jobs kept for download, oldest dropped first

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
