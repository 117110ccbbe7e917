"""The embedded face store: one SQLite file (WAL) under a folder; no server.

Each ``write`` is one ``BEGIN IMMEDIATE`` transaction with ``synchronous=FULL``: a batch that
returned is on disk, a killed writer leaves its batch out entirely. Search loads the
vectors once into memory (float32, 0.5 KB per face: 500 MB at a million faces) and
reloads when the store's write counter moves, so writes by other processes are seen.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbeddingMismatchError, InputError, ShapeError, StorageError
from .store import FaceStore
from .types import Edit, FaceQuality, FaceRecord, Failure, ImageResult

FILE = "collection.sqlite"
CHUNK = 500  # ids per IN (...) query

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (hash TEXT PRIMARY KEY, path TEXT NOT NULL, width INTEGER, height INTEGER,
    faces INTEGER NOT NULL, indexed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS paths (path TEXT PRIMARY KEY, hash TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS failures (path TEXT PRIMARY KEY, kind TEXT NOT NULL, message TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS faces (id TEXT PRIMARY KEY, image TEXT NOT NULL, idx INTEGER NOT NULL, record TEXT NOT NULL,
    vector BLOB NOT NULL, second BLOB);
CREATE INDEX IF NOT EXISTS faces_image ON faces(image);
CREATE TABLE IF NOT EXISTS people (face TEXT PRIMARY KEY, person INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS names (person INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS edits (seq INTEGER PRIMARY KEY AUTOINCREMENT, edit TEXT NOT NULL);
"""


class SQLiteFaceStore(FaceStore):
    def __init__(self, folder: str | os.PathLike, timeout: float = 30.0) -> None:
        self.folder = Path(folder)
        self.url = f"sqlite://{self.folder}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.folder / FILE, timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the collection store at {self.folder}: {exc}") from exc
        self._lock = threading.RLock()
        self._cache: tuple[int, list[str], np.ndarray] | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLiteFaceStore:
        path, _, query = url[len("sqlite://"):].partition("?")
        if not path:
            raise InputError(f"no path in {url!r}; use sqlite:///absolute/path")
        if query:
            raise InputError(f"the sqlite collection store takes no options, got {query!r}")
        return cls(path, **options)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"collection store {self.folder}: {exc}") from exc

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"collection store {self.folder}: {exc}") from exc

    def _meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    # -- indexing ---------------------------------------------------------------------------------
    @property
    def model(self) -> str | None:
        return self._meta("model")

    def write(self, results: Sequence[ImageResult]) -> int:
        written, now = 0, time.time()
        with self._tx() as db:
            for r in results:
                if r.failure is not None:
                    db.execute("INSERT OR REPLACE INTO failures VALUES (?,?,?,?)",
                               (r.path, r.failure.kind, r.failure.message, now))
                    continue
                self._pin(db, r)
                db.execute("DELETE FROM failures WHERE path=?", (r.path,))
                if db.execute("SELECT 1 FROM images WHERE hash=?", (r.hash,)).fetchone() is None:
                    db.execute("DELETE FROM faces WHERE image=?", (r.hash,))
                    db.executemany("INSERT INTO faces VALUES (?,?,?,?,?,?)", [_face_row(f) for f in r.faces])
                    db.execute("INSERT INTO images VALUES (?,?,?,?,?,?)",
                               (r.hash, r.path, r.width, r.height, len(r.faces), now))
                    written += len(r.faces)
                db.execute("INSERT OR REPLACE INTO paths VALUES (?,?,?,?)", (r.path, r.hash, r.size, r.mtime_ns))
            db.execute("INSERT INTO meta VALUES ('version','1') ON CONFLICT(key) DO UPDATE SET value=value+1")
        return written

    def _pin(self, db: sqlite3.Connection, r: ImageResult) -> None:
        if not r.faces:
            return
        model, dim = r.faces[0].model, len(r.faces[0].vector)
        pinned = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('model', 'dim')").fetchall())
        if not pinned:
            db.executemany("INSERT INTO meta VALUES (?,?)", [("model", model), ("dim", str(dim))])
        elif pinned["model"] != model:
            raise EmbeddingMismatchError(f"the collection at {self.folder} holds {pinned['model']!r} embeddings; "
                                         f"this job makes {model!r} (use another store or the same model)")
        if any(len(f.vector) != int(pinned.get("dim", dim)) or f.model != model for f in r.faces):
            raise ShapeError("face vectors", f"({pinned.get('dim', dim)},) of {model}", f"{dim} of {r.faces[0].model}")

    def indexed_paths(self, paths: Sequence[str]) -> dict[str, tuple[int, int]]:
        out = {}
        for part in _chunks(list(paths)):
            marks = ",".join("?" * len(part))
            for path, size, mtime in self._read(f"SELECT path, size, mtime_ns FROM paths WHERE path IN ({marks})", part):
                out[path] = (size, mtime)
        return out

    def known_hashes(self, hashes: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for part in _chunks(list(hashes)):
            marks = ",".join("?" * len(part))
            out.update(h for (h,) in self._read(f"SELECT hash FROM images WHERE hash IN ({marks})", part))
        return out

    def failures(self) -> list[Failure]:
        return [Failure(p, k, m) for p, k, m in self._read("SELECT path, kind, message FROM failures ORDER BY path")]

    # -- reading ----------------------------------------------------------------------------------
    def _snapshot(self, queries: Sequence[str]) -> list[list[tuple]]:
        """Several reads that see one state of the store (one read transaction)."""
        with self._lock:
            try:
                self._db.execute("BEGIN")
                try:
                    return [self._db.execute(q).fetchall() for q in queries]
                finally:
                    self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"collection store {self.folder}: {exc}") from exc

    def counts(self) -> dict[str, int]:
        tables = ("images", "faces", "paths", "failures")
        rows = self._snapshot([f"SELECT COUNT(*) FROM {t}" for t in tables])
        return {t: r[0][0] for t, r in zip(tables, rows)}

    def faces(self, ids: Sequence[str] | None = None) -> list[FaceRecord]:
        cols = "f.id, f.image, f.idx, f.record, f.vector, f.second, i.path"
        join = "FROM faces f JOIN images i ON i.hash = f.image"
        if ids is None:
            rows = self._read(f"SELECT {cols} {join} ORDER BY f.id")
        else:
            found: dict[str, tuple] = {}
            for part in _chunks(list(ids)):
                marks = ",".join("?" * len(part))
                found.update((r[0], r) for r in self._read(f"SELECT {cols} {join} WHERE f.id IN ({marks})", part))
            rows = [found[i] for i in ids if i in found]
        return [_record(r) for r in rows]

    def _vectors(self) -> tuple[list[str], np.ndarray]:
        version = int(self._meta("version") or 0)
        if self._cache is None or self._cache[0] != version:
            rows = self._read("SELECT f.id, f.vector FROM faces f JOIN images i ON i.hash = f.image ORDER BY f.id")
            ids = [r[0] for r in rows]
            matrix = (np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(len(rows), -1)
                      if rows else np.zeros((0, 0), np.float32))
            self._cache = (version, ids, matrix)
        return self._cache[1], self._cache[2]

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        ids, matrix = self._vectors()
        if not ids or k <= 0:
            return []
        q = np.asarray(vector, np.float32).reshape(-1)
        if q.shape[0] != matrix.shape[1]:
            raise InputError(f"a {q.shape[0]}-D query against a store of {matrix.shape[1]}-D faces")
        d = np.sqrt(np.maximum(((matrix - q) ** 2).sum(axis=1), 0.0))
        k = min(int(k), len(ids))
        top = np.argpartition(d, k - 1)[:k]
        top = top[np.lexsort((top, d[top]))]
        return [(ids[i], float(d[i])) for i in top]

    def paths_of(self, hashes: Sequence[str]) -> dict[str, str]:
        out = {}
        for part in _chunks(list(hashes)):
            marks = ",".join("?" * len(part))
            out.update(self._read(f"SELECT hash, path FROM images WHERE hash IN ({marks})", part))
        return out

    # -- people ------------------------------------------------------------------------------------
    def people(self) -> tuple[dict[str, int], dict[int, str]]:
        people, names = self._snapshot(["SELECT face, person FROM people", "SELECT person, name FROM names"])
        return dict(people), {int(p): n for p, n in names}

    def save_people(self, assignment: Mapping[str, int], names: Mapping[int, str]) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM people")
            db.execute("DELETE FROM names")
            db.executemany("INSERT INTO people VALUES (?,?)", [(f, int(p)) for f, p in assignment.items()])
            db.executemany("INSERT INTO names VALUES (?,?)", [(int(p), n) for p, n in names.items()])

    def edits(self) -> list[Edit]:
        out = []
        for (text,) in self._read("SELECT edit FROM edits ORDER BY seq"):
            d = json.loads(text)
            out.append(Edit(d["kind"], tuple(d["faces"]), tuple(d.get("other", ())), d.get("name"), d.get("at", 0.0)))
        return out

    def add_edit(self, edit: Edit) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO edits (edit) VALUES (?)", (json.dumps(edit.to_dict()),))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _face_row(f: FaceRecord) -> tuple:
    record = {"box": list(f.box), "landmarks": [list(p) for p in f.landmarks], "quality": f.quality.to_dict(),
              "age": f.age, "model": f.model}
    second = None if f.second is None else np.asarray(f.second, np.float32).tobytes()
    return (f.id, f.image, f.index, json.dumps(record), np.asarray(f.vector, np.float32).tobytes(), second)


def _record(row: tuple) -> FaceRecord:
    _, image, idx, text, vector, second, path = row
    d = json.loads(text)
    return FaceRecord(image=image, index=int(idx), box=tuple(d["box"]), landmarks=tuple(tuple(p) for p in d["landmarks"]),
                      quality=FaceQuality.from_dict(d["quality"]), age=d["age"],
                      vector=np.frombuffer(vector, np.float32).copy(), model=d["model"],
                      second=None if second is None else np.frombuffer(second, np.float32).copy(), path=path)
