"""Age intervals that cover what they say: split-conformal calibration of ``dlib-age`` on UTKFace.

    nice python benchmarks/age_intervals.py

``dlib-age`` gives a distribution over ages 0-80, but it is far too sure of itself: on
UTKFace its own central 80% interval holds the true age 45% of the time. mien instead
gives ``age +- q * (1 + a * age)``: the error grows with age, so the interval does too.

* TRAIN: the 14,939 UTKFace images outside the 4,000-image TEST subset of
  ``benchmarks/attributes.py``, predicted by the default pipeline (cached under
  $MIEN_HOME/bench/). The slope ``a`` is chosen on a fixed fifth of TRAIN held out from
  the rest (the candidate whose 80% interval's coverage is most even across age bands),
  then ``q`` for each level is the conformal quantile over all of TRAIN.
* TEST: coverage and width by age band, race and gender, against the network's own
  interval (from the padding-0.2 chip and its mirror, the feature cache of
  ``benchmarks/attributes_heads.py``).

Writes docs/benchmarks/age_intervals.{json,md} and docs/age_intervals.png; the fitted
numbers are ``mien.attributes.dlib_age.INTERVAL_SLOPE`` / ``INTERVAL_Q`` (a test checks
that they equal this file's).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attributes import utkface  # noqa: E402
from attributes_heads import labels, splits, with_labels  # noqa: E402
from common import REPO, data_root, header, markdown_table, write_outputs  # noqa: E402

from mien.models.store import mien_home  # noqa: E402

LEVELS = (0.5, 0.8, 0.9, 0.95)
SLOPES = (0.0, 0.05, 0.1, 0.2)  # candidate a in q * (1 + a * age)
BANDS = ((0, 13), (13, 20), (20, 30), (30, 45), (45, 60), (60, 80), (80, 200))


def band_names() -> list[str]:
    return [f"{lo}-{hi - 1}" if hi < 200 else f"{lo}+" for lo, hi in BANDS]


def train_predictions(n_test: int) -> tuple[np.ndarray, np.ndarray]:
    """(true age, predicted age) of every TRAIN image through the default pipeline, cached."""
    from mien.audit.run import predict_rows

    rows = labels()
    train_idx = np.sort(splits(len(rows), n_test, 0)[0])
    cache = mien_home() / "bench" / f"utkface_train_age_{len(train_idx)}.csv"
    if not cache.is_file():
        picked = [rows[i] for i in train_idx]
        done = []
        for start in range(0, len(picked), 500):
            done += predict_rows(picked[start:start + 500], ["age"], "path", data_root() / "utkface")
            print(f"  TRAIN ages {len(done)}/{len(picked)}", file=sys.stderr)
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(cache.with_suffix(".tmp"), "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(done[0]))
            writer.writeheader()
            writer.writerows(done)
        cache.with_suffix(".tmp").replace(cache)
    with open(cache, newline="") as fh:
        got = list(csv.DictReader(fh))
    return np.array([float(r["age"]) for r in got]), np.array([float(r["pred_age"]) for r in got])


def conformal_q(age: np.ndarray, pred: np.ndarray, slope: float, level: float) -> float:
    """The split-conformal quantile of |age - pred| / (1 + slope * pred) (finite-sample corrected)."""
    scores = np.sort(np.abs(age - pred) / (1 + slope * pred))
    k = min(len(scores) - 1, int(np.ceil((len(scores) + 1) * level)) - 1)
    return float(scores[k])


def covered(age: np.ndarray, pred: np.ndarray, slope: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    half = q * (1 + slope * pred)
    low = np.maximum(pred - half, 0)
    return (age >= low) & (age <= pred + half), pred + half - low


def by_band(age: np.ndarray, values: np.ndarray) -> list[float]:
    return [float(values[(age >= lo) & (age < hi)].mean()) for lo, hi in BANDS]


def choose_slope(age: np.ndarray, pred: np.ndarray) -> tuple[float, dict]:
    """The slope whose 80% interval, fitted on four fifths of TRAIN, covers the held-out fifth's
    age bands most evenly (largest distance from 80% smallest; ties: the narrower)."""
    order = np.random.default_rng(2).permutation(len(age))
    val, fit = order[: len(age) // 5], order[len(age) // 5:]
    table = {}
    for slope in SLOPES:
        q = conformal_q(age[fit], pred[fit], slope, 0.8)
        ok, width = covered(age[val], pred[val], slope, q)
        bands = by_band(age[val], ok.astype(float))
        table[slope] = {"coverage": float(ok.mean()), "width": float(width.mean()), "bands": bands,
                        "worst_gap": float(max(abs(b - 0.8) for b in bands))}
    best = min(SLOPES, key=lambda s: (round(table[s]["worst_gap"], 2), table[s]["width"]))
    return best, table


def network_interval_coverage(n_test: int) -> dict:
    """Coverage of the network's own central intervals (TEST, from the heads' feature cache)."""
    rows = labels()
    _, test_idx = splits(len(rows), n_test, 0)
    cache = mien_home() / "bench" / f"utk_heads_test_{n_test}.npz"
    if not cache.is_file():
        return {}
    d = with_labels(dict(np.load(cache)), rows)
    p = d["age_p"].astype(np.float64).mean(1)
    p /= p.sum(1, keepdims=True)
    c = np.cumsum(p, 1)
    y = np.minimum(d["age"], 80)
    out = {}
    for level in LEVELS:
        lo, hi = (c < (1 - level) / 2).sum(1), (c < 1 - (1 - level) / 2).sum(1)
        out[str(level)] = {"coverage": float(((y >= lo) & (y <= hi)).mean()), "width": float(np.mean(hi - lo))}
    return out


def plot(test_age: np.ndarray, rows: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
    x = np.arange(len(BANDS))
    for level, r in rows.items():
        left.plot(x, [100 * v for v in r["coverage_by_band"]], marker="o", label=f"{int(100 * float(level))}% interval")
        left.axhline(100 * float(level), color=left.lines[-1].get_color(), linestyle=":", linewidth=0.8)
        right.plot(x, r["width_by_band"], marker="o", label=f"{int(100 * float(level))}%")
    for ax in (left, right):
        ax.set_xticks(x, band_names(), fontsize=8)
        ax.set_xlabel("true age band (UTKFace TEST)")
        ax.grid(alpha=0.3)
    left.set_ylabel("true age inside the interval (%)")
    left.set_title("coverage (dotted: what it should be)", fontsize=10)
    left.legend(fontsize=7)
    right.set_ylabel("mean width (years)")
    right.set_title("width", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--test", type=int, default=4000)
    args = ap.parse_args()
    meta = header()
    train_age, train_pred = train_predictions(args.test)
    slope, choice = choose_slope(train_age, train_pred)
    q = {str(level): conformal_q(train_age, train_pred, slope, level) for level in LEVELS}
    _, preds = utkface(args.test, 0)
    age = np.array([float(r["age"]) for r in preds])
    pred = np.array([float(r["pred_age"]) for r in preds])
    race = np.array([r["race"] for r in preds])
    gender = np.array([r["gender"] for r in preds])
    own = network_interval_coverage(args.test)
    result = {"meta": meta, "train_images": len(train_age), "test_images": len(age),
              "fitted": {"slope": slope, "q": q}, "slope_choice_on_train_validation": {str(k): v for k, v in choice.items()},
              "network_own_interval_test": own, "test": {}}
    table = []
    for level in LEVELS:
        ok, width = covered(age, pred, slope, q[str(level)])
        groups = {f"race={g}": float(ok[race == g].mean()) for g in sorted(set(race))}
        groups.update({f"gender={g}": float(ok[gender == g].mean()) for g in sorted(set(gender))})
        result["test"][str(level)] = {"coverage": float(ok.mean()), "width": float(width.mean()),
                                      "coverage_by_band": by_band(age, ok.astype(float)),
                                      "width_by_band": by_band(age, width), "coverage_by_group": groups}
        r = result["test"][str(level)]
        table.append([f"{int(100 * level)}%", f"{q[str(level)]:.3f}", f"{100 * r['coverage']:.1f}%", f"{r['width']:.1f}",
                      " / ".join(f"{100 * v:.0f}" for v in r["coverage_by_band"]),
                      f"{100 * min(groups.values()):.1f}-{100 * max(groups.values()):.1f}%",
                      f"{100 * own[str(level)]['coverage']:.1f}% ({own[str(level)]['width']:.1f} y)" if own else "-"])
    md = (f"Interval: age +- q * (1 + {slope:g} * age), clipped at 0; slope chosen on a fifth of TRAIN "
          f"({len(train_age):,} images), q fitted on all of TRAIN; measured on {len(age):,} TEST images.\n\n")
    md += markdown_table(["level", "q", "TEST coverage", "mean width (years)",
                          "coverage by age band (%): " + ", ".join(band_names()), "coverage by race / gender",
                          "network's own interval: coverage (width)"], table)
    md += "\n\nSlope candidates on TRAIN's held-out fifth (80% interval):\n\n" + markdown_table(
        ["slope a", "coverage", "mean width", "worst band's distance from 80%"],
        [[k, f"{100 * v['coverage']:.1f}%", f"{v['width']:.1f}", f"{100 * v['worst_gap']:.1f} points"] for k, v in choice.items()])
    plot(age, result["test"], REPO / "docs" / "age_intervals.png")
    write_outputs("age_intervals", result, md)


if __name__ == "__main__":
    main()
