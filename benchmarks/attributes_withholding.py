"""Gender with withholding: accuracy on the answered faces against coverage, per group.

    nice -n 10 python benchmarks/attributes_withholding.py [--utk 4000] [--seed 0] [--at 0.8]

``dlib-gender`` (balanced, mien's default) answers "unknown" where its probability is under
a minimum (``mien analyze --min-probability gender=P``). For each minimum this prints the
share of faces answered (coverage) and the accuracy on them:

* TRAIN: the 14,939 UTKFace images outside the test subset, from the feature cache of
  ``benchmarks/attributes_heads.py`` (the same 32 px chip at padding 0.2 that dlib-gender
  gets in the pipeline). The operating point ``--at`` is read off this curve.
* TEST: the fixed 4,000-image subset of ``benchmarks/attributes.py`` (cached predictions of
  the whole pipeline), with coverage and accuracy by race, gender and age band.

It writes docs/benchmarks/attributes_withholding.{json,md}, the curve
docs/gender_withholding.png and the fairness report at ``--at``
(docs/fairness/gender_withheld-<at>.*: accuracy over the answered faces and coverage per group).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attributes import AGE_BANDS, utkface  # noqa: E402
from common import REPO, header, markdown_table, write_outputs  # noqa: E402

MINIMA = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def train_curve(n_test: int) -> dict[str, np.ndarray]:
    """Top probability and correctness of balanced dlib-gender on every TRAIN image (outside the
    seed-0 test subset of ``n_test``)."""
    from attributes_heads import features, labels, splits, with_labels

    from mien.attributes.dlib_gender import MALE_LOGIT_SHIFT, shift_male_log_odds

    rows = labels()
    train_idx, _ = splits(len(rows), n_test, 0)
    d = with_labels(features(rows, train_idx, "train"), rows)
    probs = shift_male_log_odds(d["gen_p"][:, 0], MALE_LOGIT_SHIFT)
    return {"confidence": probs.max(1), "correct": (probs[:, 1] > 0.5) == d["male"]}


def at_minimum(confidence: np.ndarray, correct: np.ndarray, minimum: float) -> tuple[float, float]:
    answered = confidence >= minimum
    return float(answered.mean()), float(correct[answered].mean()) if answered.any() else float("nan")


def ratio_of_misses(values: dict[str, float]) -> float:
    """Worst over best of 1 - value (error rates, or shares withheld)."""
    misses = [1 - v for v in values.values()]
    if max(misses) == 0:
        return 1.0
    return float("inf") if min(misses) == 0 and max(misses) > 0 else max(misses) / max(min(misses), 1e-12)


def by_group(preds: list[dict], confidence: np.ndarray, correct: np.ndarray, minimum: float, column: str) -> dict:
    values = np.array([r[column] for r in preds])
    cov, acc = {}, {}
    for g in sorted(set(values)):
        m = values == g
        cov[g], acc[g] = at_minimum(confidence[m], correct[m], minimum)
    return {"coverage": cov, "accuracy": acc, "coverage_ratio": ratio_of_misses(cov), "accuracy_ratio": ratio_of_misses(acc)}


def plot(train: dict, test: dict, groups: dict, at: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    grid = np.linspace(0.5, 0.995, 60)
    for name, d, style in (("TRAIN (14,939)", train, "-"), ("TEST (4,000)", test, "--")):
        pts = np.array([at_minimum(d["confidence"], d["correct"], m) for m in grid])
        left.plot(100 * pts[:, 0], 100 * pts[:, 1], style, label=name)
        c, a = at_minimum(d["confidence"], d["correct"], at)
        left.plot(100 * c, 100 * a, "o", color=left.lines[-1].get_color())
    left.axhline(93, color="grey", linewidth=0.8, linestyle=":")
    left.annotate(f"minimum {at}", (100 * c, 100 * a), textcoords="offset points", xytext=(8, -14), fontsize=8)
    left.set_xlabel("coverage: faces answered (%)")
    left.set_ylabel("accuracy on the answered faces (%)")
    left.set_title("dlib-gender (balanced) on UTKFace", fontsize=10)
    left.invert_xaxis()
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    for group, (cov, style) in groups.items():
        right.plot(MINIMA, [100 * c for c in cov], style, marker=".", label=group)
    right.axvline(at, color="grey", linewidth=0.8, linestyle=":")
    right.set_xlabel("minimum probability")
    right.set_ylabel("coverage (%)")
    right.set_title("who is answered, by race (solid) and age (dashed), TEST", fontsize=10)
    right.legend(fontsize=7, ncol=2)
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def fairness_report(preds: list[dict], confidence: np.ndarray, at: float, meta: dict) -> dict:
    from mien.attributes import ABSTAIN
    from mien.audit import add_bands, audit_attribute, write_report

    rows = [{**r, "pred_gender": r["pred_gender"] if c >= at else ABSTAIN} for r, c in zip(preds, confidence)]
    rows = add_bands(rows, "age", AGE_BANDS)
    intro = (f"mien's default gender model (dlib-gender, balanced; CenterFace boxes) on {len(rows)} UTKFace images "
             f"(fixed random subset, seed 0), answering only where its probability is at least {at} "
             f"(`mien analyze --min-probability gender={at}`). Accuracy is over the answered faces; coverage is the "
             "share answered. Groups are UTKFace's own labels; mien does not predict race. "
             f"Machine: {meta['machine']['cpu']} ({meta['machine']['cores']} cores), commit {meta['commit']}, "
             f"{meta['date']}.")
    summary = {}
    for name, mix in ((f"gender_withheld-{at}", None), (f"gender_withheld-{at}_age-standardised", "age_band")):
        columns = ["race", "gender"] if mix else ["race", "gender", "age_band"]
        report = audit_attribute(rows, "gender", "pred_gender", columns, "accuracy", standardize=mix,
                                 title=f"Fairness audit: gender on UTKFace, withheld under {at}"
                                       + (", standardised by age band" if mix else ""))
        write_report(report, REPO / "docs" / "fairness", intro=intro, name=name)
        summary[name] = {f"{a.metric} by {a.column}": {"worst": a.worst.group, "best": a.best.group,
                                                        "ratio": round(a.ratio, 3)} for a in report.audits}
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utk", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0, help="test subset seed (TRAIN is disjoint from it only for 0)")
    ap.add_argument("--at", type=float, default=0.8, help="the operating point reported by group (chosen on TRAIN)")
    args = ap.parse_args()
    meta = header()
    train = train_curve(args.utk)
    _, preds = utkface(args.utk, args.seed)
    test = {"confidence": np.array([float(r["prob_gender"]) for r in preds]),
            "correct": np.array([r["gender"] == r["pred_gender"] for r in preds])}
    age = np.array([float(r["age"]) for r in preds])
    banded = [{**r, "age band": "under 13" if a < 13 else ("13-59" if a < 60 else "60+")} for r, a in zip(preds, age)]
    result: dict = {"meta": meta, "train_images": len(train["correct"]), "test_images": len(preds), "minima": {}}
    rows = []
    for m in MINIMA:
        tr_cov, tr_acc = at_minimum(train["confidence"], train["correct"], m)
        te_cov, te_acc = at_minimum(test["confidence"], test["correct"], m)
        kids = age < 13
        k_cov, k_acc = at_minimum(test["confidence"][kids], test["correct"][kids], m)
        race = by_group(preds, test["confidence"], test["correct"], m, "race")
        gender = by_group(preds, test["confidence"], test["correct"], m, "gender")
        result["minima"][str(m)] = {"train": {"coverage": tr_cov, "accuracy": tr_acc},
                                    "test": {"coverage": te_cov, "accuracy": te_acc},
                                    "test_under_13": {"coverage": k_cov, "accuracy": k_acc},
                                    "test_by_race": race, "test_by_gender": gender}
        rows.append([m, f"{100 * tr_cov:.1f}% / {100 * tr_acc:.2f}%", f"{100 * te_cov:.1f}% / {100 * te_acc:.2f}%",
                     f"{100 * k_cov:.0f}% / {100 * k_acc:.1f}%",
                     f"{race['accuracy_ratio']:.2f}x / {race['coverage_ratio']:.2f}x",
                     f"{gender['accuracy_ratio']:.2f}x / {gender['coverage_ratio']:.2f}x"])
    curves = {}
    for column, data in (("race", preds), ("age band", banded)):
        for g in sorted({r[column] for r in data}):
            m = np.array([r[column] == g for r in data])
            curves[g] = ([at_minimum(test["confidence"][m], test["correct"][m], t)[0] for t in MINIMA],
                         "-" if column == "race" else "--")
    plot(train, test, curves, args.at, REPO / "docs" / "gender_withholding.png")
    result["fairness_at"] = {"minimum": args.at, "reports": fairness_report(preds, test["confidence"], args.at, meta)}
    table = markdown_table(["minimum probability", "TRAIN coverage / accuracy", "TEST coverage / accuracy",
                            "TEST under 13: coverage / accuracy", "by race: error ratio / withheld ratio",
                            "by gender: error ratio / withheld ratio"], rows)
    write_outputs("attributes_withholding", result, table)


if __name__ == "__main__":
    main()
