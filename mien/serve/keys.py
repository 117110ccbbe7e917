"""API keys: random, shown once, stored as a SHA-256 digest with only a short prefix kept for display.

A key reads ``mien_<id>_<secret>``: ``id`` (8 hex) names the row, ``secret`` (43 url-safe
characters, 256 bits) is what proves it. 256 random bits need no slow hash: the digest
cannot be reversed or guessed, and comparing it takes constant time. Each key carries
scopes and one gallery (its tenant); there is no default or demo key, ever.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, NotFoundError, StorageError
from ..gallery.types import check_name, iso

SCOPES = ("read", "identify", "enrol", "admin")
PREFIX = "mien_"
DB_NAME = "keys.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    gallery TEXT NOT NULL,
    rate REAL,
    created REAL NOT NULL,
    revoked REAL,
    last_used REAL
);
"""


@dataclass(frozen=True)
class ApiKey:
    """One key as stored: never the secret."""

    id: str
    name: str
    scopes: tuple[str, ...]
    gallery: str
    rate: float | None = None  # requests per second; None: the service's default
    created: float = field(default_factory=time.time)
    revoked: float | None = None
    last_used: float | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    @property
    def display(self) -> str:
        return f"{PREFIX}{self.id}_..."

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.display, "name": self.name, "scopes": list(self.scopes),
                "gallery": self.gallery, "rate": self.rate, "created": iso(self.created),
                "revoked": iso(self.revoked), "last_used": iso(self.last_used)}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InputError(f"unknown scope(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in scopes)


class KeyStore:
    """The keys of one service home, in SQLite (several service processes may share it)."""

    def __init__(self, home: str | Path) -> None:
        self.root = Path(home)
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(self.root / DB_NAME, timeout=10, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            (self.root / DB_NAME).chmod(0o600)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the key store in {self.root}: {exc}") from exc
        self._lock = threading.Lock()

    def create(self, name: str, scopes: list[str] | tuple[str, ...], gallery: str = "default",
               rate: float | None = None) -> tuple[str, ApiKey]:
        """A new key: the full key (shown once, never stored) and its record."""
        check_name(gallery, "gallery")
        if not name.strip():
            raise InputError("a key needs a name (who or what uses it)")
        if rate is not None and rate <= 0:
            raise InputError("--rate must be positive")
        key_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        record = ApiKey(key_id, name.strip(), check_scopes(scopes), gallery, rate)
        with self._lock:
            self._db.execute("INSERT INTO keys (id, digest, name, scopes, gallery, rate, created) VALUES (?,?,?,?,?,?,?)",
                             (key_id, _digest(secret), record.name, ",".join(record.scopes), gallery, rate, record.created))
        return f"{PREFIX}{key_id}_{secret}", record

    def authenticate(self, presented: str) -> ApiKey | None:
        """The live key ``presented`` proves, or None (unknown, malformed, wrong secret, revoked)."""
        if not presented.startswith(PREFIX):
            return None
        key_id, sep, secret = presented[len(PREFIX):].partition("_")
        if not sep or len(key_id) != 8 or not secret:
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM keys WHERE id = ?", (key_id,)).fetchone()
        if row is None or not hmac.compare_digest(row[1], _digest(secret)):
            return None
        key = self._record(row)
        if key.revoked is not None:
            return None
        return key

    def touch(self, key_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE keys SET last_used = ? WHERE id = ?", (time.time(), key_id))

    def list(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM keys ORDER BY created").fetchall()
        return [self._record(r) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        key_id = key_id.removeprefix(PREFIX).split("_", 1)[0]
        with self._lock:
            changed = self._db.execute("UPDATE keys SET revoked = ? WHERE id = ? AND revoked IS NULL",
                                       (time.time(), key_id)).rowcount
            row = self._db.execute("SELECT * FROM keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no key {key_id!r}")
        if not changed:
            raise InputError(f"key {key_id!r} was already revoked")
        return self._record(row)

    def has_admin(self) -> bool:
        return any(k.revoked is None and "admin" in k.scopes for k in self.list())

    def close(self) -> None:
        self._db.close()

    @staticmethod
    def _record(row: tuple) -> ApiKey:
        key_id, _, name, scopes, gallery, rate, created, revoked, last_used = row
        return ApiKey(key_id, name, tuple(scopes.split(",")), gallery, rate, created, revoked, last_used)
