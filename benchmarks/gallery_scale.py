"""The gallery at scale: 1,000,000 templates of 128-D, enrolled, indexed and searched on this machine.

    python -m benchmarks.gallery_scale [--templates 1000000] [--per-identity 10] [--queries 1000]
                                       [--nprobe 32] [--milvus milvus://127.0.0.1:19530 --milvus-templates 100000]

The templates are synthetic but clustered like real identities: each identity has a centre,
and its templates scatter around it, scaled so that, as in dlib's space, templates of one
person lie about 0.35 apart and different people about 0.9 (Euclidean). Probes are new
templates of enrolled people. Everything runs through ``mien.gallery`` as a user would:
sealed (AES-GCM) templates, keyed rotation, SQLite + FAISS, the calibrated decision.

Measured: bulk enrolment rate; index build (IVF-Flat training and filling, then the index
file written); the search latency of the index alone and of a whole ``identify`` (consent
filter, decision, journal line) at p50/p95/p99 over single probes; recall@1 of the index
against exact search; exact NumPy search over the same vectors in the same run as the
baseline; peak memory; disk. With ``--milvus`` the same for a Milvus server (run it with
``scripts/milvus.sh``).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import header, markdown_table, write_outputs
from mien.embed import Embeddings

MODEL = "dlib-resnet"
KEY = bytes(range(32))


def people(n_templates: int, per_identity: int, seed: int = 0):
    """Batches of (names, vectors) with identities' centres ~0.9 apart and their templates ~0.35 apart."""
    rng = np.random.default_rng(seed)
    n_ids = n_templates // per_identity
    centres = (rng.normal(size=(n_ids, 128)) * (0.9 / np.sqrt(2 * 128))).astype(np.float32)
    return centres, rng


def template_noise(rng, shape) -> np.ndarray:
    return (rng.normal(size=shape) * (0.35 / np.sqrt(2 * 128))).astype(np.float32)


def percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)), "p99": float(np.percentile(a, 99))}


def disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def bench_store(url: str, centres: np.ndarray, rng, per_identity: int, n_queries: int, label: str,
                exact_vectors: list | None) -> dict:
    from mien.gallery import open_gallery

    g = open_gallery(url, "scale", model=MODEL, key=KEY, actor="benchmark")
    n_ids = len(centres)
    all_vectors = np.empty((n_ids * per_identity, 128), np.float32)
    start = time.perf_counter()
    batch = 1_000
    for s in range(0, n_ids, batch):
        block = centres[s:s + batch, None, :] + template_noise(rng, (min(batch, n_ids - s), per_identity, 128))
        all_vectors[s * per_identity:(s + len(block)) * per_identity] = block.reshape(-1, 128)
        g.enrol_many((f"id{s + i:07d}", Embeddings(block[i], MODEL, "euclidean"), None) for i in range(len(block)))
        if (s // batch) % 100 == 0:
            print(f"  {label}: enrolled {(s + len(block)) * per_identity:,} templates", flush=True)
    enrol_s = time.perf_counter() - start

    who = rng.integers(0, n_ids, n_queries)
    probes = centres[who] + template_noise(rng, (n_queries, 128))
    rotated = g.protector.to_index(probes)
    start = time.perf_counter()
    g.store.search("scale", rotated[:1], 1)  # the first search builds (or loads) the index
    build_s = time.perf_counter() - start

    index_ms, ids_found = [], []
    for q in range(n_queries):
        t = time.perf_counter()
        hits = g.store.search("scale", rotated[q:q + 1], 10)[0]
        index_ms.append((time.perf_counter() - t) * 1e3)
        ids_found.append(hits[0].identity if hits else None)
    identify_ms, right = [], 0
    for q in range(min(n_queries, 300)):
        t = time.perf_counter()
        result = g.identify_embeddings(Embeddings(probes[q:q + 1], MODEL, "euclidean"), k=5)[0]
        identify_ms.append((time.perf_counter() - t) * 1e3)
        # rank 1: the top candidate, whether or not it passed the threshold (DIR is gallery_openset's job)
        right += bool(result.candidates) and result.candidates[0].identity == f"id{who[q]:07d}"

    exact = None
    if exact_vectors is not None:  # exact search over the same (original) vectors: the baseline
        exact_ms, exact_ids = [], []
        sq = (all_vectors.astype(np.float32) ** 2).sum(1)
        for q in range(n_queries):
            t = time.perf_counter()
            d = sq - 2.0 * all_vectors @ probes[q]
            best = int(np.argmin(d))
            exact_ms.append((time.perf_counter() - t) * 1e3)
            exact_ids.append(f"id{best // per_identity:07d}")
        exact = {"ms": percentiles(exact_ms), "ids": exact_ids}
    result = {
        "store": label, "templates": int(len(all_vectors)), "identities": int(n_ids),
        "enrol_s": enrol_s, "enrol_templates_per_s": len(all_vectors) / enrol_s, "index_build_s": build_s,
        "index_search_ms": percentiles(index_ms), "identify_ms": percentiles(identify_ms),
        "identify_rank1_right": right / len(identify_ms), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if exact is not None:
        result["exact_numpy_ms"] = exact["ms"]
        result["recall_at_1_vs_exact"] = float(np.mean([a == b for a, b in zip(ids_found, exact["ids"])]))
        result["speedup_vs_numpy_p50"] = exact["ms"]["p50"] / result["index_search_ms"]["p50"]
    index = getattr(g.store, "_indexes", {}).get("scale")
    if index is not None:
        result["index"] = {"kind": index.kind, "nprobe": index.nprobe,
                           "nlist": int(getattr(index.index, "nlist", 0))}
    g.close()
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--templates", type=int, default=1_000_000)
    ap.add_argument("--per-identity", type=int, default=10)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--nprobe", type=int, default=32)
    ap.add_argument("--dir", type=Path, default=None, help="where the SQLite store goes (default: a temporary folder)")
    ap.add_argument("--milvus", default=None, help="also a Milvus store at this URL (milvus://host:port)")
    ap.add_argument("--milvus-templates", type=int, default=100_000)
    ap.add_argument("--name", default="gallery_scale")
    args = ap.parse_args(argv)

    results = {"rows": []}
    centres, rng = people(args.templates, args.per_identity)
    root = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        row = bench_store(f"sqlite://{root}?nprobe={args.nprobe}", centres, rng, args.per_identity, args.queries,
                          "sqlite+faiss", [])
        row["disk_mib"] = disk_bytes(root) / 2**20
        results["rows"].append(row)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if args.milvus:
        small, rng2 = people(args.milvus_templates, args.per_identity, seed=1)
        results["rows"].append(bench_store(args.milvus, small, rng2, args.per_identity, args.queries, "milvus", []))
    results["meta"] = header()
    rows = []
    for r in results["rows"]:
        rows.append([r["store"], f"{r['templates']:,}", f"{r['enrol_templates_per_s']:,.0f}", f"{r['index_build_s']:.1f}",
                     "{p50:.2f} / {p95:.2f} / {p99:.2f}".format(**r["index_search_ms"]),
                     "{p50:.2f} / {p95:.2f} / {p99:.2f}".format(**r["identify_ms"]),
                     f"{r.get('recall_at_1_vs_exact', float('nan')):.4f}",
                     "{p50:.1f}".format(**r["exact_numpy_ms"]) if "exact_numpy_ms" in r else "",
                     f"{r['peak_rss_mib']:,.0f}", f"{r.get('disk_mib', float('nan')):,.0f}"])
    table = markdown_table(["store", "templates", "enrol templates/s", "index build s", "index search ms p50/p95/p99",
                            "identify ms p50/p95/p99", "recall@1 vs exact", "NumPy exact ms p50", "peak RSS MiB",
                            "disk MiB"], rows)
    write_outputs(args.name, results, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
