"""Which embedded store holds the gallery's templates: SQLite (WAL) or LanceDB, at 1M x 128-D.

    /tmp/storebench/bin/python -m benchmarks.gallery_store_choice [--templates 1000000] [--dir /tmp]
                                                                  [--enrolments 200] [--lookups 1000]
                                                                  [--erasures 20] [--concurrent 100] [--kill-rounds 5]

LanceDB runs from its own virtual environment so it never enters mien's dependencies
(``python3 -m venv /tmp/storebench && /tmp/storebench/bin/pip install lancedb pylance numpy``;
pylance provides ``compact_files`` with its ``materialize_deletions_threshold``). The script
imports nothing from mien: both stores get the same rows in mien's data model, a
``templates`` table (id, gallery, identity, sealed AES-GCM blob of 540 random bytes, the
512-byte index vector FAISS is built from, created) and an ``identities`` table (consent
and metadata as JSON), 10 templates per identity. The store is the source of truth; FAISS
searches beside it, so no vector search is measured here.

Measured for each store in the same run, each phase in a fresh process so peak RSS is its own:

1. bulk insert rate (batches of 10,000 templates, one transaction or append each) and the
   latency of one durable enrolment (1 identity, 3 templates) into the full store, p50/p99;
   how many fsync/fdatasync calls one enrolment makes (under strace, when installed);
2. point reads: the rows of 10 random template ids, p50/p99, as written and after erasure;
3. erasure: p50 time to delete one identity and purge its bytes (SQLite: secure_delete,
   delete, wal_checkpoint(TRUNCATE); LanceDB: delete then ``optimize(cleanup_older_than=0)``,
   and a second procedure that also rewrites fragments holding deleted rows), then every
   file under the store is scanned for each removed identity's sealed blob;
4. concurrency: two processes enrolling at once, counting errors and acknowledged
   enrolments that are missing; a batch writer killed with SIGKILL mid-batch, then the store
   reopened and its rows compared with the batches that returned;
5. disk size, the time to open the store and read every (id, index vector) as rebuilding
   the FAISS index does, peak RSS.

The stores are deleted afterwards; results go to docs/benchmarks/gallery_store_choice.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from datetime import timedelta
from pathlib import Path

import numpy as np

from benchmarks.common import REPO, header, markdown_table, write_outputs

DIM = 128
SEALED = 540  # AES-GCM of a 128-D float32 vector: 12-byte nonce + 512 bytes + 16-byte tag
PER_IDENTITY = 10
ENROL_TEMPLATES = 3
BATCH = 10_000
GALLERY = "bench"
SPAWN = mp.get_context("spawn")
PROBE_ENROLMENTS = 10

# ids assigned by the writer, in disjoint ranges, so both stores hold identical rows
ENROL_IDS = 10**12
CONCURRENT_IDS = 2 * 10**12
KILL_IDS = 4 * 10**12
PROBE_IDS = 6 * 10**12
# one random seed per writer: rows with identical random bytes would make the erasure scan
# find a live copy of an erased blob
BULK_SEED, ERASE_SEED, PROBE_SEED = 0, 1, 2
CONCURRENT_SEED, KILL_SEED = 100, 200


@dataclass
class Batch:
    names: list[str]  # identities enrolled
    ids: np.ndarray  # template ids, int64
    identity: list[str]  # per template
    sealed: bytes  # len(ids) * SEALED bytes, back to back
    vectors: np.ndarray  # (len(ids), DIM) float32
    created: float

    def blob(self, i: int) -> bytes:
        return self.sealed[i * SEALED:(i + 1) * SEALED]


def make_batch(rng: np.random.Generator, names: list[str], first_id: int, per_identity: int) -> Batch:
    n = len(names) * per_identity
    return Batch(names, np.arange(first_id, first_id + n, dtype=np.int64),
                 [name for name in names for _ in range(per_identity)], rng.bytes(n * SEALED),
                 rng.standard_normal((n, DIM), dtype=np.float32), time.time())


def identity_rows(batch: Batch) -> list[tuple]:
    metadata = json.dumps({"source": "benchmark"})
    consent = json.dumps({"purpose": "access", "granted": batch.created, "expires": None, "withdrawn": None})
    return [(GALLERY, name, metadata, consent, batch.created, batch.created) for name in batch.names]


# -- the two stores, behind the same few calls ------------------------------------------------------
class SQLiteStore:
    """mien's SQLite layout and pragmas (mien/gallery/sqlite.py), reduced to the two tables measured."""

    kind = "sqlite"
    procedures = ("secure_delete",)
    _schema = (
        "CREATE TABLE IF NOT EXISTS identities (gallery TEXT NOT NULL, name TEXT NOT NULL, metadata TEXT NOT NULL, "
        "consent TEXT, created REAL NOT NULL, updated REAL NOT NULL, PRIMARY KEY (gallery, name))",
        "CREATE TABLE IF NOT EXISTS templates (id INTEGER PRIMARY KEY AUTOINCREMENT, gallery TEXT NOT NULL, "
        "identity TEXT NOT NULL, sealed BLOB NOT NULL, index_vector BLOB NOT NULL, created REAL NOT NULL)",
        "CREATE INDEX IF NOT EXISTS templates_of ON templates (gallery, identity)",
    )

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(root / "gallery.sqlite", timeout=30.0, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "secure_delete=ON"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("BEGIN IMMEDIATE")
        for statement in self._schema:
            self.db.execute(statement)
        self.db.execute("COMMIT")

    def write(self, batch: Batch) -> None:
        """Identities and templates in one transaction, as ``SQLiteStore.enrol`` does."""
        rows = [(int(i), GALLERY, who, batch.blob(k), batch.vectors[k].tobytes(), batch.created)
                for k, (i, who) in enumerate(zip(batch.ids, batch.identity))]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT INTO identities VALUES (?,?,?,?,?,?)", identity_rows(batch))
            self.db.executemany("INSERT INTO templates VALUES (?,?,?,?,?,?)", rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def prepare_reads(self) -> None:
        pass  # the primary key and templates_of are kept up to date by every insert

    def fetch(self, ids: list[int]) -> int:
        marks = ",".join("?" * len(ids))
        return len(self.db.execute(f"SELECT id, identity, sealed FROM templates WHERE id IN ({marks})", ids).fetchall())

    def blob_of(self, name: str) -> bytes:
        return bytes(self.db.execute("SELECT sealed FROM templates WHERE gallery = ? AND identity = ? ORDER BY id",
                                     (GALLERY, name)).fetchone()[0])

    def erase(self, name: str, procedure: str) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("DELETE FROM templates WHERE gallery = ? AND identity = ?", (GALLERY, name))
        self.db.execute("DELETE FROM identities WHERE gallery = ? AND name = ?", (GALLERY, name))
        self.db.execute("COMMIT")
        # the WAL still holds the pages as they were before the delete until it is checkpointed and truncated
        busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise RuntimeError("WAL checkpoint blocked by a reader")

    def counts(self, prefix: str) -> tuple[int, Counter]:
        (identities,), = self.db.execute("SELECT COUNT(*) FROM identities WHERE name LIKE ?", (prefix + "%",))
        templates = Counter(dict(self.db.execute("SELECT identity, COUNT(*) FROM templates WHERE identity LIKE ? "
                                                 "GROUP BY identity", (prefix + "%",))))
        return identities, templates

    def read_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self.db.execute("SELECT id, index_vector FROM templates ORDER BY id").fetchall()
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        return ids, np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(-1, DIM)

    def check(self) -> str:
        return self.db.execute("PRAGMA quick_check").fetchone()[0]

    def close(self) -> None:
        self.db.close()


class LanceStore:
    """The same two tables in LanceDB; an enrolment is two appends, since Lance commits per table."""

    kind = "lancedb"
    # "optimize" is LanceDB's documented maintenance call; "materialize" also rewrites every
    # fragment that has any deleted row (by default only fragments over 10% deleted are)
    procedures = ("optimize", "materialize")

    def __init__(self, root: Path) -> None:
        import lancedb
        import pyarrow as pa

        self.pa = pa
        self.db = lancedb.connect(root)
        # kept here: each Table.schema call goes to the dataset (~0.4 ms), too slow per row
        self.identity_schema = pa.schema([
            ("gallery", pa.string()), ("name", pa.string()), ("metadata", pa.string()), ("consent", pa.string()),
            ("created", pa.float64()), ("updated", pa.float64())])
        self.template_schema = pa.schema([
            ("id", pa.int64()), ("gallery", pa.string()), ("identity", pa.string()), ("sealed", pa.binary()),
            ("index_vector", pa.list_(pa.float32(), DIM)), ("created", pa.float64())])
        self.identities = self._table("identities", self.identity_schema)
        self.templates = self._table("templates", self.template_schema)

    def _table(self, name: str, schema):
        # exist_ok: the concurrent writers may both be the first to open the store
        return self.db.create_table(name, schema=schema, exist_ok=True)

    def write(self, batch: Batch) -> None:
        pa = self.pa
        n = len(batch.ids)
        offsets = pa.py_buffer(np.arange(0, (n + 1) * SEALED, SEALED, dtype=np.int32))
        self.identities.add(pa.Table.from_pylist(
            [dict(zip(self.identity_schema.names, row)) for row in identity_rows(batch)], self.identity_schema))
        self.templates.add(pa.table({
            "id": pa.array(batch.ids), "gallery": pa.array([GALLERY] * n), "identity": pa.array(batch.identity),
            "sealed": pa.BinaryArray.from_buffers(pa.binary(), n, [None, offsets, pa.py_buffer(batch.sealed)]),
            "index_vector": pa.FixedSizeListArray.from_arrays(pa.array(batch.vectors.ravel()), DIM),
            "created": pa.array(np.full(n, batch.created))}, schema=self.template_schema))

    def prepare_reads(self) -> None:
        # without scalar indexes every lookup and delete scans the whole table
        self.templates.create_scalar_index("id")
        self.templates.create_scalar_index("identity")
        self.identities.create_scalar_index("name")

    def _where(self, table, predicate: str, columns: list[str], limit: int | None):
        return table.search().where(predicate).select(columns).limit(limit).to_arrow()

    def fetch(self, ids: list[int]) -> int:
        return self._where(self.templates, f"id IN ({','.join(map(str, ids))})", ["id", "identity", "sealed"],
                           len(ids)).num_rows

    def blob_of(self, name: str) -> bytes:
        rows = self._where(self.templates, f"identity = '{name}'", ["id", "sealed"], None).sort_by("id")
        return rows["sealed"][0].as_py()

    def erase(self, name: str, procedure: str) -> None:
        self.templates.delete(f"gallery = '{GALLERY}' AND identity = '{name}'")
        self.identities.delete(f"gallery = '{GALLERY}' AND name = '{name}'")
        for tbl in (self.templates, self.identities):
            if procedure == "optimize":
                tbl.optimize(cleanup_older_than=timedelta(0), delete_unverified=True)
            else:
                tbl.compact_files(materialize_deletions_threshold=0.0)
                tbl.cleanup_old_versions(older_than=timedelta(0), delete_unverified=True)

    def counts(self, prefix: str) -> tuple[int, Counter]:
        identities = self.identities.count_rows(f"name LIKE '{prefix}%'")
        names = self._where(self.templates, f"identity LIKE '{prefix}%'", ["identity"], None)["identity"]
        return identities, Counter(names.to_pylist())

    def read_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        table = self.templates.search().select(["id", "index_vector"]).limit(None).to_arrow()
        vectors = table["index_vector"].combine_chunks().flatten().to_numpy().reshape(-1, DIM)
        return table["id"].to_numpy(), vectors

    def check(self) -> str:
        rows = self.templates.count_rows()
        ids, _ = self.read_vectors()
        return "ok" if len(ids) == rows else f"count_rows {rows} but {len(ids)} rows read"

    def close(self) -> None:
        pass  # nothing held open between calls


STORES = {"sqlite": SQLiteStore, "lancedb": LanceStore}


def open_store(kind: str, root: Path):
    # these warnings only restate that cleanup_older_than=0 and compact_files are what we ask for
    warnings.filterwarnings("ignore", message=r"optimize\(cleanup_older_than=0\)")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    return STORES[kind](root)


# -- measurements, each run in its own process --------------------------------------------------------
def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99))}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_mib(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20


def bulk_name(i: int) -> str:
    return f"id{i:07d}"


def point_reads(store, n_templates: int, lookups: int, rng: np.random.Generator, erased: frozenset = frozenset()) -> dict:
    """Rows of 10 random bulk template ids, none of an erased identity (template i belongs to identity i // 10)."""
    times, short = [], 0
    for _ in range(lookups):
        ids = []
        while len(ids) < 10:
            i = int(rng.integers(n_templates))
            if i // PER_IDENTITY not in erased and i not in ids:
                ids.append(i)
        start = time.perf_counter()
        got = store.fetch(ids)
        times.append(time.perf_counter() - start)
        short += got != len(ids)
    return {**percentiles(times), "lookups": lookups, "short_results": short}


def load_and_read(kind: str, root: Path, n_templates: int, enrolments: int, lookups: int) -> dict:
    """Bulk load, then enrolment latency and point reads against the full store."""
    rng = np.random.default_rng(BULK_SEED)  # the same rows for both stores
    store = open_store(kind, root)
    per_batch = BATCH // PER_IDENTITY
    write_s = 0.0
    for first in range(0, n_templates // PER_IDENTITY, per_batch):
        batch = make_batch(rng, [bulk_name(i) for i in range(first, first + per_batch)], first * PER_IDENTITY, PER_IDENTITY)
        start = time.perf_counter()
        store.write(batch)
        write_s += time.perf_counter() - start
    start = time.perf_counter()
    store.prepare_reads()
    index_s = time.perf_counter() - start
    loaded_mib = disk_mib(root)

    enrol_times = []
    for k in range(enrolments):
        batch = make_batch(rng, [f"enrol{k:04d}"], ENROL_IDS + k * ENROL_TEMPLATES, ENROL_TEMPLATES)
        start = time.perf_counter()
        store.write(batch)
        enrol_times.append(time.perf_counter() - start)
    reads = point_reads(store, n_templates, lookups, rng)
    store.close()
    return {"bulk_templates_per_s": n_templates / write_s, "bulk_write_s": write_s, "index_build_s": index_s,
            "disk_after_load_mib": loaded_mib, "enrol": {**percentiles(enrol_times), "enrolments": enrolments},
            "point_reads": reads, "peak_rss_mib": peak_rss_mib()}


def scan(root: Path, needles: list[bytes]) -> list[list[str]]:
    """For each needle, the files under root that contain it (read in chunks to keep RSS flat)."""
    found: list[list[str]] = [[] for _ in needles]
    overlap = max(map(len, needles)) - 1
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with open(path, "rb") as f:
            tail = b""
            while chunk := f.read(64 << 20):
                window = tail + chunk
                for i, needle in enumerate(needles):
                    if str(path) not in found[i] and needle in window:
                        found[i].append(str(path.relative_to(root)))
                tail = window[-overlap:]
    return found


def erase_and_scan(kind: str, root: Path, n_templates: int, erasures: int, lookups: int) -> dict:
    """Each erasure procedure on its own identities, then every file is scanned for their blobs."""
    rng = np.random.default_rng(ERASE_SEED)
    store = open_store(kind, root)
    picked = rng.choice(n_templates // PER_IDENTITY, erasures * len(store.procedures) + 1, replace=False)
    control, targets = bulk_name(int(picked[0])), [bulk_name(int(i)) for i in picked[1:]]
    control_blob = store.blob_of(control)  # still stored: proves the scan finds what is there
    out, erased_blobs = {}, []
    for p, procedure in enumerate(store.procedures):
        names = targets[p * erasures:(p + 1) * erasures]
        blobs, times = [store.blob_of(name) for name in names], []
        for name in names:
            start = time.perf_counter()
            store.erase(name, procedure)
            times.append(time.perf_counter() - start)
        hits = scan(root, [control_blob] + erased_blobs + blobs)
        identities_left, templates_left = store.counts("id")  # every bulk identity, less the erased
        out[procedure] = {**percentiles(times), "erasures": erasures,
                          "blobs_found": sum(bool(h) for h in hits[1 + len(erased_blobs):]),
                          "earlier_blobs_found": sum(bool(h) for h in hits[1:1 + len(erased_blobs)]),
                          "files_with_blobs": sorted({f for h in hits[1:] for f in h}),
                          "control_found": bool(hits[0]), "identities_left": identities_left,
                          "templates_left": sum(templates_left.values()),
                          "expected_identities": n_templates // PER_IDENTITY - (p + 1) * erasures}
        erased_blobs += blobs
    out["point_reads_after"] = point_reads(store, n_templates, lookups, rng, frozenset(int(i) for i in picked[1:]))
    store.close()
    return out


def full_read(kind: str, root: Path) -> dict:
    """Open the store cold in a fresh process and read every (id, index vector), as an index rebuild does."""
    start = time.perf_counter()
    store = open_store(kind, root)
    ids, vectors = store.read_vectors()
    seconds = time.perf_counter() - start
    store.close()
    return {"seconds": seconds, "rows": len(ids), "vector_bytes": int(vectors.nbytes), "peak_rss_mib": peak_rss_mib()}


def in_child(fn, *args):
    with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
        return pool.submit(fn, *args).result()


# -- two writers at once; a writer killed --------------------------------------------------------------
def concurrent_writer(kind: str, root: Path, writer: int, n: int, start_at: float) -> dict:
    rng = np.random.default_rng(CONCURRENT_SEED + writer)
    store = open_store(kind, root)
    acked, errors = [], []
    time.sleep(max(0.0, start_at - time.time()))  # both writers begin together
    for k in range(n):
        name = f"c{writer}-{k:04d}"
        try:
            store.write(make_batch(rng, [name], CONCURRENT_IDS + (writer * n + k) * ENROL_TEMPLATES, ENROL_TEMPLATES))
            acked.append(name)
        except Exception as exc:  # counted: a failed enrolment is the outcome measured
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
    store.close()
    return {"acked": acked, "errors": errors}


def concurrency(kind: str, root: Path, n: int) -> dict:
    start_at = time.time() + 5.0  # both processes are up (numpy and the store imported) by then
    with ProcessPoolExecutor(2, mp_context=SPAWN) as pool:
        results = list(pool.map(concurrent_writer, [kind] * 2, [root] * 2, [0, 1], [n] * 2, [start_at] * 2))
    store = open_store(kind, root)
    identities, templates = store.counts("c")
    store.close()
    acked = [name for r in results for name in r["acked"]]
    lost = [name for name in acked if templates.get(name, 0) != ENROL_TEMPLATES]
    errors = [e for r in results for e in r["errors"]]
    return {"writers": 2, "enrolments_each": n, "acked": len(acked), "errors": len(errors),
            "first_error": errors[0] if errors else None, "lost_acked": len(lost),
            "identity_rows": identities, "template_rows": sum(templates.values())}


def kill_writer(kind: str, root: Path, round_: int, conn) -> None:
    """Write 10,000-template batches until killed, saying when each starts and when it has returned."""
    rng = np.random.default_rng(KILL_SEED + round_)
    store = open_store(kind, root)
    per_batch = BATCH // PER_IDENTITY
    for b in range(10**6):
        names = [f"k{round_}-{b:03d}-{i:04d}" for i in range(per_batch)]
        batch = make_batch(rng, names, KILL_IDS + round_ * 10**8 + b * BATCH, PER_IDENTITY)
        conn.send(("start", b, time.perf_counter()))
        store.write(batch)
        conn.send(("done", b, time.perf_counter()))


def kill_round(kind: str, root: Path, round_: int, fraction: float) -> dict:
    """Kill the writer this fraction of the way into its third batch, then count what is there."""
    here, there = SPAWN.Pipe()
    proc = SPAWN.Process(target=kill_writer, args=(kind, root, round_, there))
    proc.start()
    started, durations, done = {}, [], 0
    while True:
        event, b, t = here.recv()
        if event == "done":
            durations.append(t - started[b])
            done = b + 1
        else:
            started[b] = t
            if len(durations) >= 2:  # the write time is known: kill partway into this batch
                time.sleep(fraction * float(np.mean(durations)))
                proc.kill()
                break
    proc.join()
    while here.poll():  # a "done" sent before the kill landed
        event, b, _ = here.recv()
        done = max(done, b + 1) if event == "done" else done
    start = time.perf_counter()
    store = open_store(kind, root)
    identities, templates = store.counts(f"k{round_}-")
    reopen_s = time.perf_counter() - start
    store.close()
    rows = sum(templates.values())
    return {"kill_at": fraction, "returned_batches": done, "template_rows": rows, "identity_rows": identities,
            "lost_returned": max(0, done * BATCH - rows), "partial_batch": rows % BATCH != 0,
            "in_flight_landed": rows == (done + 1) * BATCH, "torn": identities * PER_IDENTITY != rows,
            "reopen_s": reopen_s, "exit": proc.exitcode}


def kill_test(kind: str, root: Path, rounds: int) -> dict:
    # spread over the batch, so some land inside each step of a write
    out = [kill_round(kind, root, r, (r + 0.5) / rounds) for r in range(rounds)]
    store = open_store(kind, root)
    check = store.check()
    store.close()
    return {"rounds": out, "check_after": check}


# -- durability: does one enrolment reach the disk? -----------------------------------------------------
def probe_enrolments(kind: str, root: str) -> None:
    """Run under strace: a few enrolments between two getppid() calls that mark where they start and end."""
    rng = np.random.default_rng(PROBE_SEED)
    store = open_store(kind, Path(root))
    store.write(make_batch(rng, ["probe-first"], PROBE_IDS, ENROL_TEMPLATES))
    os.getppid()
    for k in range(PROBE_ENROLMENTS):
        store.write(make_batch(rng, [f"probe{k}"], PROBE_IDS + (k + 1) * ENROL_TEMPLATES, ENROL_TEMPLATES))
    os.getppid()
    store.close()


def fsyncs_per_enrolment(kind: str, base: Path) -> float | None:
    if not shutil.which("strace"):
        return None
    trace, root = base / f"{kind}.strace", base / f"{kind}-probe"
    code = "import sys; from benchmarks.gallery_store_choice import probe_enrolments; probe_enrolments(*sys.argv[1:])"
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync,getppid", "-o", str(trace),
                    sys.executable, "-c", code, kind, str(root)], cwd=REPO, check=True, capture_output=True)
    lines = trace.read_text().splitlines()
    marks = [i for i, line in enumerate(lines) if "getppid(" in line]
    syncs = sum(bool(re.search(r"\b(fsync|fdatasync)\(", line)) for line in lines[marks[0]:marks[-1]])
    shutil.rmtree(root)
    trace.unlink()
    return syncs / PROBE_ENROLMENTS


# -- the run --------------------------------------------------------------------------------------------
def bench(kind: str, base: Path, args) -> dict:
    root = base / kind
    print(f"{kind}: loading {args.templates:,} templates", flush=True)
    out = {"load": in_child(load_and_read, kind, root, args.templates, args.enrolments, args.lookups)}
    print(f"{kind}: two concurrent writers", flush=True)
    out["concurrency"] = concurrency(kind, root, args.concurrent)
    print(f"{kind}: SIGKILL during batches", flush=True)
    out["kill"] = kill_test(kind, root, args.kill_rounds)
    print(f"{kind}: erasure", flush=True)
    out["erasure"] = in_child(erase_and_scan, kind, root, args.templates, args.erasures, args.lookups)
    out["disk_mib"] = disk_mib(root)
    print(f"{kind}: full read", flush=True)
    out["full_read"] = in_child(full_read, kind, root)
    out["fsyncs_per_enrolment"] = fsyncs_per_enrolment(kind, base)
    shutil.rmtree(root)
    return out


def table(results: dict) -> str:
    rows = []
    for kind in STORES:
        r = results[kind]
        load, erasure, kills = r["load"], r["erasure"], r["kill"]["rounds"]
        store_cells = [
            f"{load['bulk_templates_per_s']:,.0f}", f"{load['enrol']['p50_ms']:.2f} / {load['enrol']['p99_ms']:.2f}",
            r["fsyncs_per_enrolment"], f"{load['point_reads']['p50_ms']:.2f} / {load['point_reads']['p99_ms']:.2f}",
            f"{erasure['point_reads_after']['p50_ms']:.2f} / {erasure['point_reads_after']['p99_ms']:.2f}"]
        after_cells = [
            f"{r['concurrency']['errors']} / {r['concurrency']['lost_acked']}",
            f"{sum(k['lost_returned'] for k in kills)} / {sum(k['partial_batch'] or k['torn'] for k in kills)} of "
            f"{len(kills)} ({r['kill']['check_after']})",
            f"{load['disk_after_load_mib']:.0f} / {r['disk_mib']:.0f}", f"{r['full_read']['seconds']:.2f}",
            f"{load['peak_rss_mib']:.0f} / {r['full_read']['peak_rss_mib']:.0f}"]
        for i, procedure in enumerate(STORES[kind].procedures):
            e = erasure[procedure]
            same = i > 0  # a second erasure procedure on the same store: only its erasure cells differ
            rows.append([f"{kind} ({procedure})", *([""] * len(store_cells) if same else store_cells),
                         f"{e['p50_ms']:.1f}", f"{e['blobs_found']}/{e['erasures']}",
                         *([""] * len(after_cells) if same else after_cells)])
    columns = ["store (erasure procedure)", "bulk templates/s", "enrol p50/p99 ms", "fsyncs/enrol",
               "10-id read p50/p99 ms", "read after erasures p50/p99 ms", "erase p50 ms", "erased blobs still on disk",
               "2 writers: errors / lost", "kill -9: lost / torn-or-partial (check)", "disk MiB loaded / final",
               "open + read all s", "peak RSS MiB load / read"]
    return markdown_table(columns, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--templates", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="where the stores are built (default: a temp folder)")
    parser.add_argument("--enrolments", type=int, default=200)
    parser.add_argument("--lookups", type=int, default=1_000)
    parser.add_argument("--erasures", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=100, help="enrolments by each of the two writers")
    parser.add_argument("--kill-rounds", type=int, default=5)
    args = parser.parse_args()
    if args.templates % BATCH:
        parser.error(f"--templates must be a multiple of {BATCH}")

    base = Path(tempfile.mkdtemp(prefix="gallery_store_choice-", dir=args.dir))
    results: dict = {"meta": header(), "templates": args.templates, "dim": DIM, "per_identity": PER_IDENTITY,
                     "sealed_bytes": SEALED, "batch": BATCH, "sqlite_version": sqlite3.sqlite_version,
                     "lancedb_version": version("lancedb"), "pylance_version": version("pylance")}
    try:
        for kind in STORES:
            results[kind] = bench(kind, base, args)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    write_outputs("gallery_store_choice", results, table(results))


if __name__ == "__main__":
    main()
