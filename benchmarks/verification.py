"""LFW verification through mien's whole pipeline: detect, align, embed, compare.

    python benchmarks/verification.py [--data ../shared/data/lfw] [--embedders "dlib-resnet:tta=jitter,jitters=8;mobileface"]
                                      [--detector centerface] [--detect-scale 1] [--refine 0.5]
                                      [--fuse a;b] [--write-thresholds] [--plot docs/roc_lfw.png]
                                      [--asnorm 200] [--foreign-cohort FILE.npz]

Every image of the View 2 protocol goes through ``mien.detect`` (with the no-face
fallback and the landmark refinement of ``mien.match.faces``), the embedder's own
alignment and the embedder; nothing uses the known crop. When an image has several
faces the largest is used. Every TTA view's vector is cached under ``--cache`` (default
/tmp/mien_lfw_cache), one file per detection and embedder configuration, so metrics and
thresholds can be recomputed without re-running the networks.

Reported per embedder (plain, flip TTA, and with ``tta=jitter`` each power-of-two count
of jitter views up to ``jitters``, and fused for the embedders named in --fuse):
standard 10-fold accuracy (threshold chosen on 9 folds, tested on the 10th) +- std,
TAR at FAR 1e-3 and EER on the 6,000 pairs, and the number of images where no face was
found. ``--asnorm K`` adds each variant with cohort score normalisation (``mien.match.cohort``,
top K): the 10-fold protocol with, for each test fold, a cohort of every image of the
other folds' people (View 2's folds share no one), and TAR at FMR 1e-3 / 1e-4 / 1e-5 over
all pairs with the people split in two random halves, each half's pairs normalised by the
other half's images (raw scores on the same pairs beside them). ``--foreign-cohort`` adds a
cohort from elsewhere (an .npz with ``vectors`` or ``templates``, e.g. the UTKFace templates
of ``gan128-guard``), used on every pair. ``--write-thresholds`` writes the operating points (FMR 1e-2, 1e-3, 1e-4 over
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

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import data_root, header  # noqa: E402
from mien.detect import get_detector  # noqa: E402
from mien.embed import get_embedder, paired_distances  # noqa: E402
from mien.embed.tta import tta_suffix  # noqa: E402
from mien.image import load_image  # noqa: E402
from mien.match import calibration  # noqa: E402
from mien.match.cohort import Cohort, as_norm  # noqa: E402
from mien.match.faces import REFINE_SCALE, detect_with_fallback  # noqa: E402
from mien.types import Faces  # noqa: E402


def read_pairs(data: Path) -> list[tuple[int, str, str, int]]:
    with open(data / "pairs.csv", newline="") as fh:
        return [(int(r["fold"]), r["path1"], r["path2"], int(r["same"])) for r in csv.DictReader(fh)]


def lfw_images(data: Path, pairs: list | None = None) -> tuple[list[str], np.ndarray]:
    """Every LFW image the benchmarks use, in one fixed order (those of identities.csv and both
    sides of pairs.csv: the caches are keyed by it), and each one's identity (its own path where
    identities.csv has none)."""
    pairs = read_pairs(data) if pairs is None else pairs
    with open(data / "identities.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    id_key = next(k for k in rows[0] if k != "path")
    identity = {r["path"]: r[id_key] for r in rows}
    paths = sorted(set(identity) | {p for _, a, b, _ in pairs for p in (a, b)})
    return paths, np.array([identity.get(p, p) for p in paths])


def detector_label(detector_name: str, scale: float, refine: float | None) -> str:
    """Cache key of a detection configuration: "centerface", "centerface@0.5x+lm0.5"."""
    return (detector_name + ("" if scale == 1 else f"@{scale:g}x")
            + (f"+lm{refine:g}" if refine else ""))


def detect_all(data: Path, paths: list[str], detector_name: str, cache: Path, scale: float = 1.0,
               refine: float | None = REFINE_SCALE) -> dict:
    """The face used for each image (largest of those found, with the fallback), cached.

    With ``scale`` != 1 the detector sees the image resized by that factor and its boxes
    and landmarks are mapped back: 0.5 is what a detector input cap at half a photo's
    size does to faces of LFW's size (the crop is still cut from the full image).
    ``refine``: the landmark averaging of ``mien.match.faces.refine_landmarks`` (None: off).
    """
    file = cache / f"{detector_label(detector_name, scale, refine)}_faces.npz"
    if file.is_file():
        z = np.load(file, allow_pickle=False)
        return {k: z[k] for k in z.files}
    detector = get_detector(detector_name)
    out = {"boxes": np.zeros((len(paths), 4), np.float32), "scores": np.zeros(len(paths), np.float32),
           "landmarks": np.zeros((len(paths), 5, 2), np.float32), "found": np.zeros(len(paths), np.int32)}
    how = []
    start = time.perf_counter()
    for i, rel in enumerate(paths):
        image = load_image(data / rel)
        if scale != 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        faces, pass_name = detect_with_fallback(image, detector, refine)
        faces = faces.scaled(1 / scale) if scale != 1 else faces
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


def embed_all(data: Path, paths: list[str], embedders: list[str], detector_name: str, cache: Path,
              scale: float = 1.0, refine: float | None = REFINE_SCALE) -> dict:
    """Every TTA view's vector (N, V, D) for every image and embedder, cached in one .npz per config.

    V is 2 (the crop and its mirror) unless the spec asks for ``tta=jitter``: then the
    ``jitters`` views of ``mien.embed.tta``, whose first k are what ``jitters=k`` gives.
    """
    cache.mkdir(parents=True, exist_ok=True)
    out = {}
    todo = []
    for name in embedders:
        file = cache / f"{detector_label(detector_name, scale, refine)}_{name}.npz"
        if file.is_file():
            z = np.load(file, allow_pickle=False)
            entry = {k: z[k] for k in z.files}
            if "views" not in entry:  # caches written before the views layout
                entry["views"] = np.stack([entry.pop("vectors"), entry.pop("mirrored")], axis=1)
            out[name] = entry
        else:
            todo.append(name)
    if not todo:
        return out
    found = detect_all(data, paths, detector_name, cache, scale, refine)
    start = time.perf_counter()
    for n in todo:
        base, options = _parse_spec(n)
        options.setdefault("tta", "flip")
        model = get_embedder(base, **options)
        w, h = model.info.input_size
        crops = np.zeros((len(paths), h, w, 3), np.uint8)  # no face: a blank crop, scored as a non-match
        for i, rel in enumerate(paths):
            if found["found"][i]:
                face = Faces(found["boxes"][i : i + 1], found["scores"][i : i + 1], found["landmarks"][i : i + 1])
                crops[i] = model.align(load_image(data / rel), face).crops[0]
        out[n] = {"views": model.embed_views(crops), "found": found["found"], "how": found["how"]}
        np.savez(cache / f"{detector_label(detector_name, scale, refine)}_{n}.npz", **out[n])
        print(f"  embedded {len(paths)} images with {n}, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return out


def _parse_spec(spec: str) -> tuple[str, dict]:
    """"dlib-resnet:aligner=shape5,tta=jitter,jitters=16" -> ("dlib-resnet", {"aligner": "shape5", ...})."""
    name, _, opts = spec.partition(":")
    options: dict = dict(o.split("=", 1) for o in opts.split(",") if o) if opts else {}
    if "jitters" in options:
        options["jitters"] = int(options["jitters"])
    return name, options


def tta_variants(spec: str, views: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(label, vectors) for each TTA level the cached views allow: what ``Embedder(tta=...)`` returns.

    Views 0 and 1 are the crop and its mirror; jitter views follow, and the first k of
    them are exactly ``jitters=k``'s, so one cache gives the whole accuracy-vs-views curve.
    """
    name, _, opts = spec.partition(":")
    kept = ",".join(o for o in opts.split(",") if o and not o.startswith(("tta=", "jitters=")))
    label = name + (f":{kept}" if kept else "")
    out = [(label, views[:, 0]), (label + tta_suffix("flip", 2), views[:, :2].mean(axis=1))]
    counts = [k for k in (4, 8, 16, 32, 64, 100) if k < views.shape[1]] + ([views.shape[1]] if views.shape[1] > 2 else [])
    out += [(label + tta_suffix("jitter", k), views[:, :k].mean(axis=1)) for k in counts]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=data_root() / "lfw")
    ap.add_argument("--embedders", default="dlib-resnet", help="';'-separated, options after ':' e.g. dlib-resnet:aligner=landmarks")
    ap.add_argument("--detector", default="centerface")
    ap.add_argument("--detect-scale", type=float, default=1.0,
                    help="resize each image by this before detection (0.5: a detector input cap at half size)")
    ap.add_argument("--refine", type=float, default=REFINE_SCALE,
                    help="landmarks averaged with a detection at this fraction of the size (0: off)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/mien_lfw_cache"))
    ap.add_argument("--fuse", default="", help="';'-separated embedders (of --embedders) to fuse, e.g. dlib-resnet;faceres")
    ap.add_argument("--write-thresholds", action="store_true")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs" / "roc_lfw.png")
    ap.add_argument("--json", type=Path, help="also write the results JSON here")
    ap.add_argument("--asnorm", type=int, default=0, help="also score with cohort normalisation, top K (0: off)")
    ap.add_argument("--foreign-cohort", type=Path, help="with --asnorm: also a cohort from this .npz (vectors or templates)")
    ap.add_argument("--asnorm-plot", type=Path, default=ROOT / "docs" / "roc_lfw_asnorm.png",
                    help="with --asnorm: TAR against FMR over all pairs, raw and normalised")
    args = ap.parse_args(argv)

    from mien.embed import embedder_class

    pairs = read_pairs(args.data)
    paths, ids = lfw_images(args.data, pairs)
    index = {p: i for i, p in enumerate(paths)}
    names = [n.strip() for n in args.embedders.split(";") if n.strip()]
    refine = args.refine or None
    cached = embed_all(args.data, paths, names, args.detector, args.cache, args.detect_scale, refine)

    folds = np.array([f for f, *_ in pairs])
    same = np.array([s for *_, s in pairs], bool)
    ia = np.array([index[a] for _, a, _, _ in pairs])
    ib = np.array([index[b] for _, _, b, _ in pairs])

    results = {**header(), "detector": detector_label(args.detector, args.detect_scale, refine), "pairs": len(pairs), "images": len(paths), "rows": []}
    curves = {}
    asnorm_curves: dict = {}
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
        for label, vectors in tta_variants(name, entry["views"]):
            dist = paired_distances(vectors[ia], vectors[ib], info.metric)
            dist[missing[ia] | missing[ib]] = np.inf  # a missing face never matches
            scores_for_fusion[label] = dist
            row = {"embedder": label, **calibration.lfw_protocol(dist, same, folds)}
            results["rows"].append(row)
            curves[label] = calibration.roc(dist, same)
            if args.write_thresholds:
                thresholds_out[label] = calibration.fit_all_pairs(vectors[~missing], ids[~missing], info.metric, label)
            if args.asnorm:
                rows, label_curves = asnorm_rows(label, vectors, ~missing, ids, info.metric, args.asnorm,
                                                 (ia, ib, same, folds), args.foreign_cohort)
                results.setdefault("asnorm", []).extend(rows)
                asnorm_curves.update(label_curves)
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
    if results.get("asnorm"):
        print()
        print(asnorm_markdown(results["asnorm"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if args.plot:
        plot_roc(curves, args.plot)
    if asnorm_curves and args.asnorm_plot:
        plot_asnorm(asnorm_curves, args.asnorm_plot, args.asnorm)
    if args.write_thresholds:
        target = ROOT / "mien" / "match" / "thresholds.json"
        current = json.loads(target.read_text()) if target.is_file() else {}
        current.update(thresholds_out)
        target.write_text(json.dumps(current, indent=1) + "\n")
        print(f"wrote {target}", file=sys.stderr)
    return 0


def asnorm_rows(label: str, vectors: np.ndarray, ok: np.ndarray, ids: np.ndarray, metric: str, top_k: int,
                pairs: tuple, foreign: Path | None) -> tuple[list[dict], dict]:
    """Rows for one embedding variant normalised by disjoint cohorts (module docstring), and the
    all-pairs curves (raw and normalised, LFW cohort) for the plot."""
    ia, ib, same, folds = pairs
    person_fold = {ids[i]: f for i, f in zip(np.r_[ia, ib], np.r_[folds, folds])}
    image_fold = np.array([person_fold.get(p, -1) for p in ids])
    norm = np.full(len(ia), np.inf)  # a missing face never matches
    for f in np.unique(folds):
        cohort = Cohort(label, metric, vectors[ok & (image_fold != f)], top_k, "LFW, other folds")
        test = (folds == f) & ok[ia] & ok[ib]
        norm[test] = cohort.normalized_distances(vectors[ia[test]], vectors[ib[test]])
    halves, (raw_scores, norm_scores) = _halves_tar(vectors[ok], ids[ok], metric, top_k)
    rows = [{"embedder": f"{label}+asnorm{top_k}", "cohort": "LFW, other folds' people", **calibration.lfw_protocol(norm, same, folds),
             **halves}]
    curves = {label: _curve(*raw_scores), f"{label}+asnorm{top_k}": _curve(*norm_scores)}
    if foreign is not None:
        with np.load(foreign) as z:
            cohort = Cohort(label, metric, z["vectors" if "vectors" in z.files else "templates"].astype(np.float32), top_k, foreign.name)
        norm = np.full(len(ia), np.inf)
        both = ok[ia] & ok[ib]
        norm[both] = cohort.normalized_distances(vectors[ia[both]], vectors[ib[both]])
        rows.append({"embedder": f"{label}+asnorm{top_k}", "cohort": foreign.name, **calibration.lfw_protocol(norm, same, folds),
                     **_all_pairs_tar(vectors[ok], ids[ok], metric, cohort)[0]})
    for row in rows:
        print(f"  {row['embedder']} ({row['cohort']}): {100 * row['accuracy']:.2f}% "
              f"TAR@1e-4 {100 * row['all_pairs_tar_1e-4']:.1f}% (raw {100 * row['all_pairs_raw_tar_1e-4']:.1f}%)", file=sys.stderr)
    return rows, curves


def _curve(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(far, tar, threshold) on a log grid of FMRs down to one impostor pair."""
    impostor, genuine = np.sort(impostor), np.sort(genuine)
    far = np.logspace(np.log10(1 / len(impostor)), 0, 80)
    thr = impostor[np.clip((far * len(impostor)).astype(int), 1, len(impostor)) - 1]
    return far, np.searchsorted(genuine, thr, side="right") / len(genuine), thr


ALL_PAIRS_FMRS = (1e-3, 1e-4, 1e-5)


def _tars(genuine: np.ndarray, impostor: np.ndarray, prefix: str) -> dict[str, float]:
    impostor = np.sort(impostor)
    out = {}
    for fmr in ALL_PAIRS_FMRS:
        k = int(fmr * len(impostor))
        out[f"{prefix}tar_{fmr:.0e}".replace("e-0", "e-")] = float((genuine < impostor[k]).mean()) if k else float("nan")
    return out


def _pair_scores(vectors: np.ndarray, ids: np.ndarray, metric: str, stats_of) -> tuple:
    """Genuine and impostor scores, raw and normalised, over all pairs of ``vectors``."""
    from mien.embed.base import pairwise_distances

    raw = pairwise_distances(vectors, vectors, metric)
    mu, sd = stats_of(vectors)
    norm = as_norm(raw, (mu[:, None], sd[:, None]), (mu[None], sd[None]))
    upper = np.triu_indices(len(vectors), 1)
    genuine = (ids[:, None] == ids[None])[upper]
    return [(m[upper][genuine], m[upper][~genuine].astype(np.float32)) for m in (raw, norm)]


def people_halves(ids: np.ndarray) -> np.ndarray:
    """0 or 1 per image: LFW's people split in two random halves (fixed seed), so that one half's
    pairs can be normalised by a cohort of the other half's images."""
    people = np.unique(ids)
    half_of = dict(zip(people, np.random.default_rng(1).integers(0, 2, len(people))))
    return np.array([half_of[p] for p in ids])


def _halves_tar(vectors: np.ndarray, ids: np.ndarray, metric: str, top_k: int) -> tuple[dict[str, float], tuple]:
    """All-pairs TAR with the people split in two halves, each normalised by the other's images,
    and the (genuine, impostor) scores, raw and normalised."""
    half = people_halves(ids)
    parts = []
    for h in (0, 1):
        cohort = Cohort("", metric, vectors[half != h], top_k)
        parts.append(_pair_scores(vectors[half == h], ids[half == h], metric, cohort.impostor_stats))
    raw, norm = [tuple(np.concatenate([p[k][j] for p in parts]) for j in (0, 1)) for k in (0, 1)]
    return _both_tars(raw, norm), (raw, norm)


def _all_pairs_tar(vectors: np.ndarray, ids: np.ndarray, metric: str, cohort: Cohort) -> tuple[dict[str, float], tuple]:
    raw, norm = _pair_scores(vectors, ids, metric, cohort.impostor_stats)
    return _both_tars(raw, norm), (raw, norm)


def _both_tars(raw: tuple, norm: tuple) -> dict[str, float]:
    return {**_tars(*raw, "all_pairs_raw_"), **_tars(*norm, "all_pairs_"), "all_pairs_impostors": len(raw[1])}


def asnorm_markdown(rows: list[dict]) -> str:
    lines = ["| embedder | cohort | 10-fold accuracy | EER | TAR @ FMR 1e-3 / 1e-4 / 1e-5, all pairs | same pairs, raw scores |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        tar = " / ".join(f"{100 * r[f'all_pairs_tar_1e-{k}']:.1f}%" for k in (3, 4, 5))
        raw = " / ".join(f"{100 * r[f'all_pairs_raw_tar_1e-{k}']:.1f}%" for k in (3, 4, 5))
        lines.append(f"| {r['embedder']} | {r['cohort']} | {100 * r['accuracy']:.2f}% +- {100 * r['accuracy_std']:.2f} | "
                     f"{100 * r['eer']:.2f}% | {tar} | {raw} |")
    return "\n".join(lines)


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
    _finish(fig, ax, path, "false accept rate (LFW View 2 pairs)", "mien on LFW: detect, align, embed, compare")


def plot_asnorm(curves: dict, path: Path, top_k: int) -> None:
    """TAR against FMR over all pairs: each TTA level raw (dashed) and normalised (solid), one colour each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5), dpi=120)
    raw_labels = [k for k in curves if "+asnorm" not in k]
    for colour, label in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], raw_labels):
        for key, style in ((label, "--"), (f"{label}+asnorm{top_k}", "-")):
            far, tar, _ = curves[key]
            ax.plot(far, tar, style, color=colour, label=key)
    ax.set_xscale("log")
    ax.set_xlim(1e-7, 1)
    ax.set_ylim(0.3, 1.0)
    _finish(fig, ax, path, "false match rate (every LFW pair, people split in halves)",
            f"cohort normalisation (AS-norm, top {top_k}): dashed raw, solid normalised", title_size=10, legend_size=7)


def _finish(fig, ax, path: Path, xlabel: str, title: str, title_size: float | None = None, legend_size: float = 8) -> None:
    """Labels, grid and legend of a TAR-against-FAR plot, then write it."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel("true accept rate")
    ax.set_title(title, **({} if title_size is None else {"fontsize": title_size}))  # None: matplotlib's title size
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=legend_size)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
