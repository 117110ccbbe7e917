"""The SQL server backend: PostgreSQL as the source of truth, a FAISS index in each process.

    postgresql://user[:password]@host:port/dbname[?nprobe=32&timeout=10]   (or postgres://)

Through psycopg 3 (``pip install 'mien[postgres]'``). One database holds any number of
galleries and any number of processes may use it at once.

* **Layout.** ``mien_galleries`` (one row per gallery: its record, counts, journal head),
  ``mien_changes`` (template ids added and deleted, no vectors) and ``mien_journal`` are
  shared; each gallery has its own identity table ``mien_i_<hash>`` and template table
  ``mien_t_<hash>_<epoch>`` (sealed template, rotated index vector, sealed crop), so an
  erasure rewrites one gallery's tables, not everyone's, and a re-key or re-embed fills a new
  template table and drops the old one whole.
* **Transactions.** Every write is one transaction that first locks the gallery's row
  (``SELECT ... FOR UPDATE``): writers to one gallery serialise across processes, so the
  journal chain cannot fork; templates, identity, counts, change log and journal line commit
  together with ``synchronous_commit=on``, so a call that returned is durable and a killed
  writer leaves nothing. Reads run in autocommit and hold no locks.
* **The index.** pgvector is not packaged for Debian 12 (bookworm), so this store keeps the
  embedded store's FAISS index (``index.py``: exact, then IVF-Flat with full vectors past
  20,000 templates) in memory, built from the template table at a process's first search
  and brought up to date from ``mien_changes`` before each one, so writes by other processes
  are seen at once. No index file is written anywhere.
* **Physical erasure.** PostgreSQL keeps a deleted row's bytes in its table file until the
  page is rewritten (a plain VACUUM frees the space without overwriting it) and in the WAL
  until the segment goes. So after the delete commits the gallery's tables are rewritten
  with ``VACUUM FULL`` (new files for the table, its TOAST table and indexes; the old ones
  are truncated and unlinked), then ``pg_switch_wal()`` and ``CHECKPOINT`` let the server
  delete the WAL segments that held the rows. That last step needs the server's WAL set up
  for it (``wal_recycle = off``, no ``wal_keep_size``, no archiving, no replication slot)
  and a role allowed to run both (superuser, or ``pg_checkpoint`` and EXECUTE on
  ``pg_switch_wal``); the receipt checks and names each of these. VACUUM FULL copies the
  rows that an open snapshot can still see, so it first waits (up to ``timeout``) for every
  session whose snapshot predates the delete, and names those that outlast the wait.
  Statistics are off for every column holding personal data, so ANALYZE copies none of it
  into ``pg_statistic``. An erasure not finished (killed after its delete, or held up) is
  finished by the next erasure or the next handle that opens the gallery.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from hashlib import sha256
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import InputError, NotFoundError, StorageError, StoreUnavailableError
from .base import EnrolItem, GalleryStore, JournalLine, Removal
from .sqljournal import SqlJournal
from .index import DEFAULT_NPROBE, VectorIndex, build
from .journal import GENESIS
from .rows import (TEMPLATE_COLUMNS, consent_json, hits, identity_record, replay, stored_template, vectors_of)
from .types import Consent, GalleryInfo, Hit, IdentityRecord, JournalEntry, StoredTemplate

PRUNE_AT = 50_000  # changes kept before the log is trimmed ...
KEEP = 10_000  # ... to this many (an index further behind rebuilds from the table)
_SCHEMA_LOCK = 0x6D69656E  # advisory lock key ("mien") that serialises schema creation
_SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS mien_template_id;
CREATE SEQUENCE IF NOT EXISTS mien_change_seq;
CREATE TABLE IF NOT EXISTS mien_galleries (
    name TEXT PRIMARY KEY, model TEXT NOT NULL, metric TEXT NOT NULL, dim INTEGER NOT NULL, cohort TEXT,
    protected BOOLEAN NOT NULL, keep_crops BOOLEAN NOT NULL, salt BYTEA NOT NULL, secret BYTEA NOT NULL,
    created DOUBLE PRECISION NOT NULL, journal_seq BIGINT NOT NULL DEFAULT 0, journal_head TEXT NOT NULL,
    index_seq BIGINT NOT NULL DEFAULT 0, identity_count BIGINT NOT NULL DEFAULT 0,
    template_count BIGINT NOT NULL DEFAULT 0, epoch INTEGER NOT NULL DEFAULT 0,
    erase_pending BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS mien_changes (
    seq BIGINT PRIMARY KEY DEFAULT nextval('mien_change_seq'), gallery TEXT NOT NULL, template_id BIGINT NOT NULL,
    op TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mien_changes_of ON mien_changes (gallery, seq);
CREATE TABLE IF NOT EXISTS mien_journal (
    gallery TEXT NOT NULL, seq BIGINT NOT NULL, time DOUBLE PRECISION NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, subject TEXT, details TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL,
    PRIMARY KEY (gallery, seq));
CREATE OR REPLACE FUNCTION mien_journal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' OR EXISTS (SELECT 1 FROM mien_galleries WHERE name = OLD.gallery) THEN
        RAISE EXCEPTION 'the gallery journal is append-only';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER mien_journal_append_only BEFORE UPDATE OR DELETE ON mien_journal
    FOR EACH ROW EXECUTE FUNCTION mien_journal_guard()
"""
_SCHEMA_DONE = "SELECT 1 FROM pg_trigger WHERE tgname = 'mien_journal_append_only'"
_IDENTITIES = """CREATE TABLE {i} (
    name TEXT PRIMARY KEY, metadata TEXT NOT NULL, consent TEXT, created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL);
ALTER TABLE {i} ALTER name SET STATISTICS 0, ALTER metadata SET STATISTICS 0, ALTER consent SET STATISTICS 0"""
_TEMPLATES = """CREATE TABLE {t} (
    id BIGINT PRIMARY KEY, identity TEXT NOT NULL, sealed BYTEA NOT NULL, index_vector BYTEA NOT NULL,
    norm_mean DOUBLE PRECISION, norm_std DOUBLE PRECISION, quality DOUBLE PRECISION, source TEXT, crop BYTEA,
    created DOUBLE PRECISION NOT NULL);
CREATE INDEX ON {t} (identity);
ALTER TABLE {t} ALTER identity SET STATISTICS 0, ALTER sealed SET STATISTICS 0, ALTER index_vector SET STATISTICS 0,
    ALTER source SET STATISTICS 0, ALTER crop SET STATISTICS 0"""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:400]


class PostgresStore(SqlJournal, GalleryStore):
    scheme = "postgresql"
    placeholder, prefix = "%s", "mien_"  # for the journal's shared SQL

    def __init__(self, conninfo: str, nprobe: int = DEFAULT_NPROBE, timeout: float = 10.0) -> None:
        try:
            import psycopg
            from psycopg import sql
        except ImportError as exc:
            raise StorageError("the PostgreSQL gallery store needs psycopg: pip install 'mien[postgres]'") from exc
        self._pg, self._sql = psycopg, sql
        try:
            params = psycopg.conninfo.conninfo_to_dict(conninfo)
        except psycopg.Error as exc:
            raise InputError(f"not a PostgreSQL URL: {conninfo!r}: {_one_line(exc)}") from exc
        self._conninfo = conninfo
        self.host, self.port = str(params.get("host") or "localhost"), int(params.get("port") or 5432)
        self.user, self.dbname = params.get("user"), params.get("dbname")
        self.nprobe, self.timeout = int(nprobe), float(timeout)
        self._lock = threading.RLock()
        self._indexes: dict[str, VectorIndex] = {}
        self._info: dict[str, GalleryInfo] = {}
        self._db: Any = None
        self._connect()
        if not self._read(_SCHEMA_DONE):
            with self._write(None, "create the schema") as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                if not cur.execute(_SCHEMA_DONE).fetchone():  # another process may have made it meanwhile
                    cur.execute(_SCHEMA)

    @property
    def url(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"postgresql://{user}{self.host}:{self.port}/{self.dbname or ''}"

    # -- connection and transactions --------------------------------------------------------------
    def _connect(self) -> None:
        try:
            self._db = self._pg.connect(self._conninfo, autocommit=True, connect_timeout=max(1, int(self.timeout)),
                                        application_name="mien")
            self._db.execute("SET synchronous_commit = on")
            self._db.execute(f"SET lock_timeout = {int(self.timeout * 1000)}")
        except self._pg.Error as exc:
            raise self._error("connect", exc) from exc

    def _conn(self) -> Any:
        if self._db is None or self._db.closed or self._db.broken:
            self._connect()
        return self._db

    def _error(self, what: str, exc: BaseException, rolled_back: bool = False) -> StorageError:
        """The mien error for a psycopg one, in one line; ``rolled_back``: say that the transaction wrote nothing."""
        state, text = getattr(exc, "sqlstate", None), _one_line(exc)
        if isinstance(exc, self._pg.OperationalError) and "FATAL:" in text and what == "connect":
            # the server answered and refused: no such database or role, authentication, too many clients
            return StorageError(f"PostgreSQL at {self.host}:{self.port} refused the connection: {text}")
        if isinstance(exc, self._pg.OperationalError) and (state is None or state[:2] == "08"
                                                             or state in ("57P01", "57P02", "57P03")):
            hint = "" if "server running" in text.lower() else "; is the server running?"
            return StoreUnavailableError(f"PostgreSQL at {self.host}:{self.port} does not answer ({what}): {text}{hint}")
        nothing = ", nothing was written" if rolled_back else ""
        text = text[:300]
        if state == "55P03":  # lock_not_available
            return StorageError(f"{what}{nothing}: another writer holds the gallery in {self.url}; try again")
        if state == "42P01":  # undefined_table: the tables this handle knew were replaced
            return StorageError(f"{what}{nothing}: the gallery was re-keyed or re-embedded since it was opened; "
                                "open it again")
        return StorageError(f"PostgreSQL: {what} failed{nothing}: {text}")

    @contextmanager
    def _write(self, gallery: str | None, what: str, epoch: int | None = None) -> Iterator[Any]:
        """One transaction; with ``gallery``, holding its row's lock (and checking its epoch) throughout."""
        with self._lock:
            db = self._conn()
            try:
                with db.transaction():
                    cur = db.cursor()
                    if gallery is not None:
                        row = cur.execute("SELECT epoch FROM mien_galleries WHERE name = %s FOR UPDATE",
                                          (gallery,)).fetchone()
                        if row is None:
                            raise NotFoundError(f"no gallery {gallery!r} in {self.url}")
                        if epoch is not None and int(row[0]) != epoch:
                            raise _stale(gallery)
                    yield cur
            except self._pg.Error as exc:
                raise self._error(what, exc, rolled_back=True) from exc

    def _read(self, query: Any, args: Sequence[Any] = (), what: str = "read") -> list[tuple]:
        with self._lock:
            try:
                return self._conn().execute(query, args).fetchall()
            except self._pg.Error as exc:
                raise self._error(what, exc) from exc

    def _table(self, kind: str, gallery: str, epoch: int = 0) -> Any:
        name = f"mien_{kind}_{sha256(gallery.encode()).hexdigest()[:24]}" + (f"_{epoch}" if kind == "t" else "")
        return self._sql.Identifier(name)

    def _q(self, text: str, info: GalleryInfo) -> Any:
        """``text`` with ``{t}`` and ``{i}`` naming the gallery's template and identity tables."""
        return self._sql.SQL(text).format(t=self._table("t", info.name, info.epoch), i=self._table("i", info.name))

    # -- galleries ----------------------------------------------------------------------------------
    def create_gallery(self, info: GalleryInfo, line: JournalLine) -> GalleryInfo:
        with self._write(None, f"create gallery {info.name!r}") as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            if cur.execute("SELECT 1 FROM mien_galleries WHERE name = %s", (info.name,)).fetchone():
                raise StorageError(f"gallery {info.name!r} exists in {self.url}")
            cur.execute("INSERT INTO mien_galleries (name, model, metric, dim, cohort, protected, keep_crops, salt, "
                        "secret, created, journal_head) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                        (info.name, info.model, info.metric, info.dim, info.cohort, info.protected, info.keep_crops,
                         info.salt, info.secret, info.created, GENESIS))
            cur.execute(self._q(_IDENTITIES + ";\n" + _TEMPLATES, info))
            self._append(cur, info.name, line)
        return info

    def get_gallery(self, name: str) -> GalleryInfo | None:
        if name in self._info:
            return self._info[name]
        rows = self._read("SELECT name, model, metric, dim, cohort, protected, keep_crops, created, salt, secret, epoch, "
                          "erase_pending FROM mien_galleries WHERE name = %s", (name,))
        if not rows:
            return None
        n, model, metric, dim, cohort, protected, keep, created, salt, secret, epoch, pending = rows[0]
        info = GalleryInfo(n, model, metric, int(dim), cohort, bool(protected), bool(keep), float(created), bytes(salt),
                           bytes(secret), int(epoch))
        self._info[name] = info
        if pending:
            # an erasure (or re-key) killed after its delete committed: finish it
            self._erase_physically(info, [*self._own_tables(info), self._sql.Identifier("mien_galleries")])
        return info

    def list_galleries(self) -> list[str]:
        return [r[0] for r in self._read("SELECT name FROM mien_galleries ORDER BY name")]

    def _gallery(self, name: str) -> GalleryInfo:
        info = self.get_gallery(name)
        if info is None:
            raise NotFoundError(f"no gallery {name!r} in {self.url}")
        return info

    def _current(self, gallery: str) -> GalleryInfo:
        """The cached record, after checking no other handle re-keyed or re-embedded the gallery since."""
        info = self._gallery(gallery)
        rows = self._read("SELECT epoch FROM mien_galleries WHERE name = %s", (gallery,))
        if rows and int(rows[0][0]) != info.epoch:
            raise _stale(gallery)
        return info

    # -- identities and templates -------------------------------------------------------------------
    def enrol(self, gallery: str, items: Sequence[EnrolItem], line: JournalLine) -> list[list[int]]:
        info = self._current(gallery)
        now = time.time()
        new_identities = 0
        with self._write(gallery, f"enrolment in gallery {gallery!r}", info.epoch) as cur:
            for item in items:
                row = cur.execute(self._q("SELECT metadata FROM {i} WHERE name = %s", info), (item.identity,)).fetchone()
                if row is None:
                    new_identities += 1
                    cur.execute(self._q("INSERT INTO {i} VALUES (%s,%s,%s,%s,%s)", info),
                                (item.identity, json.dumps(dict(item.metadata or {})), consent_json(item.consent),
                                 now, now))
                else:
                    merged = {**json.loads(row[0]), **dict(item.metadata or {})}
                    cur.execute(self._q("UPDATE {i} SET metadata = %s, updated = %s WHERE name = %s", info),
                                (json.dumps(merged), now, item.identity))
                    if item.consent is not None:
                        cur.execute(self._q("UPDATE {i} SET consent = %s WHERE name = %s", info),
                                    (consent_json(item.consent), item.identity))
            ids = iter(self._insert(cur, info, [(item.identity, t) for item in items for t in item.templates]))
            cur.execute("UPDATE mien_galleries SET identity_count = identity_count + %s, "
                        "template_count = template_count + %s WHERE name = %s",
                        (new_identities, sum(len(item.templates) for item in items), gallery))
            self._append(cur, gallery, line)
        return [[next(ids) for _ in item.templates] for item in items]

    def _insert(self, cur: Any, info: GalleryInfo, templates: Sequence[tuple[str, StoredTemplate]]) -> list[int]:
        if not templates:
            return []
        ids = [int(r[0]) for r in cur.execute("SELECT nextval('mien_template_id') FROM generate_series(1, %s)",
                                              (len(templates),)).fetchall()]
        with cur.copy(self._q(f"COPY {{t}} (identity, {TEMPLATE_COLUMNS}) FROM STDIN", info)) as copy:
            for tid, (identity, t) in zip(ids, templates):
                vector = np.ascontiguousarray(t.index_vector, "<f4")
                if vector.shape != (info.dim,):
                    raise StorageError(f"index vector of shape {vector.shape} in a {info.dim}-D gallery")
                copy.write_row((identity, tid, t.sealed, vector.tobytes(), float(t.created), _float(t.quality),
                                t.source, _float(t.norm_mean), _float(t.norm_std), t.crop))
        cur.executemany("INSERT INTO mien_changes (gallery, template_id, op) VALUES (%s, %s, 'add')",
                        [(info.name, i) for i in ids])
        return ids

    def rewrite(self, gallery: str, info: GalleryInfo, templates: Sequence[StoredTemplate], line: JournalLine) -> GalleryInfo:
        old = self._current(gallery)
        new = GalleryInfo(gallery, info.model, info.metric, info.dim, info.cohort, info.protected, info.keep_crops,
                          old.created, old.salt, info.secret, old.epoch + 1)
        with self._write(gallery, f"rewrite of gallery {gallery!r}", old.epoch) as cur:
            cur.execute(self._q(_TEMPLATES, new))
            self._insert(cur, new, [(t.identity, t) for t in templates])
            cur.execute("DELETE FROM mien_changes WHERE gallery = %s", (gallery,))
            # every index built before this point, here or in another process, is stale: rebuild from the table
            cur.execute("UPDATE mien_galleries SET model = %s, metric = %s, dim = %s, cohort = %s, protected = %s, "
                        "keep_crops = %s, secret = %s, template_count = %s, index_seq = nextval('mien_change_seq'), "
                        "epoch = epoch + 1, erase_pending = pg_current_xact_id()::text::bigint WHERE name = %s",
                        (new.model, new.metric, new.dim, new.cohort, new.protected, new.keep_crops, new.secret,
                         len(templates), gallery))
            # the old key's (or model's) vectors and crops go with their table, whole, at commit
            cur.execute(self._q("DROP TABLE {t}", old))
            self._append(cur, gallery, line)
        with self._lock:
            self._indexes.pop(gallery, None)
            self._info.pop(gallery, None)
        self._erase_physically(new, [self._sql.Identifier("mien_galleries")])  # the old sealed secret; the WAL
        return self._gallery(gallery)

    def get_identity(self, gallery: str, name: str) -> IdentityRecord | None:
        info = self._current(gallery)
        rows = self._read(self._q(_IDENTITY_SQL + " WHERE n.name = %s", info), (name,))
        return identity_record(gallery, rows[0]) if rows else None

    def list_identities(self, gallery: str, offset: int = 0, limit: int | None = None) -> list[IdentityRecord]:
        info = self._current(gallery)
        rows = self._read(self._q(_IDENTITY_SQL + " ORDER BY n.name COLLATE \"C\" LIMIT %s OFFSET %s", info),
                          (limit, int(offset)))
        return [identity_record(gallery, r) for r in rows]

    def usable(self, gallery: str, names: Sequence[str], now: float) -> set[str]:
        info = self._gallery(gallery)
        names = list(dict.fromkeys(names))
        if not names:
            return set()
        rows = self._read(self._q("SELECT name, consent FROM {i} WHERE name = ANY(%s)", info), (names,))
        return {n for n, c in rows if c is None or Consent.from_dict(json.loads(c)).active(now)}

    def templates(self, gallery: str, name: str) -> list[StoredTemplate]:
        info = self._current(gallery)
        rows = self._read(self._q(f"SELECT {TEMPLATE_COLUMNS} FROM {{t}} WHERE identity = %s ORDER BY id", info),
                          (name,))
        return [stored_template(name, r) for r in rows]

    def set_consent(self, gallery: str, name: str, consent: Consent | None, line: JournalLine) -> None:
        info = self._current(gallery)
        with self._write(gallery, f"consent change in gallery {gallery!r}", info.epoch) as cur:
            cur.execute(self._q("UPDATE {i} SET consent = %s, updated = %s WHERE name = %s", info),
                        (consent_json(consent), time.time(), name))
            if cur.rowcount == 0:
                raise NotFoundError(f"{name!r} is not enrolled in gallery {gallery!r}")
            self._append(cur, gallery, line)

    def counts(self, gallery: str) -> tuple[int, int]:
        rows = self._read("SELECT identity_count, template_count FROM mien_galleries WHERE name = %s", (gallery,))
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    def remove(self, gallery: str, name: str, line: JournalLine) -> Removal:
        info = self._current(gallery)
        with self._write(gallery, f"erasure in gallery {gallery!r}", info.epoch) as cur:
            (unfinished,) = cur.execute("SELECT erase_pending FROM mien_galleries WHERE name = %s", (gallery,)).fetchone()
            ids = [int(r[0]) for r in cur.execute(self._q("SELECT id FROM {t} WHERE identity = %s", info), (name,))]
            (crops,) = cur.execute(self._q("SELECT COUNT(crop) FROM {t} WHERE identity = %s", info), (name,)).fetchone()
            cur.execute(self._q("DELETE FROM {i} WHERE name = %s", info), (name,))
            identity = cur.rowcount > 0
            if not identity and not ids:
                raise NotFoundError(f"{name!r} is not enrolled in gallery {gallery!r}")
            cur.execute(self._q("DELETE FROM {t} WHERE identity = %s", info), (name,))
            cur.execute("UPDATE mien_galleries SET identity_count = identity_count - %s, "
                        "template_count = template_count - %s, erase_pending = pg_current_xact_id()::text::bigint "
                        "WHERE name = %s",
                        (int(identity), len(ids), gallery))
            cur.executemany("INSERT INTO mien_changes (gallery, template_id, op) VALUES (%s, %s, 'del')",
                            [(gallery, i) for i in ids])
            seq = self._append(cur, gallery, line).seq
        steps = [f"rows deleted in one transaction: {len(ids)} templates, {int(crops)} crops, the identity record"]
        tables = self._own_tables(info) + ([self._sql.Identifier("mien_galleries")] if unfinished else [])
        steps.extend(self._erase_physically(info, tables))  # with an earlier unfinished one (a re-key's), if any
        index = self._sync(info)
        steps.append(f"FAISS index (in this process's memory; no index file is kept) without the {len(ids)} removed "
                     f"vectors ({index.size} remain); other processes drop them at their next search")
        return Removal(len(ids), int(crops), len(ids), identity, tuple(steps), seq)

    # -- physical erasure ---------------------------------------------------------------------------
    def _own_tables(self, info: GalleryInfo) -> list[Any]:
        return [self._table("t", info.name, info.epoch), self._table("i", info.name)]

    def _erase_physically(self, info: GalleryInfo, tables: Sequence[Any]) -> list[str]:
        """Rewrite the gallery's tables and let the server delete the WAL that held the removed rows.

        Each step that cannot be finished is said, not raised. ``erase_pending`` holds the id of
        the last erasure's transaction until every step is done after it, so the next erasure or
        the next handle to open the gallery finishes an unfinished one.
        """
        steps, done = [], True
        with self._lock:
            db = self._conn()
            try:
                (pending,) = db.execute("SELECT erase_pending FROM mien_galleries WHERE name = %s",
                                        (info.name,)).fetchone()
                holders = self._old_snapshots(db, int(pending))
            except self._pg.Error as exc:
                raise self._error("erasure", exc) from exc
            if holders:
                done = False
                steps.append(f"tables NOT rewritten: session(s) {holders} still hold a snapshot taken before the "
                             "erasure, and VACUUM FULL keeps the rows such a snapshot can see; the next erasure, or "
                             "the next handle to open the gallery, rewrites them")
            for table in tables if done else ():
                try:
                    db.execute(self._sql.SQL("VACUUM (FULL, ANALYZE) {}").format(table))
                except self._pg.Error as exc:
                    if isinstance(self._error("vacuum", exc), StoreUnavailableError):
                        raise self._error("vacuum", exc) from exc
                    done = False
                    steps.append(f"{table.as_string(db)} NOT rewritten ({_one_line(exc)}): the removed rows' bytes "
                                 "stay in its free space until VACUUM FULL runs on it")
            if done:
                names = ", ".join(t.as_string(db) for t in tables)
                steps.append(f"VACUUM FULL on {names}: each table, its TOAST table and indexes rewritten into new "
                             "files, the old files truncated and unlinked (a plain VACUUM leaves the bytes in place)")
            wal_done, wal_steps = self._drop_wal(db)
            steps.extend(wal_steps)
            if done and wal_done:
                try:
                    # an erasure committed meanwhile has a newer id and stays pending for its own steps
                    db.execute("UPDATE mien_galleries SET erase_pending = 0 WHERE name = %s AND erase_pending = %s",
                               (info.name, pending))
                except self._pg.Error as exc:
                    raise self._error("erasure bookkeeping", exc) from exc
        return steps

    def _old_snapshots(self, db: Any, xid: int) -> str:
        """Other sessions whose snapshot still sees transaction ``xid`` in progress, after waiting up to ``timeout``."""
        deadline = time.monotonic() + self.timeout
        while xid:
            (holders,) = db.execute(
                "SELECT string_agg(pid::text, ', ') FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND backend_xmin IS NOT NULL AND age(backend_xmin) >= age(xid(%s::text::xid8))", (str(xid),)).fetchone()
            if not holders or time.monotonic() > deadline:
                return holders or ""
            time.sleep(0.1)
        return ""

    def _drop_wal(self, db: Any) -> tuple[bool, list[str]]:
        """Switch to a new WAL segment and checkpoint, so the server deletes the segments before it."""
        try:
            recycle, keep, archive = db.execute(
                "SELECT current_setting('wal_recycle'), current_setting('wal_keep_size'), "
                "current_setting('archive_mode')").fetchone()
            (slots,) = db.execute("SELECT COUNT(*) FROM pg_replication_slots").fetchone()
            db.execute("SELECT pg_switch_wal()")
            db.execute("CHECKPOINT")
        except self._pg.Error as exc:
            if isinstance(self._error("checkpoint", exc), StoreUnavailableError):
                raise self._error("checkpoint", exc) from exc
            return False, [f"WAL NOT cleared ({_one_line(exc)}): the removed rows stay in WAL segment files until the "
                           "server's own checkpoints delete them (the role needs pg_checkpoint and EXECUTE on "
                           "pg_switch_wal, or superuser)"]
        kept = []
        if recycle != "off":
            kept.append("wal_recycle is on, so old segments are renamed for reuse, not deleted: their bytes stay until "
                        "overwritten (set wal_recycle = off)")
        if keep not in ("0", "0kB", "0MB"):
            kept.append(f"wal_keep_size = {keep} keeps old segments (set it to 0)")
        if archive != "off":
            kept.append(f"archive_mode = {archive}: archived WAL segments hold the removed rows (outside this server)")
        if slots:
            kept.append(f"{slots} replication slot(s) keep WAL segments (and replicas hold copies)")
        if kept:
            return False, ["WAL switched and checkpointed, but NOT cleared: " + "; ".join(kept)]
        return True, ["WAL switched to a new segment and checkpointed: the segments that held the removed rows were "
                      "deleted (wal_recycle off, no wal_keep_size, no archiving, no replication slot)"]

    # -- search -------------------------------------------------------------------------------------
    def search(self, gallery: str, vectors: np.ndarray, k: int) -> list[list[Hit]]:
        info = self._current(gallery)
        index = self._sync(info)
        queries = np.ascontiguousarray(np.atleast_2d(vectors), np.float32)
        if index.size == 0:
            return [[] for _ in queries]
        with self._lock:
            sq, ids = index.search(queries, k)
        wanted = sorted({int(i) for i in ids.ravel() if i >= 0})
        if not wanted:
            return [[] for _ in queries]
        meta = {int(tid): (ident, nm, ns) for tid, ident, nm, ns in self._read(
            self._q("SELECT id, identity, norm_mean, norm_std FROM {t} WHERE id = ANY(%s)", info), (wanted,), "search")}
        return hits(sq, ids, meta, info.metric)

    def _sync(self, info: GalleryInfo) -> VectorIndex:
        """This process's index, brought up to the store's last change (rebuilt when it fell too far behind)."""
        gallery = info.name
        with self._lock:
            index = self._indexes.get(gallery)
            (index_seq, latest), = self._read(
                "SELECT index_seq, (SELECT COALESCE(MAX(seq), 0) FROM mien_changes WHERE gallery = %s) "
                "FROM mien_galleries WHERE name = %s", (gallery, gallery), "index sync")
            if index is None or index.applied < index_seq or index.dim != info.dim:
                ids, vectors = self._all_vectors(info)  # read after ``latest``: a later write is replayed again
                index = build(info.dim, ids, vectors, self.nprobe, applied=max(int(latest), int(index_seq)))
            elif latest > index.applied:
                self._replay(info, index)
            if index.needs_rebuild():
                index.rebuild(*self._all_vectors(info))
            self._indexes[gallery] = index
            if latest - index_seq >= PRUNE_AT and index.applied >= latest:
                with self._write(gallery, "change log trim", info.epoch) as cur:
                    cur.execute("UPDATE mien_galleries SET index_seq = %s WHERE name = %s", (latest - KEEP, gallery))
                    cur.execute("DELETE FROM mien_changes WHERE gallery = %s AND seq <= %s", (gallery, latest - KEEP))
            return index

    def _replay(self, info: GalleryInfo, index: VectorIndex) -> None:
        rows = self._read("SELECT seq, template_id, op FROM mien_changes WHERE gallery = %s AND seq > %s ORDER BY seq",
                          (info.name, index.applied), "index sync")
        replay(index, rows, lambda adds: self._read(
            self._q("SELECT id, index_vector FROM {t} WHERE id = ANY(%s)", info), (adds,), "index sync"))

    def _all_vectors(self, info: GalleryInfo) -> tuple[np.ndarray, np.ndarray]:
        return vectors_of(self._read(self._q("SELECT id, index_vector FROM {t} ORDER BY id", info), (), "index build"),
                          info.dim)

    # -- journal ------------------------------------------------------------------------------------
    def log(self, gallery: str, line: JournalLine, durable: bool = True) -> JournalEntry:
        with self._write(gallery, f"journal of gallery {gallery!r}") as cur:
            if not durable:  # this transaction only: return before the WAL flush
                cur.execute("SET LOCAL synchronous_commit TO OFF")
            return self._append(cur, gallery, line)

    def close(self) -> None:
        with self._lock:
            self._indexes.clear()
            if self._db is not None:
                try:
                    self._db.close()
                except self._pg.Error:
                    pass  # closing a dead connection: nothing left to release


_IDENTITY_SQL = ("SELECT n.name, n.metadata, n.consent, n.created, n.updated, "
                 "(SELECT COUNT(*) FROM {t} t WHERE t.identity = n.name) FROM {i} n")


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _stale(gallery: str) -> StorageError:
    return StorageError(f"gallery {gallery!r} was re-keyed or re-embedded since it was opened; open it again")
