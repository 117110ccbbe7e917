"""The embedded backend: SQLite (WAL) as the source of truth, a FAISS index beside it.

``sqlite:///path/to/dir`` (or a plain path) holds ``gallery.sqlite`` and ``index/``. No
server: the CLI, the HTTP service and batch jobs may open one store at once.

Why SQLite, measured against LanceDB at 1M x 128-D (``benchmarks/gallery_store_choice.py``,
docs/gallery.md): it erases physically with two pragmas, survives ``kill -9`` with every
committed batch and nothing else, and serialises writers from several processes.

* **Durability.** Every write is one ``BEGIN IMMEDIATE`` transaction (templates, identity,
  change log and journal line together) with ``synchronous=FULL``: a call that returned is
  on disk; a killed writer leaves its transaction out entirely.
* **The index is a cache.** Each template add or delete also appends to ``changes``. A
  process's in-memory index records the last change it applied and replays newer ones
  before each search, so writes by other processes are seen at once. The index is saved
  to ``index/<gallery>.faiss`` (atomically, with its change number) when enough changes
  have piled up and after every erasure; the change log up to the saved point is then
  dropped. Losing the file only costs a rebuild from the templates table.
* **Physical erasure.** ``secure_delete`` is on, so SQLite overwrites deleted rows with
  zeros; after a removal the WAL is checkpointed and truncated, and the index file is
  rewritten without the removed vectors (``tests/contract`` greps every file for them).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from hashlib import sha256
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..atomic import write_atomic
from ..errors import NotFoundError, StorageError
from .base import EnrolItem, GalleryStore, JournalLine, Removal
from .sqljournal import SqlJournal
from .index import DEFAULT_NPROBE, VectorIndex, build
from .journal import GENESIS
from .rows import (TEMPLATE_COLUMNS, consent_json, hits, identity_record, replay, stored_template, vectors_of)
from .types import Consent, GalleryInfo, Hit, IdentityRecord, JournalEntry, StoredTemplate

DB_NAME = "gallery.sqlite"
SAVE_EVERY = 2_000  # changes replayed before the index file is rewritten
_SCHEMA = """
CREATE TABLE IF NOT EXISTS galleries (
    name TEXT PRIMARY KEY, model TEXT NOT NULL, metric TEXT NOT NULL, dim INTEGER NOT NULL, cohort TEXT,
    protected INTEGER NOT NULL, keep_crops INTEGER NOT NULL, salt BLOB NOT NULL, secret BLOB NOT NULL,
    created REAL NOT NULL, journal_seq INTEGER NOT NULL DEFAULT 0, journal_head TEXT NOT NULL,
    index_seq INTEGER NOT NULL DEFAULT 0, identity_count INTEGER NOT NULL DEFAULT 0,
    template_count INTEGER NOT NULL DEFAULT 0, epoch INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS identities (
    gallery TEXT NOT NULL, name TEXT NOT NULL, metadata TEXT NOT NULL, consent TEXT,
    created REAL NOT NULL, updated REAL NOT NULL, PRIMARY KEY (gallery, name));
CREATE TABLE IF NOT EXISTS templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT, gallery TEXT NOT NULL, identity TEXT NOT NULL,
    sealed BLOB NOT NULL, index_vector BLOB NOT NULL, norm_mean REAL, norm_std REAL, quality REAL,
    source TEXT, crop BLOB, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS templates_of ON templates (gallery, identity);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, gallery TEXT NOT NULL, template_id INTEGER NOT NULL, op TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changes_of ON changes (gallery, seq);
CREATE TABLE IF NOT EXISTS journal (
    gallery TEXT NOT NULL, seq INTEGER NOT NULL, time REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    subject TEXT, details TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (gallery, seq));
CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
    BEGIN SELECT RAISE(ABORT, 'the gallery journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal
    WHEN (SELECT COUNT(*) FROM galleries WHERE name = OLD.gallery) > 0
    BEGIN SELECT RAISE(ABORT, 'the gallery journal is append-only'); END;
"""


def store_path(url_path: str | os.PathLike) -> Path:
    return Path(url_path).expanduser()


class SQLiteStore(SqlJournal, GalleryStore):
    scheme = "sqlite"

    def __init__(self, path: str | os.PathLike, nprobe: int = DEFAULT_NPROBE, timeout: float = 30.0) -> None:
        self.root = store_path(path)
        self.nprobe = int(nprobe)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / "index").mkdir(exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the gallery store at {self.root}: {exc}") from exc
        self._lock = threading.RLock()
        self._indexes: dict[str, VectorIndex] = {}
        self._info: dict[str, GalleryInfo] = {}
        try:
            self._db = sqlite3.connect(self.root / DB_NAME, timeout=timeout, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("PRAGMA foreign_keys=ON")
            # Reads through a memory map and a 64 MiB page cache: identify looks up ~64 template rows
            # scattered over a large file, which were a system call each with the defaults.
            self._db.execute("PRAGMA mmap_size=1073741824")
            self._db.execute("PRAGMA cache_size=-65536")
            with self._write():
                for statement in _SCHEMA.split(";\n"):
                    if statement.strip():
                        self._db.execute(statement)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the gallery store {self.root / DB_NAME}: {_explain(exc)}") from exc

    @property
    def url(self) -> str:
        return f"sqlite://{self.root}"

    # -- transactions -----------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StorageError(f"gallery store {self.root} is not writable: {_explain(exc)}") from exc
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StorageError(f"gallery store {self.root}: commit failed: {_explain(exc)}") from exc

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"gallery store {self.root}: {_explain(exc)}") from exc

    # -- galleries ----------------------------------------------------------------------------------
    def create_gallery(self, info: GalleryInfo, line: JournalLine) -> GalleryInfo:
        try:
            with self._write() as db:
                if db.execute("SELECT 1 FROM galleries WHERE name = ?", (info.name,)).fetchone():
                    raise StorageError(f"gallery {info.name!r} exists in {self.url}")
                db.execute("INSERT INTO galleries (name, model, metric, dim, cohort, protected, keep_crops, salt, "
                           "secret, created, journal_head) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           (info.name, info.model, info.metric, info.dim, info.cohort, int(info.protected),
                            int(info.keep_crops), info.salt, info.secret, info.created, GENESIS))
                self._append(db, info.name, line)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot create gallery {info.name!r}: {_explain(exc)}") from exc
        return info

    def get_gallery(self, name: str) -> GalleryInfo | None:
        if name in self._info:
            return self._info[name]
        rows = self._read("SELECT name, model, metric, dim, cohort, protected, keep_crops, created, salt, secret, epoch "
                          "FROM galleries WHERE name = ?", (name,))
        if not rows:
            return None
        n, model, metric, dim, cohort, protected, keep, created, salt, secret, epoch = rows[0]
        info = GalleryInfo(n, model, metric, int(dim), cohort, bool(protected), bool(keep), created, bytes(salt),
                           bytes(secret), int(epoch))
        self._info[name] = info
        return info

    def list_galleries(self) -> list[str]:
        return [r[0] for r in self._read("SELECT name FROM galleries ORDER BY name")]

    def _gallery(self, name: str) -> GalleryInfo:
        info = self.get_gallery(name)
        if info is None:
            raise NotFoundError(f"no gallery {name!r} in {self.url}")
        return info

    # -- identities and templates -------------------------------------------------------------------
    def enrol(self, gallery: str, items: Sequence[EnrolItem], line: JournalLine) -> list[list[int]]:
        info = self._current(gallery)
        now = time.time()
        out: list[list[int]] = []
        new_identities = 0
        try:
            with self._write() as db:
                for item in items:
                    row = db.execute("SELECT metadata FROM identities WHERE gallery = ? AND name = ?",
                                     (gallery, item.identity)).fetchone()
                    if row is None:
                        new_identities += 1
                        db.execute("INSERT INTO identities VALUES (?,?,?,?,?,?)",
                                   (gallery, item.identity, json.dumps(dict(item.metadata or {})),
                                    consent_json(item.consent), now, now))
                    else:
                        merged = {**json.loads(row[0]), **dict(item.metadata or {})}
                        db.execute("UPDATE identities SET metadata = ?, updated = ? WHERE gallery = ? AND name = ?",
                                   (json.dumps(merged), now, gallery, item.identity))
                        if item.consent is not None:
                            db.execute("UPDATE identities SET consent = ? WHERE gallery = ? AND name = ?",
                                       (consent_json(item.consent), gallery, item.identity))
                    out.append(self._insert(db, gallery, info.dim, item.identity, item.templates))
                db.execute("UPDATE galleries SET identity_count = identity_count + ?, template_count = template_count + ? "
                           "WHERE name = ?", (new_identities, sum(map(len, out)), gallery))
                self._append(db, gallery, line)
        except sqlite3.Error as exc:
            raise StorageError(f"enrolment in gallery {gallery!r} failed, nothing was written: {_explain(exc)}") from exc
        return out

    @staticmethod
    def _insert(db: sqlite3.Connection, gallery: str, dim: int, identity: str,
                templates: Sequence[StoredTemplate]) -> list[int]:
        ids = []
        for t in templates:
            vector = np.ascontiguousarray(t.index_vector, "<f4")
            if vector.shape != (dim,):
                raise StorageError(f"index vector of shape {vector.shape} in a {dim}-D gallery")
            cur = db.execute(
                "INSERT INTO templates (gallery, identity, sealed, index_vector, norm_mean, norm_std, "
                "quality, source, crop, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (gallery, identity, t.sealed, vector.tobytes(), t.norm_mean, t.norm_std, t.quality, t.source,
                 t.crop, t.created))
            ids.append(int(cur.lastrowid))
        db.executemany("INSERT INTO changes (gallery, template_id, op) VALUES (?, ?, 'add')", [(gallery, i) for i in ids])
        return ids

    def rewrite(self, gallery: str, info: GalleryInfo, templates: Sequence[StoredTemplate], line: JournalLine) -> GalleryInfo:
        self._current(gallery)
        with self._write() as db:
            db.execute("DELETE FROM templates WHERE gallery = ?", (gallery,))
            db.execute("DELETE FROM changes WHERE gallery = ?", (gallery,))
            by_identity: dict[str, list[StoredTemplate]] = {}
            for t in templates:
                by_identity.setdefault(t.identity, []).append(t)
            for identity, group in by_identity.items():
                self._insert(db, gallery, info.dim, identity, group)
            (latest,), = db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchall()
            # every index built before this point, here or in another process, is stale: rebuild from the table
            db.execute("UPDATE galleries SET model = ?, metric = ?, dim = ?, cohort = ?, protected = ?, keep_crops = ?, "
                       "secret = ?, template_count = ?, index_seq = ?, epoch = epoch + 1 WHERE name = ?",
                       (info.model, info.metric, info.dim, info.cohort, int(info.protected), int(info.keep_crops),
                        info.secret, len(templates), int(latest) + 1, gallery))
            self._append(db, gallery, line)
        with self._lock:
            self._indexes.pop(gallery, None)
            self._info.pop(gallery, None)
            self._index_file(gallery).unlink(missing_ok=True)  # it held the old key's (or model's) vectors
        self._checkpoint()
        return self._gallery(gallery)

    def _current(self, gallery: str) -> GalleryInfo:
        """The cached record, after checking no other handle re-keyed or re-embedded the gallery since."""
        info = self._gallery(gallery)
        rows = self._read("SELECT epoch FROM galleries WHERE name = ?", (gallery,))
        if rows and int(rows[0][0]) != info.epoch:
            raise StorageError(f"gallery {gallery!r} was re-keyed or re-embedded since it was opened; open it again")
        return info

    def get_identity(self, gallery: str, name: str) -> IdentityRecord | None:
        rows = self._read(_IDENTITY_SQL + " WHERE i.gallery = ? AND i.name = ?", (gallery, name))
        return identity_record(gallery, rows[0]) if rows else None

    def list_identities(self, gallery: str, offset: int = 0, limit: int | None = None) -> list[IdentityRecord]:
        rows = self._read(_IDENTITY_SQL + " WHERE i.gallery = ? ORDER BY i.name LIMIT ? OFFSET ?",
                          (gallery, -1 if limit is None else int(limit), int(offset)))
        return [identity_record(gallery, r) for r in rows]

    def usable(self, gallery: str, names: Sequence[str], now: float) -> set[str]:
        out: set[str] = set()
        names = list(dict.fromkeys(names))
        for start in range(0, len(names), 900):
            chunk = names[start:start + 900]
            rows = self._read(f"SELECT name, consent FROM identities WHERE gallery = ? AND name IN "
                              f"({','.join('?' * len(chunk))})", (gallery, *chunk))
            out.update(n for n, c in rows if c is None or Consent.from_dict(json.loads(c)).active(now))
        return out

    def templates(self, gallery: str, name: str) -> list[StoredTemplate]:
        rows = self._read(f"SELECT {TEMPLATE_COLUMNS} FROM templates WHERE gallery = ? AND identity = ? ORDER BY id",
                          (gallery, name))
        return [stored_template(name, r) for r in rows]

    def set_consent(self, gallery: str, name: str, consent: Consent | None, line: JournalLine) -> None:
        with self._write() as db:
            cur = db.execute("UPDATE identities SET consent = ?, updated = ? WHERE gallery = ? AND name = ?",
                             (consent_json(consent), time.time(), gallery, name))
            if cur.rowcount == 0:
                raise NotFoundError(f"{name!r} is not enrolled in gallery {gallery!r}")
            self._append(db, gallery, line)

    def counts(self, gallery: str) -> tuple[int, int]:
        # kept with the gallery in each write's transaction: COUNT(*) over a million rows takes milliseconds
        rows = self._read("SELECT identity_count, template_count FROM galleries WHERE name = ?", (gallery,))
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    def remove(self, gallery: str, name: str, line: JournalLine) -> Removal:
        self._gallery(gallery)
        with self._write() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM templates WHERE gallery = ? AND identity = ?",
                                            (gallery, name))]
            (crops,), = db.execute("SELECT COUNT(crop) FROM templates WHERE gallery = ? AND identity = ?",
                                   (gallery, name)).fetchall()
            cur = db.execute("DELETE FROM identities WHERE gallery = ? AND name = ?", (gallery, name))
            if cur.rowcount == 0 and not ids:
                raise NotFoundError(f"{name!r} is not enrolled in gallery {gallery!r}")
            db.execute("DELETE FROM templates WHERE gallery = ? AND identity = ?", (gallery, name))
            db.execute("UPDATE galleries SET identity_count = identity_count - ?, template_count = template_count - ? "
                       "WHERE name = ?", (int(cur.rowcount > 0), len(ids), gallery))
            db.executemany("INSERT INTO changes (gallery, template_id, op) VALUES (?, ?, 'del')",
                           [(gallery, i) for i in ids])
            seq = self._append(db, gallery, line).seq
        steps = ["rows deleted with SQLite secure_delete (freed pages overwritten with zeros)"]
        steps.append(self._checkpoint())
        index = self._sync(gallery)
        self._save_index(gallery, index, force=True)
        steps.append(f"index file rewritten without the {len(ids)} removed vectors ({index.size} remain)")
        return Removal(len(ids), int(crops), len(ids), cur.rowcount > 0, tuple(steps), seq)

    def _checkpoint(self) -> str:
        """Copy the WAL into the database and truncate it, so no deleted page survives in it."""
        for attempt in range(50):
            with self._lock:
                busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return "write-ahead log checkpointed and truncated to zero bytes"
            time.sleep(0.1)
        return "write-ahead log NOT truncated: another process held a read transaction; it is truncated at the next erasure"

    # -- search -------------------------------------------------------------------------------------
    def search(self, gallery: str, vectors: np.ndarray, k: int) -> list[list[Hit]]:
        info = self._current(gallery)
        index = self._sync(gallery)
        queries = np.ascontiguousarray(np.atleast_2d(vectors), np.float32)
        if index.size == 0:
            return [[] for _ in queries]
        with self._lock:
            sq, ids = index.search(queries, k)
        wanted = sorted({int(i) for i in ids.ravel() if i >= 0})
        meta = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            marks = ",".join("?" * len(chunk))
            # "+gallery": look rows up by their id (the primary key), not by the gallery index
            for tid, ident, nm, ns in self._read(f"SELECT id, identity, norm_mean, norm_std FROM templates "
                                                 f"WHERE id IN ({marks}) AND +gallery = ?", (*chunk, gallery)):
                meta[int(tid)] = (ident, nm, ns)
        return hits(sq, ids, meta, info.metric)

    def _sync(self, gallery: str) -> VectorIndex:
        """This process's index, brought up to the store's last change."""
        with self._lock:
            index = self._indexes.get(gallery)
            (latest,), = self._read("SELECT COALESCE(MAX(seq), 0) FROM changes WHERE gallery = ?", (gallery,))
            (saved_seq,), = self._read("SELECT index_seq FROM galleries WHERE name = ?", (gallery,))
            if index is None or index.applied < saved_seq:
                index = self._load_index(gallery)
            if latest > index.applied:
                self._replay(gallery, index)
            if index.needs_rebuild():
                ids, vectors = self._all_vectors(gallery)
                index.rebuild(ids, vectors)
            self._indexes[gallery] = index
            if index.applied - saved_seq >= SAVE_EVERY:
                self._save_index(gallery, index)
            return index

    def _load_index(self, gallery: str) -> VectorIndex:
        info = self._gallery(gallery)
        path = self._index_file(gallery)
        (saved_seq,), = self._read("SELECT index_seq FROM galleries WHERE name = ?", (gallery,))
        if path.is_file():
            try:
                index = VectorIndex.from_bytes(path.read_bytes(), self.nprobe)
                if index.applied >= saved_seq and index.dim == info.dim:
                    return index
            except (OSError, StorageError, RuntimeError):
                pass  # a damaged cache: rebuilt below from the source of truth
        (latest,), = self._read("SELECT COALESCE(MAX(seq), 0) FROM changes WHERE gallery = ?", (gallery,))
        ids, vectors = self._all_vectors(gallery)
        return build(info.dim, ids, vectors, self.nprobe, applied=max(int(latest), int(saved_seq)))

    def _replay(self, gallery: str, index: VectorIndex) -> None:
        rows = self._read("SELECT seq, template_id, op FROM changes WHERE gallery = ? AND seq > ? ORDER BY seq",
                          (gallery, index.applied))

        def fetch(adds: list[int]) -> list[tuple]:
            got = []
            for start in range(0, len(adds), 900):
                chunk = adds[start:start + 900]
                got += self._read(f"SELECT id, index_vector FROM templates WHERE id IN ({','.join('?' * len(chunk))}) "
                                  "AND +gallery = ?", (*chunk, gallery))
            return got

        replay(index, rows, fetch)

    def _all_vectors(self, gallery: str) -> tuple[np.ndarray, np.ndarray]:
        info = self._gallery(gallery)
        return vectors_of(self._read("SELECT id, index_vector FROM templates WHERE gallery = ? ORDER BY id", (gallery,)),
                          info.dim)

    def _save_index(self, gallery: str, index: VectorIndex, force: bool = False) -> None:
        """Write the index file and drop the change log it covers, unless a newer file is already saved."""
        with self._write() as db:
            (saved_seq,), = db.execute("SELECT index_seq FROM galleries WHERE name = ?", (gallery,)).fetchall()
            if index.applied < saved_seq or (index.applied == saved_seq and not force):
                return
            try:
                write_atomic(self._index_file(gallery), index.to_bytes())
            except OSError as exc:
                raise StorageError(f"cannot write the gallery index {self._index_file(gallery)}: {exc}") from exc
            db.execute("UPDATE galleries SET index_seq = ? WHERE name = ?", (index.applied, gallery))
            db.execute("DELETE FROM changes WHERE gallery = ? AND seq <= ?", (gallery, index.applied))

    def _index_file(self, gallery: str) -> Path:
        return self.root / "index" / f"{sha256(gallery.encode()).hexdigest()[:24]}.faiss"

    # -- journal ------------------------------------------------------------------------------------
    def log(self, gallery: str, line: JournalLine, durable: bool = True) -> JournalEntry:
        if durable:
            with self._write() as db:
                return self._append(db, gallery, line)
        with self._lock:  # WAL with synchronous=NORMAL: committed for every process, synced at the next checkpoint
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                with self._write() as db:
                    return self._append(db, gallery, line)
            finally:
                self._db.execute("PRAGMA synchronous=FULL")

    def close(self) -> None:
        with self._lock:
            for gallery, index in list(self._indexes.items()):
                try:
                    self._save_index(gallery, index)
                except _CLOSE_ERRORS:
                    pass  # the cache is rebuilt from the source of truth next time
            self._indexes.clear()
            try:
                self._db.close()
            except sqlite3.Error:
                pass


_CLOSE_ERRORS = (StorageError, sqlite3.Error)

_IDENTITY_SQL = ("SELECT i.name, i.metadata, i.consent, i.created, i.updated, "
                 "(SELECT COUNT(*) FROM templates t WHERE t.gallery = i.gallery AND t.identity = i.name) "
                 "FROM identities i")


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return f"{text} (another process holds the store; try again)"
    if "not a database" in text or "malformed" in text:
        return f"{text} (the store file is damaged or not a mien gallery)"
    return text
