"""Who falsely matches and who is falsely rejected: FMR and FNMR on LFW by estimated gender and age.

    nice python benchmarks/verification_fairness.py [--data ../shared/data/lfw] [--fmr 1e-3] [--out docs/fairness]

LFW has no demographic labels, so each of the 7,701 images gets mien's own estimates
(``dlib-gender`` balanced, ``dlib-age``; the face the verification benchmark found), which
is what ``mien audit --estimate`` does; the report says so. Every pair of images is scored
(the verification benchmark's cached dlib-resnet vectors), with LFW's people split in two
random halves as in its ``--asnorm`` measurement: pairs within a half, each half's scores
normalised by the other half's images for the cohort variants (all of them, or a cohort
balanced by estimated gender). One global threshold per
variant, the one that gives ``--fmr`` over all those impostor pairs (as a deployment would
set it), then per group: FMR over impostor pairs whose two images fall in that group,
FNMR over genuine pairs whose two images do (Wilson 95% intervals). Writes
``verification_lfw.md`` / ``.html`` / ``.json`` and charts under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import data_root, header  # noqa: E402
from benchmarks.verification import detect_all, embed_all, lfw_images, people_halves  # noqa: E402
from mien.audit import MetricAudit, write_report  # noqa: E402
from mien.audit.core import AuditReport, GroupResult, band_label, verification_rates, with_ratio_ci  # noqa: E402
from mien.audit.stats import mean_draws  # noqa: E402
from mien.embed.base import pairwise_distances  # noqa: E402
from mien.match.cohort import DEFAULT_TOP_K, Cohort, as_norm, balanced_subset  # noqa: E402
from mien.match.faces import REFINE_SCALE  # noqa: E402
from mien.models.store import mien_home  # noqa: E402

EMBEDDER = "dlib-resnet:tta=jitter,jitters=8"  # view 0 of this cache is the plain embedding
AGE_EDGES = [0, 30, 45, 60]


def estimates(data: Path, paths: list[str], found: dict) -> dict[str, np.ndarray]:
    """mien's gender and age estimate for the face of each image, cached under $MIEN_HOME/bench."""
    cache = mien_home() / "bench" / f"lfw_estimates_{len(paths)}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    from mien.attributes import get_attribute_model
    from mien.image import load_image
    from mien.types import Faces

    gender, age = get_attribute_model("gender"), get_attribute_model("age")
    out = {"gender": np.full(len(paths), "", "<U6"), "age": np.full(len(paths), np.nan)}
    for i, rel in enumerate(paths):
        if not found["found"][i]:
            continue
        face = Faces(found["boxes"][i : i + 1], found["scores"][i : i + 1], found["landmarks"][i : i + 1])
        image = load_image(data / rel)
        out["gender"][i] = gender.predict(image, face)[0].value
        out["age"][i] = age.predict(image, face)[0].value
        if (i + 1) % 1000 == 0:
            print(f"  estimated {i + 1}/{len(paths)}", file=sys.stderr)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **out)
    return out


def scored_pairs(vectors: np.ndarray, ids: np.ndarray, genders: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """Within-half pairs: image indices, genuine flag, raw and AS-norm distances (cohort: all of the
    other half's images, or as many of them estimated female as male, ``balanced_subset``)."""
    half = people_halves(ids)
    parts = []
    for h in (0, 1):
        members = np.flatnonzero(half == h)
        v = vectors[members]
        raw = pairwise_distances(v, v, "euclidean")
        others = np.flatnonzero(half != h)
        i, j = np.triu_indices(len(v), 1)
        part = {"a": members[i], "b": members[j], "genuine": ids[members[i]] == ids[members[j]],
                "raw": raw[i, j].astype(np.float32)}
        for name, cohort in (("asnorm", others), ("asnorm_balanced", others[balanced_subset(genders[others])])):
            mu, sd = Cohort("", "euclidean", vectors[cohort], DEFAULT_TOP_K).impostor_stats(v)
            part[name] = as_norm(raw, (mu[:, None], sd[:, None]), (mu[None], sd[None]))[i, j].astype(np.float32)
        parts.append(part)
        del raw
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def rates(column: str, group: str, accept: np.ndarray, genuine: np.ndarray, keep: np.ndarray) -> tuple[GroupResult, GroupResult]:
    return verification_rates(column, group, accept[keep], genuine[keep])


def audit(pairs: dict, scores: np.ndarray, threshold: float, groups: dict[str, np.ndarray], title: str) -> AuditReport:
    accept = scores <= threshold
    everything = np.ones(len(scores), bool)
    audits, notes = [], []
    for column, per_image in groups.items():
        ga, gb = per_image[pairs["a"]], per_image[pairs["b"]]
        fmrs, fnmrs, fmr_draws, fnmr_draws = [], [], [], []
        rng = np.random.default_rng(0)
        for g in sorted(set(per_image) - {""}):
            keep = (ga == g) & (gb == g)
            fmr, fnmr = rates(column, g, accept, pairs["genuine"], keep)
            fmrs.append(fmr)
            fnmrs.append(fnmr)
            fmr_draws.append(mean_draws(accept[keep & ~pairs["genuine"]], rng))
            fnmr_draws.append(mean_draws(~accept[keep & pairs["genuine"]], rng))
        cross_fmr, cross_fnmr = rates(column, "different", accept, pairs["genuine"], ga != gb)
        notes.append(f"{column}: impostor pairs whose two images fall in different groups: FMR {cross_fmr.value:.2e} "
                     f"({cross_fmr.n} pairs); genuine pairs estimated in different groups: {cross_fnmr.n}")
        all_fmr, all_fnmr = rates(column, "all", accept, pairs["genuine"], everything)
        audits += [with_ratio_ci(MetricAudit("fmr", column, all_fmr, tuple(fmrs)), fmr_draws),
                   with_ratio_ci(MetricAudit("fnmr", column, all_fnmr, tuple(fnmrs)), fnmr_draws)]
    return AuditReport(title, "verification", tuple(audits), tuple(notes))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=data_root() / "lfw")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/mien_lfw_cache"))
    ap.add_argument("--fmr", type=float, default=1e-3)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "fairness")
    args = ap.parse_args(argv)

    paths, ids = lfw_images(args.data)
    cached = embed_all(args.data, paths, [EMBEDDER], "centerface", args.cache, 1.0, REFINE_SCALE)[EMBEDDER]
    est = estimates(args.data, paths, detect_all(args.data, paths, "centerface", args.cache))
    ok = cached["found"] > 0
    vectors = cached["views"][:, 0]
    groups = {"est_gender": est["gender"],
              "est_age_band": np.array([band_label(a, AGE_EDGES) if np.isfinite(a) else "" for a in est["age"]])}
    known = (groups["est_gender"] != "") & (groups["est_age_band"] != "")
    groups["est_gender+est_age_band"] = np.where(known, np.char.add(np.char.add(groups["est_gender"], "/"),
                                                                    groups["est_age_band"]), "")
    pairs = scored_pairs(vectors[ok], ids[ok], est["gender"][ok])
    pairs["a"], pairs["b"] = np.flatnonzero(ok)[pairs["a"]], np.flatnonzero(ok)[pairs["b"]]
    meta = header()
    summary = {**meta, "images": int(ok.sum()), "fmr": args.fmr, "variants": {}}
    lines = []
    variants = (("raw", "dlib-resnet", ""), ("asnorm", f"dlib-resnet+asnorm{DEFAULT_TOP_K}", "all of the other half's images"),
                ("asnorm_balanced", f"dlib-resnet+asnorm{DEFAULT_TOP_K}, gender-balanced cohort",
                 "as many of the other half's images estimated female as male (mien cohort --balance-gender)"))
    for variant, label, cohort_text in variants:
        scores = pairs[variant]
        impostor = np.sort(scores[~pairs["genuine"]])
        threshold = float(impostor[int(args.fmr * len(impostor)) - 1])
        title = f"Fairness audit: {label} verification on LFW at FMR {args.fmr:g}, by estimated gender and age"
        report = audit(pairs, scores, threshold, groups, title)
        report = AuditReport(report.title, report.kind, report.audits, report.notes,
                             {"pairs": len(scores), "threshold": round(threshold, 4), "images": int(ok.sum())})
        intro = (f"Every pair within each half of LFW's people ({len(scores):,} pairs, {int(pairs['genuine'].sum()):,} "
                 f"genuine) through mien's pipeline (CenterFace, refined landmarks, {label}"
                 + (f", normalised by a cohort of {cohort_text}" if cohort_text else "")
                 + f"), one global threshold at FMR {args.fmr:g}. Groups are mien's own estimates, not labels: "
                 "dlib-gender (balanced) and dlib-age on the same face; estimation errors move pairs between groups, "
                 f"and LFW has few children or elderly people. Machine: {meta['machine']['cpu']}, commit {meta['commit']}, "
                 f"{meta['date']}.")
        name = "verification_lfw" + ("" if variant == "raw" else "_" + variant)
        write_report(report, args.out, intro=intro, name=name)
        summary["variants"][label] = {"threshold": threshold, **{f"{a.metric}_{a.column}": {
            "ratio": round(a.ratio, 3), "worst": a.worst.group, "best": a.best.group,
            "values": {g.group: g.value for g in a.groups}} for a in report.audits}}
        lines += [f"| {label} | {a.metric.upper()} | {a.column} | {a.worst.group} ({a.worst.value:.2e}) | "
                  f"{a.best.group} ({a.best.value:.2e}) | {a.ratio:.2f}x |" for a in report.audits]
    print(json.dumps(summary, indent=1))
    print("\n| variant | rate | by | worst | best | worst / best |\n|---|---|---|---|---|---|\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
