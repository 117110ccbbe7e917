"""LFW verification through mien's whole pipeline: detect, align, embed, compare.

    python benchmarks/verification.py [--data ../shared/data/lfw] [--embedders dlib-resnet,...]
                                      [--detector centerface] [--fuse a;b] [--write-thresholds] [--plot docs/roc_lfw.png]

Every image of the View 2 protocol goes through ``mien.detect`` (with the no-face
fallback of ``mien.match.faces``), the embedder's own alignment and the embedder;
nothing uses the known crop. When an image has several faces the largest is used.
Embeddings are cached under ``--cache`` (default /tmp/mien_lfw_cache) so metrics and
thresholds can be recomputed without re-running the networks.

Reported per embedder (and with flip TTA, and fused for the embedders named in --fuse):
standard 10-fold accuracy (threshold chosen on 9 folds, tested on the 10th) +- std,
TAR at FAR 1e-3 and EER on the 6,000 pairs, and the number of images where no face was
found. ``--write-thresholds`` writes the operating points (FMR 1e-2, 1e-3, 1e-4 over
all different-identity pairs of the 7,701 images) to mien/match/thresholds.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import data_root, header  # noqa: E402
from mien.detect import get_detector  # noqa: E402
from mien.embed import get_embedder, paired_distances  # noqa: E402
from mien.image import load_image  # noqa: E402
from mien.match import calibration  # noqa: E402
from mien.match.faces import detect_with_fallback  # noqa: E402
from mien.types import Faces  # noqa: E402


def read_pairs(data: Path) -> list[tuple[int, str, str, int]]:
    with open(data / "pairs.csv", newline="") as fh:
        return [(int(r["fold"]), r["path1"], r["path2"], int(r["same"])) for r in csv.DictReader(fh)]


def detect_all(data: Path, paths: list[str], detector_name: str, cache: Path) -> dict:
    """The face used for each image (largest of those found, with the fallback), cached."""
    file = cache / f"{detector_name}_faces.npz"
    if file.is_file():
        z = np.load(file, allow_pickle=False)
        return {k: z[k] for k in z.files}
    detector = get_detector(detector_name)
    out = {"boxes": np.zeros((len(paths), 4), np.float32), "scores": np.zeros(len(paths), np.float32),
           "landmarks": np.zeros((len(paths), 5, 2), np.float32), "found": np.zeros(len(paths), np.int32)}
    how = []
    start = time.perf_counter()
    for i, rel in enumerate(paths):
        faces, pass_name = detect_with_fallback(load_image(data / rel), detector)
        how.append(pass_name)
        out["found"][i] = len(faces)
        if len(faces):
            face = faces.largest()
            out["boxes"][i], out["scores"][i], out["landmarks"][i] = face.boxes[0], face.scores[0], face.landmarks[0]
        if (i + 1) % 1000 == 0:
            print(f"  detected {i + 1}/{len(paths)} images, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    out["how"] = np.array(how)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(file, **out)
    return out


def embed_all(data: Path, paths: list[str], embedders: list[str], detector_name: str, cache: Path) -> dict:
    """Raw and mirrored-crop vectors for every image and embedder, cached in one .npz per config."""
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    todo = []
    for name in embedders:
        file = cache / f"{detector_name}_{name}.npz"
        if file.is_file():
            z = np.load(file, allow_pickle=False)
            out[name] = {k: z[k] for k in z.files}
        else:
            todo.append(name)
    if not todo:
        return out
    found = detect_all(data, paths, detector_name, cache)
    models = {n: get_embedder(*_parse_spec(n)[:1], **_parse_spec(n)[1]) for n in todo}
    start = time.perf_counter()
    for n, model in models.items():
        w, h = model.info.input_size
        crops = np.zeros((len(paths), h, w, 3), np.uint8)  # no face: a blank crop, scored as a non-match
        for i, rel in enumerate(paths):
            if found["found"][i]:
                face = Faces(found["boxes"][i : i + 1], found["scores"][i : i + 1], found["landmarks"][i : i + 1])
                crops[i] = model.align(load_image(data / rel), face).crops[0]
        vec = model.embed(crops).vectors
        mirrored = model.embed(np.ascontiguousarray(crops[:, :, ::-1])).vectors
        out[n] = {"vectors": vec, "mirrored": mirrored, "found": found["found"], "how": found["how"]}
        np.savez(cache / f"{detector_name}_{n}.npz", **out[n])
        print(f"  embedded {len(paths)} images with {n}, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return out


def _parse_spec(spec: str) -> tuple[str, dict]:
    """"dlib-resnet:aligner=landmarks" -> ("dlib-resnet", {"aligner": "landmarks"})."""
    name, _, opts = spec.partition(":")
    return name, dict(o.split("=", 1) for o in opts.split(",") if o) if opts else {}


def flip_vectors(entry: dict, metric: str) -> np.ndarray:
    """What ``Embedder(flip=True)`` returns, from cached raw and mirrored vectors."""
    if metric == "euclidean":
        return (entry["vectors"] + entry["mirrored"]) / 2
    return entry["vectors"] + entry["mirrored"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=data_root() / "lfw")
    ap.add_argument("--embedders", default="dlib-resnet", help="';'-separated, options after ':' e.g. dlib-resnet:aligner=landmarks")
    ap.add_argument("--detector", default="centerface")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/mien_lfw_cache"))
    ap.add_argument("--fuse", default="", help="';'-separated embedders (of --embedders) to fuse, e.g. dlib-resnet;faceres")
    ap.add_argument("--write-thresholds", action="store_true")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs" / "roc_lfw.png")
    ap.add_argument("--json", type=Path, help="also write the results JSON here")
    args = ap.parse_args(argv)

    from mien.embed import embedder_class

    pairs = read_pairs(args.data)
    with open(args.data / "identities.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    id_key = next(k for k in rows[0] if k != "path")
    identity = {r["path"]: r[id_key] for r in rows}
    paths = sorted(set(identity) | {p for _, a, b, _ in pairs for p in (a, b)})
    index = {p: i for i, p in enumerate(paths)}
    names = [n.strip() for n in args.embedders.split(";") if n.strip()]
    cached = embed_all(args.data, paths, names, args.detector, args.cache)

    folds = np.array([f for f, *_ in pairs])
    same = np.array([s for *_, s in pairs], bool)
    ia = np.array([index[a] for _, a, _, _ in pairs])
    ib = np.array([index[b] for _, _, b, _ in pairs])
    ids = np.array([identity.get(p, p) for p in paths])

    results = {**header(), "detector": args.detector, "pairs": len(pairs), "images": len(paths), "rows": []}
    curves = {}
    scores_for_fusion = {}
    thresholds_out = {}
    first = cached[names[0]]
    results["no_face"] = int((first["found"] == 0).sum())
    results["several_faces"] = int((first["found"] > 1).sum())
    results["detect_passes"] = dict(Counter(first["how"].tolist()))
    for name in names:
        info = embedder_class(_parse_spec(name)[0]).info
        entry = cached[name]
        missing = entry["found"] == 0
        for variant, vectors in (("", entry["vectors"]), ("+flip", flip_vectors(entry, info.metric))):
            label = name + variant
            dist = paired_distances(vectors[ia], vectors[ib], info.metric)
            dist[missing[ia] | missing[ib]] = np.inf  # a missing face never matches
            scores_for_fusion[label] = dist
            row = {"embedder": label, **calibration.lfw_protocol(dist, same, folds)}
            results["rows"].append(row)
            curves[label] = calibration.roc(dist, same)
            if args.write_thresholds:
                thresholds_out[label] = calibration.fit_all_pairs(vectors[~missing], ids[~missing], info.metric, label)
    fuse_names = [n.strip() for n in args.fuse.split(";") if n.strip()] if args.fuse else []
    if len(fuse_names) > 1:
        for variant in ("", "+flip"):
            labels = [n + variant for n in fuse_names]
            fused = calibration.fuse([scores_for_fusion[l] for l in labels], same, folds)
            row = {"embedder": " + ".join(labels) + " (fused)", **calibration.lfw_protocol(fused, same, folds)}
            results["rows"].append(row)
            curves[row["embedder"]] = calibration.roc(fused, same)

    print(json.dumps(results, indent=2))
    print()
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.plot:
        plot_roc(curves, args.plot)
    if args.write_thresholds:
        target = ROOT / "mien" / "match" / "thresholds.json"
        current = json.loads(target.read_text()) if target.is_file() else {}
        current.update(thresholds_out)
        target.write_text(json.dumps(current, indent=1) + "\n")
        print(f"wrote {target}", file=sys.stderr)
    return 0


def markdown(results: dict) -> str:
    m = {**results["machine"], "commit": results["commit"]}
    lines = [
        f"LFW View 2, {results['pairs']} pairs, {results['images']} images, detector {results['detector']}; "
        f"no face found: {results['no_face']}, several faces (largest used): {results['several_faces']}; "
        f"detection passes: {results['detect_passes']}; {m['cpu']} x{m['cores']}, commit {m['commit']}",
        "",
        "| embedder | 10-fold accuracy | TAR @ FAR 1e-3 | EER |",
        "|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['embedder']} | {100 * r['accuracy']:.2f}% +- {100 * r['accuracy_std']:.2f} | "
            f"{100 * r['tar_at_far_1e-3']:.1f}% | {100 * r['eer']:.2f}% |"
        )
    return "\n".join(lines)


def plot_roc(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for label, (far, tar, _) in curves.items():
        keep = far > 0
        ax.plot(far[keep], tar[keep], label=label)
    ax.set_xscale("log")
    lowest = min(float(tar[far <= 1e-2].max()) for far, tar, _ in curves.values())
    ax.set_xlim(min(float(far[far > 0].min()) for far, _, _ in curves.values()), 1)
    ax.set_ylim(max(0.0, np.floor((lowest - 0.05) * 20) / 20), 1.0)
    ax.set_xlabel("false accept rate (LFW View 2 pairs)")
    ax.set_ylabel("true accept rate")
    ax.set_title("mien on LFW: detect, align, embed, compare")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
