"""UTKFace-trained age and gender heads vs the CC0 dlib models, on one held-out split.

    nice -n 19 python benchmarks/attributes_heads.py [--train N] [--test 4000] [--fit] [--fairness]

* Split (fixed, seeded): TEST is the 4,000-image subset ``benchmarks/attributes.py --utk 4000
  --seed 0`` reports on (``rng(0).choice``); TRAIN is ``--train`` images drawn with seed 1 from
  the other 14,939 (all of them by default; else the first ``--train`` of one seeded permutation,
  so a smaller TRAIN is a prefix of a larger one). No image is in both. UTKFace has no identity labels, so the same person
  may appear in both: the test numbers may be optimistic for people the heads never saw.
* Features (``mien.attributes.heads``): CenterFace box (whole crop when none is found, as
  ``benchmarks/attributes.py``), one dlib 5-point shape, dlib-age's 256-D pool + 81
  probabilities, dlib-gender's 16-D hidden layer + 2 probabilities, dlib-resnet 128-D; each for
  the chip and its mirror; and faceres's P(male), 100 age probabilities and 1024-D descriptor on
  its own crop (``fr_*``; research-only weights, used by a head only where validation picks it).
  Cached under $MIEN_HOME/bench/ (dlib: about 1.5 minutes per 1,000 images, faceres about 1 minute,
  on a shared 2-core machine; extraction resumes from its last checkpoint).
* ``--fit``: hyperparameters chosen on a validation fifth of TRAIN (never on TEST), refitted
  on all of TRAIN, written to mien/attributes/heads/utk_heads.npz; prints its SHA-256 for
  mien/models/catalog/attribute_heads.py.
* Every variant below is fitted on TRAIN and measured on TEST, beside the current defaults on
  the same TEST images; worst/best group ratios by race, gender and age band (mien.audit).
  ``--fairness`` writes the full audit of the shipped heads to docs/fairness/utk-heads_*.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, data_root, header, markdown_table, write_outputs  # noqa: E402

from mien.attributes.dlib_age import AGE_WEIGHTS  # noqa: E402
from mien.attributes.heads import Heads, decode_age, dlib_age, feature_matrix, mlp  # noqa: E402
from mien.models.store import mien_home  # noqa: E402

AGE_BANDS = [0, 13, 20, 30, 45, 60, 80]
HEADS_FILE = REPO / "mien" / "attributes" / "heads" / "utk_heads.npz"

GENDER_PARTS = {"dlib-gender logit (calibration)": ("gen_l",), "dlib-resnet": ("res",),
                "resnet + dlib-gender (stacked)": ("res", "gen_f", "gen_l"),
                "resnet + dlib-gender + dlib-age pool": ("res", "gen_f", "gen_l", "age_f"),
                "resnet + dlib-gender + faceres logit": ("res", "gen_f", "gen_l", "fr_l")}
AGE_PARTS = {"dlib-age probabilities": ("age_lp",), "dlib-age pool + probabilities": ("age_f", "age_lp"),
             "all dlib features": ("age_f", "age_lp", "gen_f", "res"),
             "all dlib features + faceres age probabilities": ("age_f", "age_lp", "gen_f", "res", "fr_lp")}


# ---------------------------------------------------------------- data and features

def labels() -> list[dict]:
    return list(csv.DictReader(open(data_root() / "utkface" / "labels.csv")))


def splits(total: int, n_test: int, n_train: int) -> tuple[np.ndarray, np.ndarray]:
    test = np.sort(np.random.default_rng(0).choice(total, n_test, replace=False))
    rest = np.setdiff1d(np.arange(total), test)
    return np.random.default_rng(1).permutation(rest)[:n_train or None], test  # a prefix of one fixed order


def dlib_batch(batch: list) -> dict[str, np.ndarray]:
    from mien.attributes.heads import chip_features, face_chips

    chips = [face_chips(image, face) for image, face in batch]
    return chip_features({k: np.concatenate([c[k] for c in chips]) for k in chips[0]})


def faceres_batch(batch: list) -> dict[str, np.ndarray]:
    from mien.attributes.heads import faceres_features

    feats = [faceres_features(image, face) for image, face in batch]
    return {k: np.concatenate([f[k] for f in feats]) for k in feats[0]}


def extract(rows: list[dict], idx: np.ndarray, cache: Path, features=dlib_batch) -> dict[str, np.ndarray]:
    """``features`` of rows ``idx`` (plus ``detected``), cached in ``cache`` (checkpointed every 320 images)."""
    from mien.audit.run import face_or_frame
    from mien.detect import get_detector
    from mien.image import load_image

    done: dict[str, list] = {}
    start = 0
    if cache.is_file():
        with np.load(cache) as f:
            if np.array_equal(f["idx"], idx):
                return {k: f[k] for k in f.files}
            start = len(f["idx"]) if np.array_equal(f["idx"], idx[:len(f["idx"])]) else 0
            done = {k: [f[k][:start]] for k in f.files if k != "idx"} if start else {}
    det, root, t0 = get_detector("centerface"), data_root() / "utkface", time.time()

    def save(n: int) -> None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache.with_suffix(".tmp.npz"), idx=idx[:n], **{k: np.concatenate(v) for k, v in done.items()})
        cache.with_suffix(".tmp.npz").replace(cache)

    for s in range(start, len(idx), 32):
        batch, found = [], []
        for i in idx[s:s + 32]:
            image = load_image(root / rows[i]["path"])
            face, ok = face_or_frame(det, image)
            batch.append((image, face))
            found.append(ok)
        for k, v in {**features(batch), "detected": np.array(found)}.items():
            done.setdefault(k, []).append(v)
        if (s // 32) % 10 == 9:
            save(s + len(found))
            print(f"{cache.name}: {s + len(found)}/{len(idx)} in {time.time() - t0:.0f} s", file=sys.stderr)
    save(len(idx))
    with np.load(cache) as f:
        return {k: f[k] for k in f.files}


def features(rows: list[dict], idx: np.ndarray, split: str) -> dict[str, np.ndarray]:
    """dlib features and faceres outputs of rows ``idx``, each cached on its own under $MIEN_HOME/bench/."""
    bench = mien_home() / "bench"
    out = extract(rows, idx, bench / f"utk_heads_{split}_{len(idx)}.npz")
    fr = extract(rows, idx, bench / f"utk_faceres_{split}_{len(idx)}.npz", faceres_batch)
    return {**out, **{k: v for k, v in fr.items() if k.startswith("fr_")}}


def with_labels(feats: dict[str, np.ndarray], rows: list[dict]) -> dict[str, np.ndarray]:
    d = dict(feats)
    picked = [rows[i] for i in d["idx"]]
    d["age"] = np.array([float(r["age"]) for r in picked])
    d["male"] = np.array([r["gender"] == "male" for r in picked])
    d["race"] = np.array([r["race"] for r in picked])
    d["band"] = np.digitize(d["age"], AGE_BANDS[1:])
    return d


def subset(d: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[keep] for k, v in d.items()}


# ---------------------------------------------------------------- fitting (numpy only)

def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x.mean(0), x.std(0) + 1e-6


def logistic(x: np.ndarray, y: np.ndarray, lam: float, w: np.ndarray | None = None) -> list:
    """L2 logistic regression by Newton's method; one layer (weights (D, 1), bias (1,))."""
    n, dim = x.shape
    xb, w = np.hstack([x, np.ones((n, 1))]), np.ones(n) if w is None else w
    beta, reg = np.zeros(dim + 1), lam * np.eye(dim + 1)
    reg[-1, -1] = 0
    for _ in range(30):
        p = 1 / (1 + np.exp(-xb @ beta))
        step = np.linalg.solve((xb * (w * p * (1 - p))[:, None]).T @ xb + reg, xb.T @ (w * (p - y)) + reg @ beta)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return [(beta[:-1, None], beta[-1:])]


def ridge(x: np.ndarray, y: np.ndarray, lam: float, w: np.ndarray | None = None) -> list:
    n, dim = x.shape
    xb, w = np.hstack([x, np.ones((n, 1))]), np.ones(n) if w is None else w
    reg = lam * np.eye(dim + 1)
    reg[-1, -1] = 0
    beta = np.linalg.solve((xb * w[:, None]).T @ xb + reg, (xb * w[:, None]).T @ y)
    return [(beta[:-1, None], beta[-1:])]


def mlp_l1(x: np.ndarray, y: np.ndarray, hidden: int, w: np.ndarray | None = None, epochs: int = 40,
           lr: float = 1e-3, decay: float = 1e-4, seed: int = 0) -> list:
    """One hidden ReLU layer, weighted L1 loss, Adam, minibatches of 128."""
    rng = np.random.default_rng(seed)
    n, dim = x.shape
    w = np.ones(n) if w is None else w
    params = [rng.normal(0, np.sqrt(2 / dim), (dim, hidden)), np.zeros(hidden),
              rng.normal(0, np.sqrt(1 / hidden), (hidden, 1)), np.full(1, np.median(y))]
    m1, m2, t = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params], 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for s in range(0, n, 128):
            b = order[s:s + 128]
            h = x[b] @ params[0] + params[1]
            a = np.maximum(h, 0)
            g = np.sign((a @ params[2] + params[3])[:, 0] - y[b]) * w[b] / len(b)
            ga = g[:, None] @ params[2].T * (h > 0)
            grads = [x[b].T @ ga + decay * params[0], ga.sum(0), a.T @ g[:, None] + decay * params[2], g.sum(keepdims=True)]
            t += 1
            for i, gi in enumerate(grads):
                m1[i] = 0.9 * m1[i] + 0.1 * gi
                m2[i] = 0.999 * m2[i] + 0.001 * gi * gi
                params[i] -= lr * (m1[i] / (1 - 0.9 ** t)) / (np.sqrt(m2[i] / (1 - 0.999 ** t)) + 1e-8)
    return [(params[0], params[1]), (params[2], params[3])]


def band_weights(band: np.ndarray, alpha: float) -> np.ndarray:
    """Sample weights (1 / band frequency) ** alpha, mean 1: alpha 0 = none, 1 = every band equal."""
    counts = np.bincount(band, minlength=len(AGE_BANDS)).astype(float)
    w = (counts.sum() / np.maximum(counts, 1)) ** alpha
    w = w[band]
    return w / w.mean()


class Fitted:
    """One head: feature parts, standardisation, layers; ``target`` "logit", "age", "log1p" or
    "resid" (age minus dlib-age's own estimate: with strong regularisation the head falls back to dlib-age)."""

    def __init__(self, parts, train, target, fit) -> None:
        x = feature_matrix(train, parts)
        self.parts, self.target = parts, target
        self.mean, self.scale = standardise(x)
        targets = {"logit": lambda: train["male"].astype(float), "age": lambda: train["age"],
                   "log1p": lambda: np.log1p(train["age"]), "resid": lambda: train["age"] - dlib_age(train)}
        self.layers = fit((x - self.mean) / self.scale, targets[target]())

    def __call__(self, d: dict[str, np.ndarray]) -> np.ndarray:
        y = mlp(self.layers, (feature_matrix(d, self.parts) - self.mean) / self.scale)[:, 0]
        return 1 / (1 + np.exp(-y)) if self.target == "logit" else decode_age(y, d, self.target)


# ---------------------------------------------------------------- measuring

def scores(d: dict[str, np.ndarray], age: np.ndarray | None = None, male_p: np.ndarray | None = None) -> dict:
    """MAE / accuracy overall, for children and 80+, and worst/best ratios by race, gender, band (mien.audit)."""
    from mien.audit import add_bands, audit_attribute

    rows = [{"age": a, "gender": "male" if m else "female", "race": r} for a, m, r in zip(d["age"], d["male"], d["race"])]
    out: dict = {}
    if age is not None:
        age = np.clip(age, 0, 116)
        err = np.abs(age - d["age"])
        out.update(age_mae=err.mean(), age_mae_under_13=err[d["age"] < 13].mean(), age_mae_80_plus=err[d["age"] >= 80].mean(),
                   age_mae_20_79=err[(d["age"] >= 20) & (d["age"] < 80)].mean())
        for r, p in zip(rows, age):
            r["pred_age"] = p
    if male_p is not None:
        ok = (male_p > 0.5) == d["male"]
        out.update(gender_accuracy=ok.mean(), gender_accuracy_under_13=ok[d["age"] < 13].mean(),
                   gender_accuracy_20_79=ok[(d["age"] >= 20) & (d["age"] < 80)].mean())
        for r, p in zip(rows, male_p):
            r["pred_gender"] = "male" if p > 0.5 else "female"
    rows = add_bands(rows, "age", AGE_BANDS)
    for task, metric in (("age", "mae"), ("gender", "accuracy")):
        if f"pred_{task}" in rows[0]:
            report = audit_attribute(rows, task, f"pred_{task}", ["race", "gender", "age_band"], metric)
            for a in report.audits:
                out[f"{task}_ratio_{a.column}"] = a.ratio
                out[f"{task}_worst_{a.column}"] = f"{a.worst.group} / {a.best.group}"
    return {k: round(float(v), 4) if not isinstance(v, str) else v for k, v in out.items()}


def choose(train: dict, n_val: int) -> dict:
    """Hyperparameters by validation on a fixed fifth of TRAIN."""
    perm = np.random.default_rng(2).permutation(len(train["age"]))
    fit_part, val = subset(train, perm[n_val:]), subset(train, perm[:n_val])
    results, best = [], {}
    for name, parts in GENDER_PARTS.items():
        for lam in (1, 10, 100, 1000, 3000):
            head = Fitted(parts, fit_part, "logit", lambda x, y, lam=lam: logistic(x, y, lam))
            acc = float(((head(val) > 0.5) == val["male"]).mean())
            results.append(["gender", name, f"logistic, L2 {lam}", round(acc, 4)])
            if acc > best.get("gender", (0,))[0]:
                best["gender"] = (acc, parts, lam)
    for name, parts in AGE_PARTS.items():
        for target in ("resid", "age"):
            for lam in (10, 100, 1000):
                head = Fitted(parts, fit_part, target, lambda x, y, lam=lam: ridge(x, y, lam))
                mae = float(np.abs(np.clip(head(val), 0, 116) - val["age"]).mean())
                results.append(["age", name, f"ridge on {target}, L2 {lam}", round(mae, 3)])
                if mae < best.get("age", (1e9,))[0]:
                    best["age"] = (mae, parts, target, "ridge", lam)
            for hidden in (32, 64):
                head = Fitted(parts, fit_part, target, lambda x, y, h=hidden: mlp_l1(x, y, h))
                mae = float(np.abs(np.clip(head(val), 0, 116) - val["age"]).mean())
                results.append(["age", name, f"MLP {hidden} on {target}, L1", round(mae, 3)])
                if mae < best.get("age", (1e9,))[0]:
                    best["age"] = (mae, parts, target, "mlp", hidden)
    # age-band reweighting: among alphas within 0.3 years of the best validation MAE, the one with the
    # lowest mean-over-bands MAE (so children and the elderly count as much as the crowded 20-39)
    _, parts, target, kind, param = best["age"]
    options = []
    for alpha in (0.0, 0.5, 1.0):
        head = Fitted(parts, fit_part, target, age_fitter(kind, param, alpha, fit_part["band"]))
        err = np.abs(np.clip(head(val), 0, 116) - val["age"])
        balanced = float(np.mean([err[val["band"] == b].mean() for b in np.unique(val["band"])]))
        options.append((alpha, float(err.mean()), balanced))
        results.append(["age", "+".join(parts), f"{kind} {param} on {target}, band weights^{alpha}: MAE / mean over bands",
                        f"{err.mean():.3f} / {balanced:.3f}"])
    top = min(o[1] for o in options)
    alpha = min((o for o in options if o[1] <= top + 0.3), key=lambda o: o[2])[0]
    return {"table": results, "gender": best["gender"], "age": best["age"], "alpha": alpha}


def age_fitter(kind: str, param: float, alpha: float, band: np.ndarray):
    w = band_weights(band, alpha)
    if kind == "ridge":
        return lambda x, y: ridge(x, y, param, w)
    return lambda x, y: mlp_l1(x, y, int(param), w)


def save_heads(gender: Fitted, age: Fitted, meta: dict) -> str:
    arrays: dict = {"age_target": np.array(age.target), "meta": np.array(repr(meta))}
    for task, head in (("gender", gender), ("age", age)):
        arrays[f"{task}_parts"] = np.array(head.parts)
        arrays[f"{task}_mean"], arrays[f"{task}_scale"] = head.mean.astype(np.float32), head.scale.astype(np.float32)
        arrays[f"{task}_layers"] = np.array(len(head.layers))
        for i, (w, b) in enumerate(head.layers):
            arrays[f"{task}_w{i}"], arrays[f"{task}_b{i}"] = w.astype(np.float32), b.astype(np.float32)
    HEADS_FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(HEADS_FILE, **arrays)
    return hashlib.sha256(HEADS_FILE.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=0, help="TRAIN size (0, the default: all 14,939 non-TEST images)")
    ap.add_argument("--test", type=int, default=4000)
    ap.add_argument("--fit", action="store_true", help="refit and write mien/attributes/heads/utk_heads.npz")
    ap.add_argument("--alpha", type=float, default=None, help="age-band reweighting exponent for the shipped age head "
                    "(default: chosen on validation)")
    ap.add_argument("--fairness", action="store_true", help="write docs/fairness/utk-heads_* for the shipped heads")
    args = ap.parse_args()
    meta = header()
    rows = labels()
    train_idx, test_idx = splits(len(rows), args.test, args.train)
    train = with_labels(features(rows, train_idx, "train"), rows)
    test = with_labels(features(rows, test_idx, "test"), rows)
    result: dict = {"meta": meta, "split": {"train": len(train_idx), "test": len(test_idx), "overlap": 0,
                                            "test_is": "benchmarks/attributes.py --utk 4000 --seed 0"}}

    chosen = choose(train, len(train_idx) // 5)
    result["validation"] = chosen["table"]
    _, g_parts, g_lam = chosen["gender"]
    _, a_parts, a_target, a_kind, a_param = chosen["age"]

    variants: list[tuple[str, dict]] = []
    # the CC0 models from the cached features (padding 0.2 only): mien's default dlib-age also averages
    # paddings 0.15 and 0.25 (benchmarks/attributes.py measures that on the same images)
    variants.append(("dlib-age / dlib-gender, one pass (the reference package; CC0)",
                     scores(test, test["age_p"][:, 0] @ AGE_WEIGHTS, test["gen_p"][:, 0, 1])))
    variants.append(("same + mirrored chip averaged (padding 0.2 only)",
                     scores(test, test["age_p"].mean(1) @ AGE_WEIGHTS, test["gen_p"].mean(1)[:, 1])))
    for name, parts in GENDER_PARTS.items():
        head = Fitted(parts, train, "logit", lambda x, y: logistic(x, y, g_lam))
        variants.append((f"gender head: {name}, L2 {g_lam}", scores(test, male_p=head(test))))
    alphas = {}
    for alpha in (0.0, 0.5, 1.0):
        head = Fitted(a_parts, train, a_target, age_fitter(a_kind, a_param, alpha, train["band"]))
        s = scores(test, age=head(test))
        alphas[alpha] = s
        variants.append((f"age head: {a_kind} {a_param} on {'+'.join(a_parts)} -> {a_target}, band weights^{alpha}", s))

    if args.fit:
        alpha = args.alpha if args.alpha is not None else chosen["alpha"]
        gender = Fitted(g_parts, train, "logit", lambda x, y: logistic(x, y, g_lam))
        age = Fitted(a_parts, train, a_target, age_fitter(a_kind, a_param, alpha, train["band"]))
        sha = save_heads(gender, age, {"train": len(train_idx), "gender": (g_parts, g_lam),
                                       "age": (a_parts, a_target, a_kind, a_param, alpha), "commit": meta["commit"]})
        result["fitted"] = {"sha256": sha, "size_bytes": HEADS_FILE.stat().st_size}
        print(f"wrote {HEADS_FILE} sha256 {sha} ({HEADS_FILE.stat().st_size} bytes)", file=sys.stderr)
    if HEADS_FILE.is_file():
        heads = Heads(str(HEADS_FILE))
        shipped = scores(test, heads.age(test), heads.male_probability(test))
        variants.append(("utk-age / utk-gender (shipped heads)", shipped))
        result["shipped"] = shipped
        if args.fairness:
            write_fairness(test, heads, meta)
    result["variants"] = {name: s for name, s in variants}
    cols = ["variant", "age MAE", "MAE <13", "MAE 80+", "age ratio race / gender / band",
            "gender acc", "acc <13", "gender ratio race / gender / band"]

    def ratios(s: dict, task: str) -> str:
        return " / ".join(f"{s[f'{task}_ratio_{c}']:.2f}" for c in ("race", "gender", "age_band")) if f"{task}_ratio_race" in s else ""

    table = markdown_table(cols, [[name, s.get("age_mae", ""), s.get("age_mae_under_13", ""), s.get("age_mae_80_plus", ""),
                                   ratios(s, "age"), s.get("gender_accuracy", ""), s.get("gender_accuracy_under_13", ""),
                                   ratios(s, "gender")] for name, s in variants])
    table += ("\n\nValidation (a fixed fifth of TRAIN; TEST never used to choose): "
              f"gender {g_parts} L2 {g_lam}; age {a_kind} {a_param} on {a_parts} -> {a_target}, "
              f"band weights^{chosen['alpha']}.\n\n"
              + markdown_table(["task", "features", "model", "validation accuracy / MAE"], chosen["table"]))
    table += (f"\n\nSplit: TRAIN {len(train_idx)} images (seed 1, disjoint from TEST), TEST {len(test_idx)} images "
              "(the attributes benchmark's subset, seed 0). UTKFace has no identity labels: one person may appear "
              "in both splits.")
    write_outputs("attributes_heads", result, table)


def write_fairness(test: dict, heads: Heads, meta: dict) -> None:
    from mien.audit import add_bands, audit_attribute, write_report

    age, male = np.clip(heads.age(test), 0, 116), heads.male_probability(test) > 0.5
    rows = [{"age": a, "gender": "male" if m else "female", "race": r, "pred_age": round(float(p), 2),
             "pred_gender": "male" if q else "female"} for a, m, r, p, q in zip(test["age"], test["male"], test["race"], age, male)]
    rows = add_bands(rows, "age", AGE_BANDS)
    intro = (f"mien's UTKFace-trained heads (utk-age, utk-gender; research use only) on the {len(rows)} TEST images "
             "of benchmarks/attributes_heads.py (the same subset as the dlib reports; disjoint from the heads' "
             "training images, though UTKFace has no identity labels). Groups are UTKFace's own labels; mien does "
             f"not predict race. Machine: {meta['machine']['cpu']}, commit {meta['commit']}, {meta['date']}.")
    adults = [r for r in rows if 20 <= r["age"] < 80]
    adult_intro = (intro + f" This report keeps only the {len(adults)} faces aged 20-79, as the dlib reports' "
                   "20-79 versions do, to separate the groups' share of children and the elderly from the rest.")
    mix_intro = (intro + " Every group's value here is standardised to the whole TEST split's age mix (direct "
                 "standardisation by age band); the raw value is beside it.")
    for task, metric in (("age", "mae"), ("gender", "accuracy")):
        for subset, text, columns, suffix, mix in ((rows, intro, ["race", "gender", "age_band", "race+gender"], "", None),
                                                   (adults, adult_intro, ["race", "gender"], "_20-79", None),
                                                   (rows, mix_intro, ["race", "gender", "race+gender"], "_age-standardised",
                                                    "age_band")):
            title = {"": "", "_20-79": ", ages 20-79", "_age-standardised": ", standardised by age band"}[suffix]
            report = audit_attribute(subset, task, f"pred_{task}", columns, metric,
                                     title=f"Fairness audit: utk-{task} on UTKFace (TEST split){title}", standardize=mix)
            write_report(report, REPO / "docs" / "fairness", intro=text, name=f"utk-heads_{task}{suffix}")


if __name__ == "__main__":
    main()
