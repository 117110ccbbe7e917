"""The server face store: a Milvus server (standalone or cluster) through ``pymilvus.MilvusClient``.

    milvus://host:port[/name][?db=NAME&timeout=10&index=flat&nprobe=64&consistency=strong]

``name`` (default ``default``; letters, digits, underscores) names the collection set, so
several photo collections share one server without seeing each other. Each set is eight
Milvus collections, ``mien_fs_<name>_<kind>``: ``faces`` (face id, image hash, index, the
rest of the record as JSON with the second vector in base64, and the embedding as a
``FLOAT_VECTOR`` whose size the first write pins), ``images``, ``paths``, ``failures``,
``people`` and ``names`` (by generation), ``edits`` (append-only) and ``meta``.

Milvus has no transactions, so the contract's guarantees come from the order of the writes:

* **Idempotent, crash-safe image writes.** ``write`` first records the batch's new content
  hashes under a ``pending:`` key in ``meta``, then upserts their faces (the same ids
  ``<hash>-<i>`` every run) and deletes any other face a killed earlier attempt left for
  those images, then upserts the image rows (the commit marker, one per image), then the
  path rows, and last drops the pending key. Readers only count, list and find faces whose
  image row exists (``counts`` leaves out the faces of pending hashes without an image row;
  ``faces`` and ``search`` check the image rows of what they return), so a writer killed
  anywhere leaves nothing visible, and a rerun, which skips nothing it has not finished
  (path rows come last), rewrites the same ids and completes it. An image already
  committed is not rewritten (its other paths only add path rows), as in the SQLite store.
* **People** are written under a new generation number, then the ``people`` pointer in
  ``meta`` flips to it, then older generations are deleted; a reader that sees the pointer
  move while it read starts again, so nobody sees half an assignment.
* **Consistency.** Every read uses Strong consistency (Milvus's ``Session`` level does not
  cover this client's own deletes), except ``search``, which reads at the URL's
  ``consistency``. Strong costs one server time tick a call (``proxy.timeTickInterval``).
* **Search** runs on a ``FLAT`` index by default (exact nearest neighbours, as the SQLite
  store); ``index=ivf_flat`` (chosen when the set is created) trades recall for speed on
  millions of faces (``nprobe`` of 1024 lists). Either way the candidates are re-ranked on
  their stored vectors, so distances are exact euclidean distances; at most 16 384
  neighbours come back (Milvus's limit).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from ..errors import (
    EmbeddingMismatchError,
    InputError,
    ShapeError,
    StorageError,
)
from .._milvus import call, ensure_collection, query_all
from ..gallery.milvus import LEVELS, TEXT_MAX
from .store import FaceStore
from .types import Edit, FaceQuality, FaceRecord, Failure, ImageResult

PATH_MAX = 4_096  # longest path or URL a set keeps
PAGE = 4_000  # rows per query_iterator page (Milvus returns at most 16 384 per call)
IDS = 500  # keys per ``in [...]`` expression
ROWS = 1_000  # rows per insert or upsert call
TOPK_MAX = 16_384  # Milvus's largest search limit
DEFAULT_NPROBE = 64
INDEXES = {"flat": "FLAT", "ivf_flat": "IVF_FLAT"}
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
OPTIONS = ("db", "timeout", "index", "nprobe", "consistency")
PENDING = "pending:"
PENDING_HASHES = 800  # content hashes per pending key (65 bytes each in JSON: under TEXT_MAX)
SCHEMA_VERSION = "1"

# kind -> {field: (type, max_length)}; every collection but ``faces`` gets a 2-D dummy vector (Milvus needs one).
# Paths and people are keyed by a hash of the path or face id: pymilvus's query_iterator pages on the primary
# key with unescaped string literals, so a key with a backslash or a quote would break paging.
SMALL = {
    "images": {"hash": ("pk", 64), "path": ("text", PATH_MAX), "width": ("int",), "height": ("int",),
               "faces": ("int",), "indexed_at": ("float",)},
    "paths": {"key": ("pk", 64), "path": ("text", PATH_MAX), "hash": ("text", 64), "size": ("int",),
              "mtime_ns": ("int",)},
    "failures": {"key": ("pk", 64), "path": ("text", PATH_MAX), "kind": ("text", 64), "message": ("text", TEXT_MAX),
                 "at": ("float",)},
    "people": {"key": ("pk", 96), "gen": ("int",), "face": ("text", 1024), "person": ("int",)},
    "names": {"key": ("pk", 64), "gen": ("int",), "person": ("int",), "name": ("text", TEXT_MAX)},
    "edits": {"seq": ("pkint",), "edit": ("text", TEXT_MAX)},
    "meta": {"key": ("pk", 256), "value": ("text", TEXT_MAX)},
}
FACES = {"id": ("pk", 64), "image": ("text", 64), "idx": ("int",), "record": ("text", TEXT_MAX)}
DUMMY = [0.0, 0.0]


class MilvusFaceStore(FaceStore):
    def __init__(self, host: str = "127.0.0.1", port: int = 19530, name: str = "default", db: str = "default",
                 timeout: float = 10.0, index: str = "flat", nprobe: int = DEFAULT_NPROBE,
                 consistency: str = "strong") -> None:
        try:
            from pymilvus import DataType, MilvusClient, MilvusException
        except ImportError as exc:
            raise StorageError("the Milvus collection store needs pymilvus: pip install 'mien[milvus]'") from exc
        if not NAME.fullmatch(str(name)):
            raise InputError(f"a collection name is letters, digits and underscores (at most 64), got {name!r}")
        if str(index).lower() not in INDEXES:
            raise InputError(f"index must be one of {', '.join(INDEXES)}, got {index!r}")
        if str(consistency).lower() not in LEVELS:
            raise InputError(f"consistency must be one of {', '.join(LEVELS)}, got {consistency!r}")
        if int(nprobe) < 1 or float(timeout) <= 0:
            raise InputError(f"nprobe and timeout must be positive, got {nprobe!r} and {timeout!r}")
        self.host, self.port, self.name, self.db = host, int(port), str(name), str(db)
        self.timeout, self.nprobe = float(timeout), int(nprobe)
        self.index = INDEXES[str(index).lower()]
        self.search_level = LEVELS[str(consistency).lower()]
        self.url = f"milvus://{self.host}:{self.port}/{self.name}" + ("" if self.db == "default" else f"?db={self.db}")
        self._types, self._error = DataType, MilvusException
        self._lock = threading.RLock()
        self._pinned: dict[str, str] = {}  # model, dim, index once known (they never change)
        self._last_seq = 0
        self._client = self._do("connect", MilvusClient, uri=f"http://{self.host}:{self.port}", timeout=self.timeout)
        if self.db != "default":
            if self.db not in self._do("list databases", self._client.list_databases):
                self._do("create database", self._client.create_database, self.db)
            self._do("use database", self._client.using_database, self.db)
        missing = [k for k in SMALL if not self._do("list", self._client.has_collection, self._c(k))]
        with ThreadPoolExecutor(max(1, len(missing))) as pool:  # a load takes seconds; seven at once take as long
            list(pool.map(lambda k: self._ensure(self._c(k), SMALL[k]), missing))
        for kind in SMALL:
            if kind not in missing:
                self._do(f"load {kind}", self._client.load_collection, self._c(kind))

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MilvusFaceStore:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise InputError(f"not a Milvus store URL: {url!r}: {exc}") from exc
        if parts.scheme != "milvus" or parts.fragment or parts.username or parts.password:
            raise InputError(f"not a Milvus store URL: {url!r}; use milvus://host:port[/name][?db=...]")
        name = parts.path.strip("/") or "default"
        if "/" in name or not NAME.fullmatch(name):
            raise InputError(f"bad collection name {name!r} in {url!r}: letters, digits and underscores (at most 64)")
        found = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = sorted(set(found) - set(OPTIONS))
        if unknown:
            raise InputError(f"unknown option(s) {', '.join(unknown)} in {url!r}; known: {', '.join(OPTIONS)}")
        try:
            if "timeout" in found:
                found["timeout"] = float(found["timeout"])
            if "nprobe" in found:
                found["nprobe"] = int(found["nprobe"])
        except ValueError as exc:
            raise InputError(f"bad option value in {url!r}: {exc}") from exc
        return cls(parts.hostname or "127.0.0.1", port or 19530, name, **{**found, **options})

    # -- engine calls ---------------------------------------------------------------------------------
    def _c(self, kind: str) -> str:
        return f"mien_fs_{self.name}_{kind}"

    def _do(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return call(f"the Milvus collection store {self.url}", what, fn, *args, **kwargs)

    def _ensure(self, name: str, fields: Mapping[str, tuple], vector: str = "vec", dim: int = 2,
                index: str = "FLAT") -> None:
        ensure_collection(self._do, self._client, self._types, name, fields, vector, dim, index)

    def _query(self, kind: str, expr: str, fields: list[str], level: str = "Strong") -> list[dict]:
        """Every row matching ``expr``, a page at a time (Milvus caps one query's rows)."""
        return query_all(self._do, self._client, self._c(kind), expr, fields, level, PAGE)

    def _by_keys(self, kind: str, key: str, values: Sequence[str], fields: list[str], extra: str = "") -> list[dict]:
        rows: list[dict] = []
        for part in _chunks(list(dict.fromkeys(values))):
            expr = f"{key} in [{', '.join(_lit(v) for v in part)}]" + (f" and {extra}" if extra else "")
            rows.extend(self._do(f"read {kind}", self._client.query, self._c(kind), filter=expr,
                                 output_fields=fields, consistency_level="Strong"))
        return rows

    def _count(self, kind: str, expr: str = "") -> int:
        rows = self._do(f"count {kind}", self._client.query, self._c(kind), filter=expr,
                        output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"]) if rows else 0

    def _upsert(self, kind: str, rows: list[dict]) -> None:
        for start in range(0, len(rows), ROWS):
            self._do(f"write {kind}", self._client.upsert, self._c(kind), rows[start:start + ROWS])

    def _delete(self, kind: str, expr: str) -> None:
        self._do(f"delete from {kind}", self._client.delete, self._c(kind), filter=expr)

    def _delete_keys(self, kind: str, key: str, values: Sequence[str]) -> None:
        for part in _chunks(list(dict.fromkeys(values))):
            self._delete(kind, f"{key} in [{', '.join(_lit(v) for v in part)}]")

    # -- meta -----------------------------------------------------------------------------------------
    def _meta(self, *keys: str) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._by_keys("meta", "key", keys, ["key", "value"])}

    def _put_meta(self, values: Mapping[str, str]) -> None:
        self._upsert("meta", [{"key": k, "value": v, "vec": DUMMY} for k, v in values.items()])

    def _pins(self) -> dict[str, str]:
        if "model" not in self._pinned:
            self._pinned.update(self._meta("model", "dim", "index"))
        return self._pinned

    def _faces_ready(self) -> bool:
        """Whether the faces collection exists (the first write with faces makes it), loading it once."""
        pins = self._pins()
        if "dim" not in pins:
            return False
        if "ready" not in pins:
            self._ensure(self._c("faces"), FACES, "vector", int(pins["dim"]), pins.get("index", self.index))
            pins["ready"] = "1"
        return True

    # -- indexing -------------------------------------------------------------------------------------
    @property
    def model(self) -> str | None:
        return self._pins().get("model")

    def write(self, results: Sequence[ImageResult]) -> int:
        return self._write(results)

    def _write(self, results: Sequence[ImageResult], upto: str | None = None) -> int:
        """``write``; ``upto="faces"`` stops after the faces, as a writer killed there would (tests only)."""
        with self._lock:
            done = [r for r in results if r.failure is None]
            for r in done:
                if not r.hash:
                    raise InputError(f"a successful result for {r.path} has no content hash")
            self._pin(done)
            committed = self._committed([r.hash for r in done])
            fresh: dict[str, ImageResult] = {}
            for r in done:
                if r.hash not in committed and r.hash not in fresh:
                    fresh[r.hash] = r
            now, written = time.time(), 0
            token = f"{PENDING}{time.time_ns()}:{secrets.token_hex(4)}:"
            pending = {f"{token}{n}": json.dumps(part) for n, part in enumerate(_chunks(sorted(fresh), PENDING_HASHES))}
            if fresh:
                # 1. say which images are in flight, so readers leave their faces out until their image rows exist
                self._put_meta(pending)
                rows = [_face_row(f) for r in fresh.values() for f in r.faces]
                if rows:
                    self._faces_ready()
                    self._upsert("faces", rows)  # 2. the faces, under the same ids every run
                    written = len(rows)
                if self._faces_ready():  # ... and nothing else a killed earlier attempt left for these images
                    for part in _chunks(list(fresh), 100):
                        keep = [f.id for h in part for f in fresh[h].faces]
                        expr = f"image in [{', '.join(map(_lit, part))}]"
                        self._delete("faces", expr + (f" and id not in [{', '.join(map(_lit, keep))}]" if keep else ""))
                if upto == "faces":
                    return written
                # 3. the image rows: the commit markers
                self._upsert("images", [{"hash": h, "path": _path(r.path), "width": int(r.width),
                                         "height": int(r.height), "faces": len(r.faces), "indexed_at": now,
                                         "vec": DUMMY} for h, r in fresh.items()])
            # 4. the paths (resume reads these), and the failures, in the order the results came
            paths: dict[str, dict] = {}
            failures: dict[str, dict | None] = {}
            for r in results:
                if r.failure is None:
                    failures[r.path] = None
                    paths[r.path] = {"key": _key(r.path), "path": _path(r.path), "hash": r.hash, "size": int(r.size),
                                     "mtime_ns": int(r.mtime_ns), "vec": DUMMY}
                else:
                    failures[r.path] = {"key": _key(r.path), "path": _path(r.path), "kind": r.failure.kind[:64],
                                        "message": _clip(r.failure.message), "at": now, "vec": DUMMY}
            self._upsert("paths", list(paths.values()))
            self._delete_keys("failures", "key", [_key(p) for p, row in failures.items() if row is None])
            self._upsert("failures", [row for row in failures.values() if row is not None])
            if fresh:
                self._delete_keys("meta", "key", list(pending))
                self._tidy()
            return written

    def _pin(self, done: Sequence[ImageResult]) -> None:
        """Check every result's model (before anything is written), and pin the first on an empty store."""
        pins = self._pins()
        model, dim = pins.get("model"), int(pins["dim"]) if "dim" in pins else None
        first = None
        for r in done:
            if not r.faces:
                continue
            m, d = r.faces[0].model, len(r.faces[0].vector)
            if model is None:
                model, dim, first = m, d, (m, d)
            if m != model:
                raise EmbeddingMismatchError(f"the collection at {self.url} holds {model!r} embeddings; "
                                             f"this job makes {m!r} (use another store or the same model)")
            if any(len(f.vector) != dim for f in r.faces):
                raise ShapeError(f"the face vectors of {r.path}", f"({dim},) as the store holds", f"({d},)")
        if first is not None:
            self._put_meta({"model": first[0], "dim": str(first[1]), "index": self.index, "version": SCHEMA_VERSION})
            self._pinned.clear()

    def _committed(self, hashes: Sequence[str]) -> set[str]:
        return {r["hash"] for r in self._by_keys("images", "hash", hashes, ["hash"])}

    def _in_flight(self) -> tuple[list[str], set[str]]:
        """(pending keys, the hashes they name that have no image row yet)."""
        rows = self._query("meta", f'key like "{PENDING}%"', ["key", "value"])
        hashes = {h for r in rows for h in json.loads(r["value"])}
        return [r["key"] for r in rows], hashes - self._committed(sorted(hashes))

    def _tidy(self) -> None:
        """Drop the pending keys of killed writers whose images a later write committed."""
        rows = self._query("meta", f'key like "{PENDING}%"', ["key", "value"])
        if rows:
            committed = self._committed(sorted({h for r in rows for h in json.loads(r["value"])}))
            self._delete_keys("meta", "key", [r["key"] for r in rows if set(json.loads(r["value"])) <= committed])

    def indexed_paths(self, paths: Sequence[str]) -> dict[str, tuple[int, int]]:
        rows = self._by_keys("paths", "key", [_key(p) for p in paths], ["path", "size", "mtime_ns"])
        return {r["path"]: (int(r["size"]), int(r["mtime_ns"])) for r in rows}

    def known_hashes(self, hashes: Sequence[str]) -> set[str]:
        return self._committed(hashes)

    def failures(self) -> list[Failure]:
        rows = self._query("failures", "", ["path", "kind", "message"])
        return [Failure(r["path"], r["kind"], r["message"]) for r in sorted(rows, key=lambda r: r["path"])]

    # -- reading --------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out = {"images": self._count("images"), "faces": 0, "paths": self._count("paths"),
               "failures": self._count("failures")}
        if self._faces_ready():
            _, hidden = self._in_flight()
            out["faces"] = self._count("faces", f"image not in [{', '.join(map(_lit, sorted(hidden)))}]" if hidden else "")
        return out

    def faces(self, ids: Sequence[str] | None = None) -> list[FaceRecord]:
        if not self._faces_ready():
            return []
        fields = ["id", "image", "idx", "record", "vector"]
        if ids is None:
            rows = self._query("faces", "", fields)  # the faces first: an image row read after commits them all
            paths = {r["hash"]: r["path"] for r in self._query("images", "", ["hash", "path"])}
            return [_record(r, paths[r["image"]]) for r in sorted(rows, key=lambda r: r["id"]) if r["image"] in paths]
        found = {r["id"]: r for r in self._by_keys("faces", "id", ids, fields)}
        paths = self.paths_of(sorted({r["image"] for r in found.values()}))
        return [_record(found[i], paths[found[i]["image"]]) for i in ids if i in found and found[i]["image"] in paths]

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if k <= 0 or not self._faces_ready():
            return []
        q = np.asarray(vector, np.float32).reshape(-1)
        dim = int(self._pins()["dim"])
        if q.shape[0] != dim:
            raise InputError(f"a {q.shape[0]}-D query against a store of {dim}-D faces")
        k = min(int(k), TOPK_MAX)
        _, hidden = self._in_flight()
        expr = f"image not in [{', '.join(map(_lit, sorted(hidden)))}]" if hidden else ""
        params = {"metric_type": "L2", "params": {"nprobe": self.nprobe} if self._pins().get("index") == "IVF_FLAT" else {}}
        limit = min(TOPK_MAX, k + max(16, k // 4))  # a margin for ties at the boundary and faces still in flight
        while True:
            hits = self._do("search", self._client.search, self._c("faces"), data=[q.tolist()], limit=limit,
                            filter=expr, output_fields=["image", "vector"], search_params=params,
                            consistency_level=self.search_level)[0]
            live = self._committed(sorted({h["entity"]["image"] for h in hits}))
            scored = []
            for h in hits:
                if h["entity"]["image"] in live:  # exact distances on the stored vectors, as numpy computes them
                    v = np.asarray(h["entity"]["vector"], np.float32)
                    scored.append((float(np.sqrt(max(float(((v - q) ** 2).sum()), 0.0))), str(h["id"])))
            if len(scored) >= k or len(hits) < limit or limit == TOPK_MAX:
                return [(i, d) for d, i in sorted(scored)[:k]]
            limit = min(TOPK_MAX, limit * 2)

    def paths_of(self, hashes: Sequence[str]) -> dict[str, str]:
        return {r["hash"]: r["path"] for r in self._by_keys("images", "hash", hashes, ["hash", "path"])}

    # -- people ---------------------------------------------------------------------------------------
    def _generation(self) -> int | None:
        value = self._meta("people").get("people")
        return None if value is None else int(value)

    def people(self) -> tuple[dict[str, int], dict[int, str]]:
        for _ in range(10):
            gen = self._generation()
            if gen is None:
                return {}, {}
            faces = self._query("people", f"gen == {gen}", ["face", "person"])
            names = self._query("names", f"gen == {gen}", ["person", "name"])
            if self._generation() == gen:  # old generations are deleted only after the pointer moves
                return ({r["face"]: int(r["person"]) for r in faces},
                        {int(r["person"]): r["name"] for r in names})
            time.sleep(0.05)
        raise StorageError(f"the people of {self.url} kept changing while read; try again")

    def save_people(self, assignment: Mapping[str, int], names: Mapping[int, str]) -> None:
        with self._lock:
            old = self._generation()
            gen = max(time.time_ns(), (old or 0) + 1)
            self._upsert("people", [{"key": f"{gen}:{_key(f)[:32]}", "gen": gen, "face": f, "person": int(p), "vec": DUMMY}
                                    for f, p in assignment.items()])
            self._upsert("names", [{"key": f"{gen}:{int(p)}", "gen": gen, "person": int(p), "name": _clip(n),
                                    "vec": DUMMY} for p, n in names.items()])
            self._put_meta({"people": str(gen)})  # the switch
            if old is not None:  # (not ``gen != new``: a concurrent saver's newer generation may be half written)
                self._delete("people", f"gen <= {old}")
                self._delete("names", f"gen <= {old}")

    def edits(self) -> list[Edit]:
        out = []
        for r in sorted(self._query("edits", "", ["seq", "edit"]), key=lambda r: r["seq"]):
            d = json.loads(r["edit"])
            out.append(Edit(d["kind"], tuple(d["faces"]), tuple(d.get("other", ())), d.get("name"), d.get("at", 0.0)))
        return out

    def add_edit(self, edit: Edit) -> None:
        text = json.dumps(edit.to_dict())
        if len(text.encode()) > TEXT_MAX:
            raise InputError(f"an edit of {len(edit.faces) + len(edit.other)} faces is over what a Milvus row holds "
                             f"({TEXT_MAX // 1024} KiB)")
        with self._lock:  # the order edits were made: nanoseconds, strictly rising in this process
            self._last_seq = max(time.time_ns(), self._last_seq + 1)
            self._do("write edit", self._client.insert, self._c("edits"),
                     [{"seq": self._last_seq, "edit": text, "vec": DUMMY}])

    # -- lifetime -------------------------------------------------------------------------------------
    def drop(self) -> None:
        """Delete the whole collection set (every collection of this name) from the server."""
        with self._lock:
            for kind in (*SMALL, "faces"):
                if self._do("list", self._client.has_collection, self._c(kind)):
                    self._do("drop", self._client.drop_collection, self._c(kind))
            self._pinned.clear()

    def close(self) -> None:
        with self._lock, suppress(self._error):  # closing a dead connection: nothing left to release
            self._client.close()



def _chunks(items: list, size: int = IDS) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _lit(text: str) -> str:
    """A Milvus string literal (double quotes; quotes, backslashes and control characters escaped)."""
    return json.dumps(str(text), ensure_ascii=False)


def _key(text: str) -> str:
    return hashlib.sha256(str(text).encode()).hexdigest()


def _path(path: str) -> str:
    if len(path.encode()) > PATH_MAX:
        raise InputError(f"a path of {len(path.encode())} bytes is longer than a Milvus collection keeps "
                         f"({PATH_MAX}): {path[:80]}...")
    return path


def _clip(text: str) -> str:
    data = str(text).encode()
    return text if len(data) <= TEXT_MAX else data[:TEXT_MAX - 4].decode(errors="ignore")


def _face_row(f: FaceRecord) -> dict:
    second = None if f.second is None else base64.b64encode(np.asarray(f.second, np.float32).tobytes()).decode()
    record = {"box": list(f.box), "landmarks": [list(p) for p in f.landmarks], "quality": f.quality.to_dict(),
              "age": f.age, "model": f.model, "second": second}
    return {"id": f.id, "image": f.image, "idx": int(f.index), "record": json.dumps(record),
            "vector": np.asarray(f.vector, np.float32).tolist()}


def _record(row: dict, path: str | None) -> FaceRecord:
    d = json.loads(row["record"])
    second = None if d.get("second") is None else np.frombuffer(base64.b64decode(d["second"]), np.float32).copy()
    return FaceRecord(image=row["image"], index=int(row["idx"]), box=tuple(d["box"]),
                      landmarks=tuple(tuple(p) for p in d["landmarks"]), quality=FaceQuality.from_dict(d["quality"]),
                      age=d["age"], vector=np.asarray(row["vector"], np.float32), model=d["model"], second=second,
                      path=path)


__all__ = ["MilvusFaceStore"]
