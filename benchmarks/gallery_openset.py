"""Open-set identification on LFW through ``mien.gallery``: rank-1 DIR at a target FPIR, and the FPIR measured.

    python -m benchmarks.gallery_openset [--data DIR] [--cache /tmp/mien_lfw_cache] [--tta none|flip]

Protocol (ISO/IEC 19795-1 open-set terms). Of the 7,701 LFW images mien's benchmarks use,
every identity with two or more images is enrolled with its first image (in file order);
its other images are *mated* probes. Every image of an identity with one image is a
*non-mated* probe: someone never enrolled. Each probe is identified through a real
``Gallery`` (SQLite + FAISS, sealed templates, keyed rotation) with the threshold that
mien sets for the gallery's size at the target FPIR.

* rank-1 DIR (detection and identification rate): share of mated probes whose top
  candidate is the right person and passes the threshold;
* FPIR measured: share of non-mated probes answered with anyone;
* in the same run, ``face_recognition``'s way over the same templates: ``compare_faces``
  at its default tolerance 0.6 (a match is any template within 0.6; the nearest is named).

The shipped threshold table was measured on LFW's all pairs, so the calibrated rows are
in-sample for the impostor distribution; the docs say so. Embeddings come from the same
cache as ``benchmarks/verification.py`` (detected once, embedded once).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchmarks.common import data_root, header, markdown_table, write_outputs
from benchmarks.verification import embed_all, lfw_images
from mien.embed import Embeddings
from mien.match.faces import REFINE_SCALE

FPIRS = (1e-1, 1e-2, 1e-3)
FACE_RECOGNITION_TOLERANCE = 0.6


def split(identities: np.ndarray, found: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """(enrolled image per identity, mated probes, non-mated probes), images without a face left out."""
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, person in enumerate(identities):
        if found[i]:
            by_person[person].append(i)
    enrolled, mated, non_mated = [], [], []
    for person, images in sorted(by_person.items()):
        if len(images) >= 2:
            enrolled.append(images[0])
            mated.extend(images[1:])
        else:
            non_mated.extend(images)
    return enrolled, mated, non_mated


def run_gallery(vectors: np.ndarray, model: str, identities: np.ndarray, enrolled: list[int], probes: list[int],
                fpir: float, root: Path) -> tuple[list, float, float]:
    from mien.gallery import open_gallery

    g = open_gallery(f"sqlite://{root}", f"lfw-{fpir:g}", model=model, key=bytes(range(32)), actor="benchmark")
    start = time.perf_counter()
    g.enrol_many((str(identities[i]), Embeddings(vectors[i:i + 1], model, "euclidean"), None) for i in enrolled)
    enrol_s = time.perf_counter() - start
    start = time.perf_counter()
    results = []
    for s in range(0, len(probes), 512):
        chunk = probes[s:s + 512]
        results += g.identify_embeddings(Embeddings(vectors[chunk], model, "euclidean"), k=1, fpir=fpir)
    per_probe_ms = (time.perf_counter() - start) / len(probes) * 1e3
    g.close()
    return results, enrol_s, per_probe_ms


def face_recognition_way(vectors: np.ndarray, identities: np.ndarray, enrolled: list[int],
                         probes: list[int]) -> list[str | None]:
    """compare_faces(known, probe, tolerance=0.6): the nearest template within 0.6 names the probe."""
    known = vectors[enrolled].astype(np.float64)
    out = []
    for s in range(0, len(probes), 1024):
        p = vectors[probes[s:s + 1024]].astype(np.float64)
        d = np.sqrt(np.clip((p * p).sum(1)[:, None] + (known * known).sum(1)[None] - 2 * p @ known.T, 0, None))
        best = d.argmin(1)
        out += [str(identities[enrolled[b]]) if d[r, b] <= FACE_RECOGNITION_TOLERANCE else None
                for r, b in enumerate(best)]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=data_root() / "lfw")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/mien_lfw_cache"))
    ap.add_argument("--tta", choices=["none", "flip"], default="none")
    args = ap.parse_args(argv)

    paths, identities = lfw_images(args.data)
    cached = embed_all(args.data, paths, ["dlib-resnet"], "centerface", args.cache, 1.0, REFINE_SCALE)["dlib-resnet"]
    views, found = cached["views"], cached["found"]
    vectors = (views[:, 0] if args.tta == "none" else views[:, :2].mean(axis=1)).astype(np.float32)
    model = "dlib-resnet" + ("" if args.tta == "none" else "+flip")
    enrolled, mated, non_mated = split(identities, found)
    probes = mated + non_mated
    truth = [str(identities[i]) for i in mated]

    rows, results = [], {"protocol": {"enrolled": len(enrolled), "mated_probes": len(mated),
                                      "non_mated_probes": len(non_mated), "model": model}, "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        for fpir in FPIRS:
            answers, enrol_s, ms = run_gallery(vectors, model, identities, enrolled, probes, fpir, Path(tmp) / "store")
            hits = [a.identity == t for a, t in zip(answers[:len(mated)], truth)]
            false = [a.identity is not None for a in answers[len(mated):]]
            row = {"method": "mien gallery, calibrated", "target_fpir": fpir, "threshold": answers[0].threshold,
                   "estimated_fpir": answers[0].estimated_fpir, "dir_rank1": float(np.mean(hits)),
                   "fpir_measured": float(np.mean(false)), "false_positives": int(np.sum(false)),
                   "ms_per_probe": ms, "enrol_s": enrol_s}
            results["rows"].append(row)
            rows.append([row["method"], f"{fpir:g}", f"{row['threshold']:.4f}", f"{row['dir_rank1']:.2%}",
                         f"{row['fpir_measured']:.4f} ({row['false_positives']}/{len(non_mated)})", f"{ms:.2f}"])
    named = face_recognition_way(vectors, identities, enrolled, probes)
    hits = [n == t for n, t in zip(named[:len(mated)], truth)]
    false = [n is not None for n in named[len(mated):]]
    anchor = {"method": "face_recognition compare_faces, tolerance 0.6", "target_fpir": None,
              "threshold": FACE_RECOGNITION_TOLERANCE, "dir_rank1": float(np.mean(hits)),
              "fpir_measured": float(np.mean(false)), "false_positives": int(np.sum(false))}
    results["rows"].append(anchor)
    rows.append([anchor["method"], "(none)", "0.6", f"{anchor['dir_rank1']:.2%}",
                 f"{anchor['fpir_measured']:.4f} ({anchor['false_positives']}/{len(non_mated)})", ""])
    results["meta"] = header()
    table = markdown_table(["method", "target FPIR", "threshold", "rank-1 DIR", "FPIR measured", "ms / probe"], rows)
    table += (f"\n\n{len(enrolled)} identities enrolled (one image each), {len(mated)} mated and {len(non_mated)} "
              f"non-mated probes; {model}; {results['meta']['commit']}, {results['meta']['date']}.")
    write_outputs(f"gallery_openset{'' if args.tta == 'none' else '_flip'}", results, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
