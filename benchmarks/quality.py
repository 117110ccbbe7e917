"""Does mien's enrolment quality predict recognition errors? Error-versus-discard on LFW.

    nice python benchmarks/quality.py [--data ../shared/data/lfw] [--fmr 1e-3]

A quality measure is useful for recognition when throwing away the faces it scores lowest
removes false non-matches faster than throwing away faces at random: the
error-versus-discard characteristic (EDC) of ISO/IEC 29794-1. Here:

* every LFW image's face (the verification benchmark's cached CenterFace detections), the
  face mesh and ``mien.quality.face_quality`` with default thresholds (cached under
  $MIEN_HOME/bench/);
* every pair of images (29.6 M, the cached dlib-resnet vectors, plain and with the mirror), one threshold at
  ``--fmr`` over all impostor pairs, fixed before anything is discarded;
* a pair's quality is the lower of its two faces' (for each measure: the overall score,
  every check's raw value with its direction, CenterFace's detection score as the cheap
  baseline, and how far the embedding's TTA views lie from their mean: its mirror, or 8
  jittered crops); the genuine pairs with the lowest quality are discarded, fraction by
  fraction, and FNMR is measured on the rest. Random discarding leaves FNMR where it was;
  discarding exactly the false non-matches first is the ideal.

Writes docs/benchmarks/quality_edc.{json,md} and the curves docs/quality_edc.png, and prints
the percentiles of the embedding spread on LFW (what ``Embeddings.spread`` is compared with).

``--part wider``: do the checks see what people see? WIDER FACE's annotators marked every
face for blur, occlusion, atypical pose, extreme illumination and exaggerated expression.
On the shared validation subset, each face at least 60 px high that CenterFace finds (IoU >= 0.4)
goes through ``Analyzer(quality=True)``; for each check and the label it should track, the ROC
AUC (a face the annotators marked is scored worse than an unmarked one; 0.5 is chance, Wilson-
free bootstrap interval) and how often the check fails at its default threshold for marked and
unmarked faces. Writes docs/benchmarks/quality_wider.{json,md}.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import data_root, header, markdown_table, write_outputs  # noqa: E402
from benchmarks.verification import detect_all, embed_all, lfw_images  # noqa: E402
from mien.embed.base import view_spread  # noqa: E402
from mien.match.faces import REFINE_SCALE  # noqa: E402
from mien.models.store import mien_home  # noqa: E402

EMBEDDER = "dlib-resnet:tta=jitter,jitters=8"  # view 0 of this cache is the plain embedding
# check -> +1 where a higher value is better quality, -1 where lower is
DIRECTIONS = {"sharpness": 1, "contrast": 1, "eye_distance": 1, "eyes_open": 1, "brightness": 0, "clipped": -1,
              "yaw": -1, "pitch": -1, "roll": -1, "mouth_closed": -1, "occlusion": -1}
FRACTIONS = np.round(np.arange(0, 0.41, 0.01), 2)
REPORTED = (0.05, 0.1, 0.2)


def qualities(data: Path, paths: list[str], found: dict) -> dict[str, np.ndarray]:
    """Per image: the overall quality score, pass/fail and every check's value (NaN where no face)."""
    cache = mien_home() / "bench" / f"lfw_quality_{len(paths)}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    from mien.image import load_image
    from mien.landmarks import get_landmarker
    from mien.quality import face_quality
    from mien.types import Faces

    mesh = get_landmarker("face-mesh")
    out = {k: np.full(len(paths), np.nan) for k in ("score", "passed", *DIRECTIONS)}
    for i, rel in enumerate(paths):
        if not found["found"][i]:
            continue
        face = Faces(found["boxes"][i : i + 1], found["scores"][i : i + 1], found["landmarks"][i : i + 1])
        image = load_image(data / rel)
        q = face_quality(image, mesh.predict(image, face).points[0])
        out["score"][i], out["passed"][i] = q.score, float(q.passed)
        for check in q.checks:
            out[check.name][i] = check.value
        if (i + 1) % 1000 == 0:
            print(f"  quality {i + 1}/{len(paths)}", file=sys.stderr)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def genuine_and_threshold(vectors: np.ndarray, ids: np.ndarray, fmr: float) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Genuine pairs (M, 2) of image indices with their distances, the distance threshold at ``fmr``
    over all impostor pairs, and the number of impostor pairs (blocks, to bound memory)."""
    from mien.embed.base import pairwise_distances

    n = len(vectors)
    impostor_chunks, gen_pairs, gen_dist = [], [], []
    for start in range(0, n, 1000):
        rows = np.arange(start, min(n, start + 1000))
        d = pairwise_distances(vectors[rows], vectors, "euclidean").astype(np.float32)
        for k, i in enumerate(rows):
            j = np.arange(i + 1, n)
            same = ids[j] == ids[i]
            gen_pairs.append(np.stack([np.full(same.sum(), i), j[same]], 1))
            gen_dist.append(d[k, i + 1:][same])
            impostor_chunks.append(d[k, i + 1:][~same])
    impostor = np.concatenate(impostor_chunks)
    k = max(1, int(fmr * len(impostor)))
    threshold = float(np.partition(impostor, k - 1)[k - 1])
    return np.concatenate(gen_pairs), np.concatenate(gen_dist), threshold, len(impostor)


def edc(pair_quality: np.ndarray, rejected: np.ndarray) -> np.ndarray:
    """FNMR after discarding each of FRACTIONS of the genuine pairs, lowest quality first (ties at random)."""
    order = np.lexsort((np.random.default_rng(0).random(len(pair_quality)), pair_quality))
    errors = rejected[order]
    out = []
    for f in FRACTIONS:
        kept = errors[int(round(f * len(errors))):]
        out.append(kept.mean() if len(kept) else np.nan)
    return np.array(out)


def ideal_edc(rejected: np.ndarray) -> np.ndarray:
    n, e = len(rejected), rejected.sum()
    return np.array([max(0.0, e - f * n) / (n * (1 - f)) for f in FRACTIONS])


def plot(curves: dict[str, np.ndarray], ideal: np.ndarray, fnmr: float, path: Path, fmr: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=110)
    x = 100 * FRACTIONS
    ax.plot(x, 100 * ideal, ":", color="black", label="ideal (discard the errors first)")
    ax.axhline(100 * fnmr, color="grey", linestyle="--", linewidth=1, label="random discarding")
    for name, curve in curves.items():
        ax.plot(x, 100 * curve, linewidth=2.2 if name == "quality score" else 1.2, label=name)
    ax.set_xlabel("genuine pairs discarded, lowest pair quality first (%)")
    ax.set_ylabel(f"FNMR at FMR {fmr:g} (%)")
    ax.set_title("Error versus discard: mien's quality checks on LFW (dlib-resnet, every pair)", fontsize=10)
    ax.set_ylim(0, 100 * fnmr * 1.15)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# check -> (WIDER label it should track, which label values count as marked, +1: higher value is better)
WIDER_CHECKS = {
    "sharpness": ("blur", {"1", "2"}, 1),
    "occlusion": ("occlusion", {"1", "2"}, -1),
    "yaw": ("pose", {"1"}, -1),
    "pitch": ("pose", {"1"}, -1),
    "brightness": ("illumination", {"1"}, 0),  # distance from mid-grey
    "contrast": ("illumination", {"1"}, 1),
    "clipped": ("illumination", {"1"}, -1),
    "mouth_closed": ("expression", {"1"}, -1),
    "score": ("any", {"1"}, 1),
}


def auc(bad: np.ndarray, good: np.ndarray) -> float:
    """P(a marked face scores worse than an unmarked one), ties counting half (Mann-Whitney)."""
    both = np.concatenate([bad, good])
    ranks = np.empty(len(both))
    order = np.argsort(both, kind="mergesort")
    ranks[order] = np.arange(1, len(both) + 1)
    for v in np.unique(both):  # average ranks of ties
        tie = both == v
        ranks[tie] = ranks[tie].mean()
    return float((ranks[len(bad):].sum() - len(good) * (len(good) + 1) / 2) / (len(bad) * len(good)))


def wider_part() -> None:
    from mien.analyze import Analyzer
    from mien.image import load_image

    root = data_root() / "widerface_val_subset"
    with open(root / "annotations.csv", newline="") as fh:
        boxes = [r for r in csv.DictReader(fh) if r["invalid"] == "0" and int(r["h"]) >= 60]
    by_image: dict[str, list[dict]] = {}
    for r in boxes:
        by_image.setdefault(r["path"], []).append(r)
    analyzer = Analyzer(attributes=(), quality=True)
    faces = []
    for n, (path, truth) in enumerate(sorted(by_image.items())):
        result = analyzer.analyze(load_image(root / path))
        for t in truth:
            gt = np.array([float(t["x"]), float(t["y"]), float(t["x"]) + float(t["w"]), float(t["y"]) + float(t["h"])])
            ious = [_iou(gt, b) for b in result.faces.boxes]
            if ious and max(ious) >= 0.4 and result.results[int(np.argmax(ious))].quality is not None:
                q = result.results[int(np.argmax(ious))].quality
                marked = {k: t[k] for k in ("blur", "occlusion", "pose", "illumination", "expression")}
                marked["any"] = "1" if any(t[k] != "0" for k in marked) else "0"
                faces.append({"labels": marked, "score": q.score,
                              **{c.name: (c.value, c.passed) for c in q.checks}})
        if (n + 1) % 50 == 0:
            print(f"  wider {n + 1}/{len(by_image)} images", file=sys.stderr)
    rng = np.random.default_rng(0)
    rows, result_json = [], {"meta": header(), "faces_labelled": len(boxes), "faces_matched": len(faces), "checks": {}}
    for check, (label, bad_values, sign) in WIDER_CHECKS.items():
        raw = np.array([f[check] if check == "score" else f[check][0] for f in faces], np.float64)
        value = -np.abs(raw - 130) if sign == 0 else sign * raw  # higher = better quality
        bad = np.array([f["labels"][label] in bad_values for f in faces])
        if bad.sum() < 5 or (~bad).sum() < 5:
            continue
        a = auc(value[bad], value[~bad])
        boot = [auc(value[bad][rng.integers(0, bad.sum(), bad.sum())], value[~bad][rng.integers(0, (~bad).sum(), (~bad).sum())])
                for _ in range(300)]
        lo, hi = np.quantile(boot, [0.025, 0.975])
        if check == "score":
            fails = np.array([not all(f[c][1] for c in f if c not in ("labels", "score")) for f in faces])
        else:
            fails = np.array([not f[check][1] for f in faces])
        result_json["checks"][check] = {"label": label, "marked": int(bad.sum()), "unmarked": int((~bad).sum()),
                                        "auc": a, "auc_ci95": [float(lo), float(hi)],
                                        "fails_marked": float(fails[bad].mean()), "fails_unmarked": float(fails[~bad].mean())}
        name = "quality score (fails: any check)" if check == "score" else check
        rows.append([name, f"{label} ({'/'.join(sorted(bad_values))})", f"{int(bad.sum())} / {int((~bad).sum())}",
                     f"{a:.2f} [{lo:.2f}-{hi:.2f}]", f"{100 * fails[bad].mean():.0f}% / {100 * fails[~bad].mean():.0f}%"])
    table = (f"{len(faces)} of the {len(boxes)} valid WIDER faces at least 60 px high were found by CenterFace (IoU >= 0.4) "
             "and measured.\n\n" + markdown_table(
                 ["check", "WIDER label (marked values)", "marked / unmarked faces", "ROC AUC [95%]",
                  "fails at the default threshold: marked / unmarked"], rows))
    write_outputs("quality_wider", result_json, table)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=data_root() / "lfw")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/mien_lfw_cache"))
    ap.add_argument("--fmr", type=float, default=1e-3)
    ap.add_argument("--part", choices=["edc", "wider"], default="edc")
    args = ap.parse_args(argv)
    if args.part == "wider":
        wider_part()
        return 0

    paths, ids = lfw_images(args.data)
    found = detect_all(args.data, paths, "centerface", args.cache)
    cached = embed_all(args.data, paths, [EMBEDDER], "centerface", args.cache, 1.0, REFINE_SCALE)[EMBEDDER]
    quality = qualities(args.data, paths, found)
    ok = (cached["found"] > 0) & np.isfinite(quality["score"])
    keep = np.flatnonzero(ok)
    views = cached["views"]
    measures = {"quality score": quality["score"], "detector score": found["scores"].astype(np.float64)}
    for check, sign in DIRECTIONS.items():
        if sign:
            measures[check] = sign * quality[check]
    measures["brightness (distance from 130)"] = -np.abs(quality["brightness"] - 130)
    for n_views in (2, 8):  # how far the TTA views' vectors lie from their mean (Embeddings.spread), negated
        measures[f"embedding spread, {n_views} views"] = -view_spread(views[:, :n_views], "euclidean")

    meta = header()
    result = {"meta": meta, "images": int(ok.sum()), "fmr": args.fmr, "fractions": FRACTIONS.tolist(),
              "images_passing_default_checks": float(np.nanmean(quality["passed"][ok])), "embeddings": {}}
    idx = [int(np.flatnonzero(FRACTIONS == f)[0]) for f in REPORTED]
    span = FRACTIONS <= 0.2
    table = ""
    for label, vectors, shown in (("dlib-resnet", views[:, 0], list(measures)),
                                  ("dlib-resnet+flip", views[:, :2].mean(axis=1),
                                   ["quality score", "detector score", "embedding spread, 2 views", "embedding spread, 8 views"])):
        pairs, dist, threshold, n_impostor = genuine_and_threshold(vectors[keep], ids[keep], args.fmr)
        pairs = keep[pairs]
        rejected = dist > threshold
        fnmr = float(rejected.mean())
        curves = {name: edc(np.minimum(measures[name][pairs[:, 0]], measures[name][pairs[:, 1]]), rejected) for name in shown}
        ideal = ideal_edc(rejected)
        both_pass = (quality["passed"][pairs[:, 0]] == 1) & (quality["passed"][pairs[:, 1]] == 1)
        area = {k: float(np.trapezoid(v[span], FRACTIONS[span]) / 0.2) for k, v in curves.items()}
        result["embeddings"][label] = {
            "genuine_pairs": len(pairs), "impostor_pairs": n_impostor, "threshold": threshold, "fnmr": fnmr,
            "both_pass": {"share_of_genuine_pairs": float(both_pass.mean()), "fnmr": float(rejected[both_pass].mean()),
                          "fnmr_others": float(rejected[~both_pass].mean())},
            "ideal": ideal.tolist(), "edc": {k: v.tolist() for k, v in curves.items()}, "mean_fnmr_0_20": area}
        rows = [[name, *[f"{100 * curves[name][i]:.2f}%" for i in idx], f"{100 * area[name]:.2f}%"]
                for name in sorted(curves, key=area.get)]
        rows.append(["ideal (the errors first)", *[f"{100 * ideal[i]:.2f}%" for i in idx],
                     f"{100 * np.trapezoid(ideal[span], FRACTIONS[span]) / 0.2:.2f}%"])
        table += (f"\n\n**{label}**: FNMR {100 * fnmr:.2f}% at FMR {args.fmr:g} (threshold {threshold:.4f}) over "
                  f"{len(pairs):,} genuine and {n_impostor:,} impostor pairs of {int(ok.sum()):,} LFW images; "
                  "random discarding keeps it there. Both faces pass every default check in "
                  f"{100 * both_pass.mean():.1f}% of genuine pairs: FNMR {100 * rejected[both_pass].mean():.2f}% there, "
                  f"{100 * rejected[~both_pass].mean():.2f}% in the others.\n\n")
        table += markdown_table(["pair quality = lower of the two faces'",
                                 *[f"FNMR, {int(100 * f)}% discarded" for f in REPORTED], "mean FNMR, 0-20% discarded"], rows)
        if label == "dlib-resnet":
            plot({k: curves[k] for k in ("quality score", "embedding spread, 2 views", "embedding spread, 8 views",
                                         "detector score", "pitch", "occlusion", "sharpness")},
                 ideal, fnmr, ROOT / "docs" / "quality_edc.png", args.fmr)
    table = (f"{100 * result['images_passing_default_checks']:.1f}% of the {int(ok.sum()):,} images pass every default "
             "quality check." + table)
    spread_rows = []
    for n_views, label in ((2, "dlib-resnet+flip"), (8, "dlib-resnet+jitter8")):
        pct = np.percentile(-measures[f"embedding spread, {n_views} views"][keep], [50, 90, 95, 99])
        result[f"spread_percentiles_{label}"] = dict(zip(("p50", "p90", "p95", "p99"), pct.round(4).tolist()))
        spread_rows.append([label, *[f"{v:.4f}" for v in pct]])
    table += "\n\nEmbeddings.spread on LFW's faces\n\n" + markdown_table(
        ["embedding", "median", "90th percentile", "95th", "99th"], spread_rows)
    write_outputs("quality_edc", result, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
