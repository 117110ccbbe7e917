"""Age, gender and expression accuracy, landmark and analyze speed, liveness separation.

    nice -n 19 python benchmarks/attributes.py [--utk N] [--seed S] [--skip-utk] [--fairness [--fairness-only]]

* UTKFace (../shared/data/utkface): age MAE and gender accuracy with the default
  pipeline (CenterFace -> dlib 5-point chips -> dlib-age averaged over paddings 0.15, 0.2,
  0.25 and their mirrors / dlib-gender; the whole crop is the box where CenterFace finds no face).
  ``--utk N`` draws a fixed random subset of N images (0 = all). Predictions are cached under $MIEN_HOME/bench/.
* ``--fairness`` writes the audit of those predictions by race, gender and age band
  to docs/fairness/ (markdown, HTML, JSON, bar charts), also for ages 20-79 only and with
  race and gender standardised to the whole set's age mix (``*_age-standardised``);
  ``--fairness-only`` stops there.
* CK+48 (../shared/data/ckplus48): expression accuracy per class and the confusion
  matrix. The crops are the faces already, so the whole 48x48 image is the box.
  CK+ has "contempt", which the FER2013 model lacks: it is shown in the confusion
  matrix but left out of the accuracy over the 6 shared classes.
* Speed: face mesh ms per face (2 passes, as the default), mesh + iris, and the whole
  ``analyze`` (detect, mesh, pose, age, gender, expression) ms per image on the
  6-face sample photo; median and IQR of repeated runs after a warm-up.
* Liveness (experimental): antispoof / liveness scores on LFW photos and on simulated
  screen recaptures of the same photos (downscale, gamma/offset, moire); ROC AUC.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, data_root, header, markdown_table, write_outputs  # noqa: E402

from mien.models.store import mien_home  # noqa: E402

CK_TO_FER = {"anger": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy", "sadness": "sad",
             "surprise": "surprise"}
AGE_BANDS = [0, 13, 20, 30, 45, 60, 80]
PIPELINE = "centerface_dlib-age-3pad-flip_dlib-gender-balanced"  # in the prediction cache's name


def _median_iqr(times: list[float]) -> dict[str, float]:
    q1, med, q3 = np.percentile(np.asarray(times) * 1000, [25, 50, 75])
    return {"median_ms": round(float(med), 2), "iqr_ms": round(float(q3 - q1), 2), "runs": len(times)}


def utkface(n: int, seed: int) -> tuple[dict, list[dict]]:
    from mien.audit.run import predict_rows

    root = data_root() / "utkface"
    rows = list(csv.DictReader(open(root / "labels.csv")))
    total = len(rows)
    if n and n < total:
        idx = np.sort(np.random.default_rng(seed).choice(total, n, replace=False))
        rows = [rows[i] for i in idx]
    # the name says which pipeline made the cached predictions (utkface_pred_4000_0.csv: dlib-age in one pass)
    cache = mien_home() / "bench" / f"utkface_pred_{len(rows)}_{seed}_{PIPELINE}.csv"
    if cache.is_file():
        preds = list(csv.DictReader(open(cache)))
    else:
        t0 = time.time()
        preds = predict_rows(rows, ["age", "gender"], "path", root)
        print(f"utkface: {len(preds)} images in {time.time() - t0:.0f} s", file=sys.stderr)
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(cache, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(preds[0]))
            w.writeheader()
            w.writerows(preds)
    age = np.array([float(r["age"]) for r in preds])
    pred_age = np.array([float(r["pred_age"]) for r in preds])
    correct = np.array([r["gender"] == r["pred_gender"] for r in preds])
    detected = np.array([int(r["detected"]) for r in preds], bool)
    adult = (age >= 18) & (age <= 80)
    res = {
        "images": len(preds), "of": total, "subset_seed": seed if len(preds) < total else None,
        "face_detected": round(float(detected.mean()), 4),
        "age_mae": round(float(np.abs(pred_age - age).mean()), 3),
        "age_mae_18_80": round(float(np.abs(pred_age - age)[adult].mean()), 3),
        "gender_accuracy": round(float(correct.mean()), 4),
        "gender_accuracy_18_80": round(float(correct[adult].mean()), 4),
        "gender_accuracy_detected_only": round(float(correct[detected].mean()), 4),
    }
    return res, preds


def fairness(preds: list[dict], out: Path, meta: dict) -> dict:
    from mien.audit import add_bands, audit_attribute, write_report

    from mien.attributes.dlib_age import DlibAge

    ranges = DlibAge()  # the default's calibrated 80% range around each cached prediction
    rows = add_bands([{**r, **dict(zip(("low_age", "high_age"), ranges.interval(float(r["pred_age"]))))} for r in preds],
                     "age", AGE_BANDS)
    intro = (f"mien's default age and gender models (dlib-age averaged over 3 chip paddings and their mirrors, dlib-gender; "
             f"CenterFace boxes) on {len(rows)} "
             f"UTKFace images ({meta['subset']}). Groups are UTKFace's own labels (race in 5 classes as the data "
             "set gives them, gender, age band): mien does not predict race. "
             f"Machine: {meta['machine']}, commit {meta['commit']}, {meta['date']}.")
    adults = [r for r in rows if 20 <= float(r["age"]) < 80]
    adult_intro = (intro + f" This report keeps only the {len(adults)} faces aged 20-79, to separate the groups' "
                   "share of children (whose gender the model mostly cannot tell) from the rest.")
    mix_intro = (intro + " Every group's value here is standardised to the whole set's age mix (direct "
                 "standardisation by age band), which separates the groups' share of children and elderly people "
                 "from how the models treat them; the raw value is beside it.")
    summary = {}
    for task, label, pred, metric in (("age", "age", "pred_age", "mae"), ("gender", "gender", "pred_gender", "accuracy")):
        for name, subset, text, columns, mix in ((task, rows, intro, ["race", "gender", "age_band", "race+gender"], None),
                                                 (f"{task}_20-79", adults, adult_intro, ["race", "gender"], None),
                                                 (f"{task}_age-standardised", rows, mix_intro, ["race", "gender", "race+gender"],
                                                  "age_band")):
            suffix = ", ages 20-79" if subset is adults else (", standardised by age band" if mix else "")
            report = audit_attribute(subset, label, pred, columns, metric, title=f"Fairness audit: {task} on UTKFace{suffix}",
                                     standardize=mix, interval=("low_age", "high_age") if task == "age" else None)
            write_report(report, out, intro=text, name=name)
            summary[name] = {a.column: {"worst": a.worst.group, "best": a.best.group, "ratio": round(a.ratio, 3),
                                        "ratio_ci95": [round(v, 3) for v in a.ratio_ci] if a.ratio_ci else None,
                                        "values": {g.group: round(g.value, 4) for g in a.groups}} for a in report.audits}
    return summary


def ckplus() -> dict:
    from mien.attributes.fer_emotion import LABELS, FerEmotion
    from mien.image import load_image

    root = data_root() / "ckplus48"
    rows = list(csv.DictReader(open(root / "labels.csv")))
    crops = []
    for r in rows:
        img = load_image(root / r["path"])
        crops.append(img[..., 0] if img.ndim == 3 else img)  # grey stored as RGB
    import cv2

    x = np.stack([cv2.resize(c, (64, 64), interpolation=cv2.INTER_LINEAR) for c in crops])
    probs = np.concatenate([FerEmotion().probabilities_gray(x[i:i + 64]) for i in range(0, len(x), 64)])
    pred = [LABELS[i] for i in probs.argmax(1)]
    truth = [r["emotion"] for r in rows]
    classes = sorted(set(truth))
    confusion = {t: {p: 0 for p in LABELS} for t in classes}
    for t, p in zip(truth, pred):
        confusion[t][p] += 1
    shared = [(CK_TO_FER[t], p) for t, p in zip(truth, pred) if t in CK_TO_FER]
    per_class = {t: round(confusion[t][CK_TO_FER[t]] / sum(confusion[t].values()), 4) for t in classes if t in CK_TO_FER}
    return {"images": len(rows), "accuracy_6_shared_classes": round(float(np.mean([a == b for a, b in shared])), 4),
            "mean_per_class_accuracy": round(float(np.mean(list(per_class.values()))), 4),
            "per_class": per_class, "confusion": confusion, "n_per_class": {t: truth.count(t) for t in classes}}


def speed(repeats: int) -> dict:
    from mien.analyze import Analyzer
    from mien.detect import get_detector
    from mien.image import load_image
    from mien.landmarks.mesh import FaceMesh
    from mien.models.store import model_path

    image = load_image(model_path("sample-group"))
    faces = get_detector("centerface").detect(image)
    out = {"image": "sample-group (1280x886, 6 faces)", "faces": len(faces)}
    for name, fn in (("mesh_per_face", lambda: FaceMesh().predict(image, faces)),
                     ("mesh_1pass_per_face", lambda: FaceMesh(refine=False).predict(image, faces)),
                     ("mesh_iris_per_face", lambda: FaceMesh(iris=True).predict(image, faces))):
        fn()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) / len(faces))
        out[name] = _median_iqr(times)
    analyzer = Analyzer()
    analyzer.analyze(image)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        analyzer.analyze(image)
        times.append(time.perf_counter() - t)
    out["analyze_per_image"] = _median_iqr(times)
    return out


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score of a real face > score of a recapture), ties half."""
    diff = pos[:, None] - neg[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


def recapture(image: np.ndarray) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    x = cv2.resize(cv2.resize(image, (w // 3, h // 3), interpolation=cv2.INTER_AREA), (w, h))
    yy, xx = np.mgrid[:h, :w]
    moire = 8 * np.sin(xx * 0.9 + yy * 0.3)
    return np.clip(x.astype(np.float32) * 0.85 + 25 + moire[..., None], 0, 255).astype(np.uint8)


def liveness_check(n: int) -> dict:
    from mien.detect import get_detector
    from mien.image import load_image
    from mien.liveness import antispoof, liveness

    pairs = list(csv.DictReader(open(data_root() / "lfw" / "pairs.csv")))
    paths = sorted({p["path1"] for p in pairs})[:: max(1, len({p["path1"] for p in pairs}) // n)][:n]
    det = get_detector("centerface")
    scores = {"antispoof": ([], []), "liveness": ([], [])}
    for p in paths:
        img = load_image(data_root() / "lfw" / p)
        faces = det.detect(img).largest()
        if not len(faces):
            continue
        fake = recapture(img)
        for name, fn in (("antispoof", antispoof), ("liveness", liveness)):
            scores[name][0].append(fn(img, faces)[0].real)
            scores[name][1].append(fn(fake, faces)[0].real)
    out = {"images": len(scores["antispoof"][0])}
    for name, (real, fake) in scores.items():
        real, fake = np.array(real), np.array(fake)
        out[name] = {"real_median": round(float(np.median(real)), 3), "recapture_median": round(float(np.median(fake)), 3),
                     "real_scored_real": round(float((real > 0.5).mean()), 3),
                     "recapture_scored_real": round(float((fake > 0.5).mean()), 3), "auc": round(_auc(real, fake), 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utk", type=int, default=3000, help="UTKFace subset size (0 = all 18,939)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--liveness-images", type=int, default=150)
    ap.add_argument("--skip-utk", action="store_true")
    ap.add_argument("--fairness", action="store_true", help="write docs/fairness/ from the UTKFace predictions")
    ap.add_argument("--fairness-only", action="store_true",
                    help="with --fairness: only the UTKFace predictions and the fairness reports (no CK+, speed, liveness)")
    args = ap.parse_args()
    meta = header()
    meta["load_average_at_start"] = [round(v, 2) for v in os.getloadavg()]  # the CPUs are shared
    result: dict = {"meta": meta}
    rows = []
    if not args.skip_utk:
        result["utkface"], preds = utkface(args.utk, args.seed)
        u = result["utkface"]
        rows += [["UTKFace age MAE (years)", u["age_mae"], "<= 6", f"{u['images']} of {u['of']} images"],
                 ["UTKFace age MAE, ages 18-80", u["age_mae_18_80"], "", "model's range is 0-80"],
                 ["UTKFace gender accuracy", u["gender_accuracy"], ">= 0.93", ""],
                 ["UTKFace gender accuracy, ages 18-80", u["gender_accuracy_18_80"], "", ""],
                 ["UTKFace face detected", u["face_detected"], "", "else whole crop as box"]]
        if args.fairness:
            subset = (f"fixed random subset, seed {args.seed}" if u["subset_seed"] is not None else "all images")
            result["fairness"] = fairness(preds, REPO / "docs" / "fairness",
                                          {"subset": subset, "machine": f"{meta['machine']['cpu']} "
                                           f"({meta['machine']['cores']} cores)", "commit": meta["commit"],
                                           "date": meta["date"]})
            for task, cols in result["fairness"].items():
                for col, s in cols.items():
                    rows.append([f"{task} worst/best by {col}", s["ratio"], "<= 1.5",
                                 f"worst {s['worst']}, best {s['best']}"])
    if args.fairness_only:
        print(json.dumps(result.get("fairness", {}), indent=1))
        return
    result["ckplus48"] = ck = ckplus()
    rows += [["CK+48 expression accuracy (6 shared classes)", ck["accuracy_6_shared_classes"], "", "FER2013 ~0.66"],
             ["CK+48 mean per-class accuracy", ck["mean_per_class_accuracy"], "", ""]]
    rows += [[f"CK+48 {k}", v, "", f"n={ck['n_per_class'][k]}"] for k, v in ck["per_class"].items()]
    result["speed"] = sp = speed(args.repeats)
    rows += [["face mesh ms/face (2 passes)", sp["mesh_per_face"]["median_ms"], "", f"IQR {sp['mesh_per_face']['iqr_ms']}"],
             ["face mesh ms/face (1 pass)", sp["mesh_1pass_per_face"]["median_ms"], "", f"IQR {sp['mesh_1pass_per_face']['iqr_ms']}"],
             ["mesh + iris ms/face", sp["mesh_iris_per_face"]["median_ms"], "", f"IQR {sp['mesh_iris_per_face']['iqr_ms']}"],
             ["analyze ms/image (6 faces)", sp["analyze_per_image"]["median_ms"], "", f"IQR {sp['analyze_per_image']['iqr_ms']}"]]
    result["liveness"] = lv = liveness_check(args.liveness_images)
    for name in ("antispoof", "liveness"):
        rows.append([f"{name} (experimental) AUC real vs recapture", lv[name]["auc"], "",
                     f"recaptures scored real: {lv[name]['recapture_scored_real']}"])
    table = markdown_table(["measure", "value", "target", "note"], rows)
    confusion = ck["confusion"]
    labels = list(next(iter(confusion.values())))
    table += "\n\nCK+48 confusion matrix (rows: truth, columns: prediction)\n\n" + markdown_table(
        ["truth", *labels], [[t, *[confusion[t][p] for p in labels]] for t in confusion])
    result["meta"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    table += (f"\n\nLoad average (1, 5, 15 min) at start {meta['load_average_at_start']}, at end "
              f"{result['meta']['load_average_at_end']} on {meta['machine']['cores']} cores: timings are upper bounds.")
    write_outputs("attributes", result, table)


if __name__ == "__main__":
    main()
