"""The distributed backend: a Milvus server (standalone or cluster) through ``pymilvus.MilvusClient``.

    milvus://host:port[?db=NAME&nprobe=32&consistency=session&timeout=10]

Milvus has no transactions and no locks, so this backend builds the contract's guarantees
from what it has: linearisable (``Strong``) reads and row timestamps.

* **One writer per gallery at a time, and all-or-nothing writes.** A write first *claims*
  the next journal number by inserting a claim row, then reads the claims for that number
  with Strong consistency: it goes on only if its claim is the only one (two claimants
  cannot both see themselves alone, since the later insert's read sees the earlier one).
  Every row it writes carries the claim's token and number. Flipping the claim to ``done``
  is the commit; the gallery's head (last committed number) is then advanced. Readers
  only see rows whose number is at or below the head, so a writer killed midway leaves
  nothing visible; the next writer deletes an abandoned claim's rows once its lease
  (``LEASE_S``) has run out, and finishes an abandoned erasure instead of undoing it.
* **Consistency.** Writes and the reads they depend on, ``verify`` (``templates``,
  ``get_identity``) and erasure use Strong consistency. ``identify`` reads at the URL's
  ``consistency`` (default ``session``: this process sees its own writes at once, others'
  within Milvus's staleness bound) because Strong costs one server time tick a call
  (``proxy.timeTickInterval``, 200 ms by default; ``scripts/milvus.sh`` sets 50 ms).
* **Physical erasure.** Rows are deleted, the collections flushed and compacted, so the
  deleted rows leave the segment files; Milvus's garbage collector then removes the old
  segment files after ``dataCoord.gc.dropTolerance`` and its message log drops the
  inserts after its retention; both are server settings, named in each receipt.
* **Layout.** ``mien_galleries``, ``mien_identities`` and ``mien_journal`` hold every
  gallery's records; each gallery's templates and crops live in their own collections,
  named by the gallery and its epoch, so a re-key or re-embed fills new collections and
  drops the old ones whole.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import random
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from .._milvus import call, ensure_collection, query_all
from ..errors import InputError, NotFoundError, StorageError
from .base import EnrolItem, GalleryStore, JournalLine, Removal
from .index import DEFAULT_NPROBE
from .journal import GENESIS, make_entry
from .types import Consent, GalleryInfo, Hit, IdentityRecord, JournalEntry, StoredTemplate

GALLERIES, IDENTITIES, JOURNAL = "mien_galleries", "mien_identities", "mien_journal"
LEASE_S = 60.0  # a claim older than this, not renewed, belongs to a dead writer
TEXT_MAX = 65_535  # Milvus's longest VARCHAR
CROP_CHUNK = 48_000  # raw bytes of a crop per row (base64 fits TEXT_MAX)
PAGE = 4_000
LEVELS = {"strong": "Strong", "session": "Session", "bounded": "Bounded", "eventually": "Eventually"}


def _hex(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _b64(data: bytes | None) -> str:
    return base64.b64encode(data or b"").decode()


def _num(value: float | None) -> float:
    return float("nan") if value is None else float(value)


_counter = itertools.count()


def _new_id() -> int:
    """Template ids that sort in the order they were made (milliseconds, a counter) and rarely meet across processes."""
    return (time.time_ns() // 1_000_000) << 20 | (next(_counter) % 4096) << 8 | secrets.randbits(8)


def _opt(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


@dataclass
class _Claim:
    token: str
    seq: int
    entry: JournalEntry
    plan: dict[str, Any]
    claimed: float


class MilvusStore(GalleryStore):
    scheme = "milvus"

    def __init__(self, host: str = "127.0.0.1", port: int = 19530, nprobe: int = DEFAULT_NPROBE, db: str = "default",
                 consistency: str = "session", timeout: float = 10.0) -> None:
        try:
            from pymilvus import DataType, MilvusClient
        except ImportError as exc:
            raise StorageError("the Milvus gallery store needs pymilvus: pip install 'mien[milvus]'") from exc
        if str(consistency).lower() not in LEVELS:
            raise InputError(f"consistency must be one of {', '.join(LEVELS)}, got {consistency!r}")
        self.host, self.port, self.db = host, int(port), str(db)
        self.nprobe, self.timeout = int(nprobe), float(timeout)
        self.read_level = LEVELS[str(consistency).lower()]
        self._types = DataType
        self._lock = threading.RLock()
        self._info: dict[str, GalleryInfo] = {}
        self._client = self._do("connect", MilvusClient, uri=f"http://{self.host}:{self.port}", timeout=self.timeout)
        if self.db != "default":
            if self.db not in self._do("list databases", self._client.list_databases):
                self._do("create database", self._client.create_database, self.db)
            self._do("use database", self._client.using_database, self.db)
        big, i64, f64 = ("text", TEXT_MAX), ("int",), ("float",)
        self._ensure(GALLERIES, {"gkey": ("pk", 64), "name": ("text", 1024), "info": big, "head_seq": i64,
                                 "head_hash": ("text", 64)})
        self._ensure(IDENTITIES, {"ikey": ("pk", 64), "gkey": ("text", 64), "name": ("text", 1024), "data": big,
                                  "prev": big, "txn": ("text", 32), "seq": i64})
        self._ensure(JOURNAL, {"token": ("pk", 32), "gkey": ("text", 64), "seq": i64, "state": ("text", 8),
                               "t": f64, "entry": big, "plan": big})

    @property
    def url(self) -> str:
        return f"milvus://{self.host}:{self.port}" + ("" if self.db == "default" else f"?db={self.db}")

    # -- engine calls -------------------------------------------------------------------------------
    def _do(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return call(f"Milvus at {self.host}:{self.port}", what, fn, *args, **kwargs)

    def _ensure(self, name: str, fields: dict[str, tuple], dim: int = 2) -> None:
        """Create (and load) a collection with ``fields`` and a vector field ``vec`` of ``dim``."""
        ensure_collection(self._do, self._client, self._types, name, fields, "vec", dim, "IVF_FLAT" if dim > 2 else "FLAT")

    def _query(self, collection: str, expr: str, fields: list[str], level: str = "Strong") -> list[dict]:
        return query_all(self._do, self._client, collection, expr, fields, level, PAGE)

    def _insert(self, collection: str, rows: list[dict], claim: _Claim | None = None) -> None:
        for start in range(0, len(rows), 1_000):
            self._do(f"insert into {collection}", self._client.insert, collection, rows[start:start + 1_000])
            if claim is not None:
                self._renew(claim)

    def _count(self, collection: str, expr: str, level: str) -> int:
        rows = self._do(f"count {collection}", self._client.query, collection, filter=expr,
                        output_fields=["count(*)"], consistency_level=level)
        return int(rows[0]["count(*)"]) if rows else 0

    @staticmethod
    def _dummy() -> list[float]:
        return [0.0, 0.0]

    # -- galleries ----------------------------------------------------------------------------------
    def _templates_of(self, info: GalleryInfo) -> str:
        return f"mien_t_{_hex(info.name)[:24]}_{info.epoch}"

    def _crops_of(self, info: GalleryInfo) -> str:
        return f"mien_c_{_hex(info.name)[:24]}_{info.epoch}"

    def _make_collections(self, info: GalleryInfo) -> None:
        self._ensure(self._templates_of(info),
                     {"id": ("pkint",), "ikey": ("text", 64), "identity": ("text", 1024), "sealed": ("text", TEXT_MAX),
                      "quality": ("float",), "source": ("text", 128), "norm_mean": ("float",), "norm_std": ("float",),
                      "created": ("float",), "txn": ("text", 32), "seq": ("int",)}, dim=info.dim)
        if info.keep_crops:
            self._ensure(self._crops_of(info), {"ckey": ("pk", 64), "tid": ("int",), "ikey": ("text", 64),
                                                "part": ("int",), "data": ("text", TEXT_MAX), "txn": ("text", 32),
                                                "seq": ("int",)})

    @staticmethod
    def _info_json(info: GalleryInfo) -> str:
        return json.dumps({"model": info.model, "metric": info.metric, "dim": info.dim, "cohort": info.cohort,
                           "protected": info.protected, "keep_crops": info.keep_crops, "created": info.created,
                           "salt": _b64(info.salt), "secret": _b64(info.secret), "epoch": info.epoch})

    @staticmethod
    def _info_from(name: str, text: str) -> GalleryInfo:
        d = json.loads(text)
        return GalleryInfo(name, d["model"], d["metric"], int(d["dim"]), d["cohort"], bool(d["protected"]),
                           bool(d["keep_crops"]), float(d["created"]), base64.b64decode(d["salt"]),
                           base64.b64decode(d["secret"]), int(d["epoch"]))

    def _gallery_row(self, gallery: str, level: str = "Strong") -> dict | None:
        rows = self._do("read gallery", self._client.query, GALLERIES, ids=[_hex(gallery)],
                        output_fields=["name", "info", "head_seq", "head_hash"], consistency_level=level)
        return rows[0] if rows else None

    def _put_gallery(self, gallery: str, info_text: str, seq: int, head: str) -> None:
        self._do("write gallery", self._client.upsert, GALLERIES,
                 [{"gkey": _hex(gallery), "name": gallery, "info": info_text, "head_seq": seq, "head_hash": head,
                   "vec": self._dummy()}])

    def create_gallery(self, info: GalleryInfo, line: JournalLine) -> GalleryInfo:
        with self._lock:
            if self._gallery_row(info.name) is not None:
                raise StorageError(f"gallery {info.name!r} exists in {self.url}")
            self._make_collections(info)
            self._put_gallery(info.name, self._info_json(info), 0, GENESIS)
            with self._writing(info.name, line):
                pass
        return info

    def get_gallery(self, name: str) -> GalleryInfo | None:
        if name in self._info:
            return self._info[name]
        row = self._gallery_row(name)
        if row is None:
            return None
        info = self._info_from(name, row["info"])
        self._info[name] = info
        return info

    def list_galleries(self) -> list[str]:
        return sorted(r["name"] for r in self._query(GALLERIES, "head_seq >= 0", ["name"]))

    def _gallery(self, name: str) -> GalleryInfo:
        info = self.get_gallery(name)
        if info is None:
            raise NotFoundError(f"no gallery {name!r} in {self.url}")
        return info

    def _current(self, gallery: str, level: str = "Strong") -> tuple[GalleryInfo, int]:
        """The cached record and the committed head, after checking nobody re-keyed or re-embedded since."""
        info = self._gallery(gallery)
        row = self._gallery_row(gallery, level)
        if row is None:
            raise NotFoundError(f"no gallery {gallery!r} in {self.url}")
        if json.loads(row["info"])["epoch"] != info.epoch:
            raise StorageError(f"gallery {gallery!r} was re-keyed or re-embedded since it was opened; open it again")
        return info, int(row["head_seq"])

    # -- the write protocol -------------------------------------------------------------------------
    @contextmanager
    def _writing(self, gallery: str, line: JournalLine, plan: dict[str, Any] | None = None) -> Iterator[_Claim]:
        with self._lock:
            claim = self._claim(gallery, line, plan or {"kind": "undo"})
            try:
                yield claim
            except BaseException:
                if claim.plan["kind"] == "undo":
                    self._settle(gallery, claim.token, claim.plan, undo=True)
                raise  # an interrupted erasure keeps its claim: the next writer finishes it
            self._commit(gallery, claim)

    def _claim(self, gallery: str, line: JournalLine, plan: dict[str, Any]) -> _Claim:
        gkey = _hex(gallery)
        deadline = time.monotonic() + 2 * LEASE_S
        while True:
            seq, head, busy = self._recover(gallery)
            if not busy:
                token = secrets.token_hex(16)
                entry = make_entry(line.key, seq + 1, time.time(), gallery, line.actor, line.action, line.subject,
                                   line.details, head)
                claim = _Claim(token, seq + 1, entry, plan, time.time())
                self._do("claim", self._client.insert, JOURNAL, [self._claim_row(gkey, claim, "claim")])
                rivals = self._do("claim", self._client.query, JOURNAL, filter=f'gkey == "{gkey}" and seq == {seq + 1}',
                                  output_fields=["token"], consistency_level="Strong")
                if [r["token"] for r in rivals] == [token]:
                    return claim
                self._do("claim", self._client.delete, JOURNAL, ids=[token])
            if time.monotonic() > deadline:
                raise StorageError(f"gallery {gallery!r} in {self.url}: another writer holds it; try again")
            time.sleep(random.uniform(0.05, 0.4))

    def _claim_row(self, gkey: str, claim: _Claim, state: str) -> dict:
        entry = {**claim.entry.payload(), "hash": claim.entry.hash}
        return {"token": claim.token, "gkey": gkey, "seq": claim.seq, "state": state, "t": time.time(),
                "entry": json.dumps(entry), "plan": json.dumps(claim.plan), "vec": self._dummy()}

    def _renew(self, claim: _Claim) -> None:
        """Keep a long write's claim from looking abandoned."""
        if time.time() - claim.claimed > LEASE_S / 3:
            claim.claimed = time.time()
            gallery = claim.entry.gallery
            self._do("renew claim", self._client.upsert, JOURNAL, [self._claim_row(_hex(gallery), claim, "claim")])

    def _commit(self, gallery: str, claim: _Claim) -> None:
        gkey = _hex(gallery)
        self._do("commit", self._client.upsert, JOURNAL, [self._claim_row(gkey, claim, "done")])
        self._advance(gallery, claim.seq, claim.entry.hash, claim.plan.get("info"))

    def _advance(self, gallery: str, seq: int, head: str, info_text: str | None) -> None:
        row = self._gallery_row(gallery)
        if row is not None and int(row["head_seq"]) < seq:
            self._put_gallery(gallery, info_text or row["info"], seq, head)

    def _recover(self, gallery: str) -> tuple[int, str, bool]:
        """(committed seq, its hash, whether a live writer holds a claim), settling abandoned claims first."""
        gkey = _hex(gallery)
        row = self._gallery_row(gallery)
        if row is None:
            raise NotFoundError(f"no gallery {gallery!r} in {self.url}")
        seq, head = int(row["head_seq"]), row["head_hash"]
        rows = self._query(JOURNAL, f'gkey == "{gkey}" and seq > {seq}', ["token", "seq", "state", "t", "entry", "plan"])
        for r in sorted((r for r in rows if r["state"] == "done"), key=lambda r: r["seq"]):
            if r["seq"] == seq + 1:  # committed, but the writer died before advancing the head
                seq, head = r["seq"], json.loads(r["entry"])["hash"]
                self._advance(gallery, seq, head, json.loads(r["plan"]).get("info"))
        busy = False
        for r in rows:
            if r["state"] != "claim":
                continue
            if time.time() - r["t"] < LEASE_S:
                busy = busy or r["seq"] == seq + 1
                continue
            plan = json.loads(r["plan"])
            if plan["kind"] == "remove" and r["seq"] == seq + 1:
                self._settle(gallery, r["token"], plan, undo=False)  # an erasure is finished, never undone
                entry = json.loads(r["entry"])
                self._do("commit", self._client.upsert, JOURNAL, [{**r, "gkey": gkey, "state": "done", "vec": self._dummy()}])
                seq, head = r["seq"], entry["hash"]
                self._advance(gallery, seq, head, None)
            else:
                self._settle(gallery, r["token"], plan, undo=True)
        return seq, head, busy

    def _settle(self, gallery: str, token: str, plan: dict[str, Any], undo: bool) -> None:
        """Undo an unfinished write's rows (or finish an erasure) and drop its claim."""
        if undo:
            info = self._gallery(gallery)
            for collection in (self._templates_of(info), self._crops_of(info)):
                if self._do("list", self._client.has_collection, collection):
                    self._do("undo", self._client.delete, collection, filter=f'txn == "{token}"')
            for r in self._query(IDENTITIES, f'txn == "{token}"', ["ikey", "prev"]):
                if r["prev"]:
                    old = json.loads(r["prev"])
                    self._do("undo", self._client.upsert, IDENTITIES, [{**old, "prev": "", "vec": self._dummy()}])
                else:
                    self._do("undo", self._client.delete, IDENTITIES, ids=[r["ikey"]])
            for collection in plan.get("drop", ()):
                self._do("undo", self._client.drop_collection, collection)
            self._do("undo", self._client.delete, JOURNAL, ids=[token])
        else:
            self._erase_rows(plan["ikey"], plan["collections"])

    # -- identities and templates -------------------------------------------------------------------
    def _identity_row(self, gallery: str, name: str, head: int, level: str = "Strong") -> dict | None:
        rows = self._do("read identity", self._client.query, IDENTITIES, ids=[_hex(gallery, name)],
                        output_fields=["ikey", "gkey", "name", "data", "prev", "txn", "seq"], consistency_level=level)
        return self._visible(rows[0], head) if rows else None

    @staticmethod
    def _visible(row: dict, head: int) -> dict | None:
        """The committed version of an identity row (a write in progress keeps the one before it in ``prev``)."""
        if row["seq"] <= head:
            return row
        if row["prev"]:
            old = json.loads(row["prev"])
            return old if old["seq"] <= head else None
        return None

    def enrol(self, gallery: str, items: Sequence[EnrolItem], line: JournalLine) -> list[list[int]]:
        info, _ = self._current(gallery)
        now = time.time()
        out: list[list[int]] = []
        with self._writing(gallery, line) as claim:
            seen: dict[str, dict | None] = {}
            templates, crops = [], []
            for item in items:
                if item.identity not in seen:
                    seen[item.identity] = self._identity_row(gallery, item.identity, claim.seq - 1)
                old = seen[item.identity]
                data = json.loads(old["data"]) if old else {"metadata": {}, "consent": None, "created": now}
                data["metadata"] = {**data["metadata"], **dict(item.metadata or {})}
                if item.consent is not None or old is None:
                    data["consent"] = (None if item.consent is None else item.consent.record())
                data["updated"] = now
                seen[item.identity] = self._identity_dict(gallery, item.identity, data, claim, old)
                ikey = _hex(gallery, item.identity)
                ids = []
                for t in item.templates:
                    vector = np.asarray(t.index_vector, np.float32)
                    if vector.shape != (info.dim,):
                        raise StorageError(f"index vector of shape {vector.shape} in a {info.dim}-D gallery")
                    tid = _new_id()
                    ids.append(tid)
                    templates.append(self._template_row(tid, ikey, item.identity, t, vector, claim))
                    crops.extend(self._crop_rows(tid, ikey, t.crop, claim))
                out.append(ids)
            self._insert(self._templates_of(info), templates, claim)
            if crops:
                self._insert(self._crops_of(info), crops, claim)
            rows = [r for r in seen.values() if r is not None]
            self._do("write identities", self._client.upsert, IDENTITIES, rows)
        return out

    def _identity_dict(self, gallery: str, name: str, data: dict, claim: _Claim, old: dict | None) -> dict:
        text = json.dumps(data)
        if len(text.encode()) > TEXT_MAX:
            raise InputError(f"the metadata of {name!r} is over {TEXT_MAX // 1024} KiB, more than a Milvus gallery keeps")
        prev = "" if old is None else json.dumps({k: old[k] for k in ("ikey", "gkey", "name", "data", "txn", "seq")})
        if old is not None and old.get("txn") == claim.token:  # a second item for the same identity in this call
            prev = old["prev"]
        return {"ikey": _hex(gallery, name), "gkey": _hex(gallery), "name": name, "data": text, "prev": prev,
                "txn": claim.token, "seq": claim.seq, "vec": self._dummy()}

    def _template_row(self, tid: int, ikey: str, name: str, t: StoredTemplate, vector: np.ndarray, claim: _Claim) -> dict:
        return {"id": tid, "ikey": ikey, "identity": name, "sealed": _b64(t.sealed), "quality": _num(t.quality),
                "source": t.source or "", "norm_mean": _num(t.norm_mean), "norm_std": _num(t.norm_std),
                "created": float(t.created), "txn": claim.token, "seq": claim.seq, "vec": vector.tolist()}

    def _crop_rows(self, tid: int, ikey: str, crop: bytes | None, claim: _Claim) -> list[dict]:
        if not crop:
            return []
        return [{"ckey": f"{tid}:{part}", "tid": tid, "ikey": ikey, "part": part,
                 "data": _b64(crop[start:start + CROP_CHUNK]), "txn": claim.token, "seq": claim.seq,
                 "vec": self._dummy()}
                for part, start in enumerate(range(0, len(crop), CROP_CHUNK))]

    def get_identity(self, gallery: str, name: str) -> IdentityRecord | None:
        info, head = self._current(gallery)
        row = self._identity_row(gallery, name, head)
        if row is None:
            return None
        count = self._count(self._templates_of(info), f'ikey == "{row["ikey"]}" and seq <= {head}', "Strong")
        return self._record(gallery, row, count)

    @staticmethod
    def _record(gallery: str, row: dict, count: int) -> IdentityRecord:
        d = json.loads(row["data"])
        consent = None if d["consent"] is None else Consent.from_dict(d["consent"])
        return IdentityRecord(row["name"], gallery, d["metadata"], consent, d["created"], d["updated"], count)

    def list_identities(self, gallery: str, offset: int = 0, limit: int | None = None) -> list[IdentityRecord]:
        info, head = self._current(gallery)
        rows = self._query(IDENTITIES, f'gkey == "{_hex(gallery)}"', ["ikey", "name", "data", "prev", "txn", "seq"])
        visible = sorted((v for v in (self._visible(r, head) for r in rows) if v is not None), key=lambda r: r["name"])
        page = visible[offset:None if limit is None else offset + limit]
        counts: dict[str, int] = {}
        if page:
            keys = {r["ikey"] for r in page}
            for t in self._query(self._templates_of(info), f"seq <= {head}", ["ikey"]):
                if t["ikey"] in keys:
                    counts[t["ikey"]] = counts.get(t["ikey"], 0) + 1
        return [self._record(gallery, r, counts.get(r["ikey"], 0)) for r in page]

    def usable(self, gallery: str, names: Sequence[str], now: float) -> set[str]:
        _, head = self._current(gallery, self.read_level)
        names = list(dict.fromkeys(names))
        if not names:
            return set()
        rows = self._do("read identities", self._client.query, IDENTITIES, ids=[_hex(gallery, n) for n in names],
                        output_fields=["ikey", "name", "data", "prev", "txn", "seq"], consistency_level=self.read_level)
        out = set()
        for r in rows:
            v = self._visible(r, head)
            if v is not None:
                consent = json.loads(v["data"])["consent"]
                if consent is None or Consent.from_dict(consent).active(now):
                    out.add(v["name"])
        return out

    def templates(self, gallery: str, name: str) -> list[StoredTemplate]:
        info, head = self._current(gallery)
        ikey = _hex(gallery, name)
        rows = self._query(self._templates_of(info), f'ikey == "{ikey}" and seq <= {head}',
                           ["id", "sealed", "quality", "source", "norm_mean", "norm_std", "created", "vec"])
        crops: dict[int, list[tuple[int, bytes]]] = {}
        if info.keep_crops and rows:
            for c in self._query(self._crops_of(info), f'ikey == "{ikey}" and seq <= {head}', ["tid", "part", "data"]):
                crops.setdefault(int(c["tid"]), []).append((int(c["part"]), base64.b64decode(c["data"])))
        out = []
        for r in sorted(rows, key=lambda r: (r["created"], r["id"])):
            parts = crops.get(int(r["id"]))
            crop = b"".join(p for _, p in sorted(parts)) if parts else None
            out.append(StoredTemplate(name, base64.b64decode(r["sealed"]), np.asarray(r["vec"], np.float32),
                                      r["created"], _opt(r["quality"]), r["source"] or None, _opt(r["norm_mean"]),
                                      _opt(r["norm_std"]), crop, int(r["id"])))
        return out

    def set_consent(self, gallery: str, name: str, consent: Consent | None, line: JournalLine) -> None:
        self._current(gallery)
        with self._writing(gallery, line) as claim:
            old = self._identity_row(gallery, name, claim.seq - 1)
            if old is None:
                raise NotFoundError(f"{name!r} is not enrolled in gallery {gallery!r}")
            data = {**json.loads(old["data"]), "consent": None if consent is None else consent.record(), "updated": time.time()}
            self._do("write identity", self._client.upsert, IDENTITIES,
                     [self._identity_dict(gallery, name, data, claim, old)])

    def counts(self, gallery: str) -> tuple[int, int]:
        info, head = self._current(gallery, self.read_level)
        identities = self._count(IDENTITIES, f'gkey == "{_hex(gallery)}" and seq <= {head}', self.read_level)
        templates = self._count(self._templates_of(info), f"seq <= {head}", self.read_level)
        return identities, templates

    def remove(self, gallery: str, name: str, line: JournalLine) -> Removal:
        info, head = self._current(gallery)
        ikey = _hex(gallery, name)
        record = self._identity_row(gallery, name, head)
        tids = [r["id"] for r in self._query(self._templates_of(info), f'ikey == "{ikey}"', ["id"])]
        crops = 0
        if info.keep_crops and tids:
            crops = len({r["tid"] for r in self._query(self._crops_of(info), f'ikey == "{ikey}"', ["tid"])})
        if record is None and not tids:
            raise NotFoundError(f"{name!r} is not enrolled in gallery {gallery!r}")
        collections = [self._templates_of(info)] + ([self._crops_of(info)] if info.keep_crops else [])
        plan = {"kind": "remove", "ikey": ikey, "collections": collections}
        with self._writing(gallery, line, plan) as claim:
            self._erase_rows(ikey, collections)
        steps = [f"rows deleted (templates, {'crops, ' if info.keep_crops else ''}identity record), read back "
                 "with Strong consistency: gone from every search"]
        steps.extend(self._compact([*collections, IDENTITIES]))
        return Removal(len(tids), crops, len(tids), record is not None, tuple(steps), claim.seq)

    def _erase_rows(self, ikey: str, collections: Sequence[str]) -> None:
        for collection in collections:
            self._do("erase", self._client.delete, collection, filter=f'ikey == "{ikey}"')
        self._do("erase", self._client.delete, IDENTITIES, ids=[ikey])

    def _compact(self, collections: Sequence[str]) -> list[str]:
        """Flush and compact, so deleted rows leave the segment files; say what is left to the server."""
        steps = []
        for collection in collections:
            self._do("flush", self._client.flush, collection)
            job = self._do("compact", self._client.compact, collection)
            deadline = time.monotonic() + 120
            state = ""
            while time.monotonic() < deadline:
                state = str(self._do("compaction state", self._client.get_compaction_state, job))
                if "Completed" in state:
                    break
                time.sleep(0.5)
            steps.append(f"{collection}: flushed and compacted (job {job}: {state or 'unknown'})")
        steps.append("old segment files are deleted by Milvus's garbage collector after dataCoord.gc.dropTolerance, "
                     "and inserted rows leave its message log after rocksmq/pulsar retention (server settings)")
        return steps

    def rewrite(self, gallery: str, info: GalleryInfo, templates: Sequence[StoredTemplate], line: JournalLine) -> GalleryInfo:
        old, _ = self._current(gallery)
        new = GalleryInfo(gallery, info.model, info.metric, info.dim, info.cohort, info.protected, info.keep_crops,
                          old.created, old.salt, info.secret, old.epoch + 1)
        self._make_collections(new)
        fresh = [self._templates_of(new)] + ([self._crops_of(new)] if new.keep_crops else [])
        plan = {"kind": "undo", "drop": fresh, "info": self._info_json(new)}
        with self._writing(gallery, line, plan) as claim:
            rows, crops = [], []
            for t in templates:
                tid = _new_id()
                ikey = _hex(gallery, t.identity)
                rows.append(self._template_row(tid, ikey, t.identity, t, np.asarray(t.index_vector, np.float32), claim))
                crops.extend(self._crop_rows(tid, ikey, t.crop, claim))
            self._insert(self._templates_of(new), rows, claim)
            if crops:
                self._insert(self._crops_of(new), crops, claim)
        self._info.pop(gallery, None)
        # the old key's (or model's) vectors go with their collections, whole
        for collection in (self._templates_of(old), self._crops_of(old)):
            if self._do("list", self._client.has_collection, collection):
                self._do("drop", self._client.drop_collection, collection)
        return self._gallery(gallery)

    # -- search -------------------------------------------------------------------------------------
    def search(self, gallery: str, vectors: np.ndarray, k: int) -> list[list[Hit]]:
        info, head = self._current(gallery, self.read_level)
        queries = np.ascontiguousarray(np.atleast_2d(vectors), np.float32)
        results = self._do("search", self._client.search, self._templates_of(info), data=queries.tolist(),
                           limit=int(min(k, 16_384)), filter=f"seq <= {head}",
                           output_fields=["identity", "norm_mean", "norm_std"],
                           search_params={"metric_type": "L2", "params": {"nprobe": self.nprobe}},
                           consistency_level=self.read_level)
        out = []
        for row in results:
            hits = []
            for h in row:
                e = h["entity"]
                squared = max(float(h["distance"]), 0.0)  # Milvus's L2 is the squared distance
                distance = squared / 2.0 if info.metric == "cosine" else float(np.sqrt(squared))
                hits.append(Hit(int(h["id"]), e["identity"], distance, _opt(e["norm_mean"]), _opt(e["norm_std"])))
            out.append(sorted(hits, key=lambda h: h.distance))
        return out

    # -- journal ------------------------------------------------------------------------------------
    def log(self, gallery: str, line: JournalLine, durable: bool = True) -> JournalEntry:
        # Milvus acknowledges a write once its message log has it; there is no cheaper kind to ask for.
        with self._writing(gallery, line) as claim:
            pass
        return claim.entry

    def journal(self, gallery: str, since: int = 0) -> Iterator[JournalEntry]:
        head, _ = self.journal_head(gallery)
        rows = self._query(JOURNAL, f'gkey == "{_hex(gallery)}" and seq > {since} and seq <= {head}',
                           ["seq", "state", "entry"])
        for r in sorted((r for r in rows if r["state"] == "done"), key=lambda r: r["seq"]):
            e = json.loads(r["entry"])
            yield JournalEntry(int(e["seq"]), float(e["time"]), e["gallery"], e["actor"], e["action"], e["subject"],
                               e["details"], e["prev"], e["hash"])

    def journal_head(self, gallery: str) -> tuple[int, str]:
        row = self._gallery_row(gallery)
        if row is None:
            raise NotFoundError(f"no gallery {gallery!r} in {self.url}")
        return int(row["head_seq"]), row["head_hash"]

    def close(self) -> None:
        with self._lock:
            try:
                self._client.close()
            except Exception:  # closing a dead connection: nothing left to release
                pass

