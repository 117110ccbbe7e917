"""Detection accuracy and speed on the WIDER FACE validation subset.

For each detector: average precision at IoU 0.5 (all annotated faces, and faces of
height >= 20 px with smaller ones ignored), recall at the detector's default threshold
for faces of height >= 20 px and >= 50 px, and median milliseconds per image at native
size; plus milliseconds for a 640x480 image. Boxes marked invalid in the annotations
are ignored: a detection matching one is neither a hit nor a false alarm.

    python benchmarks/detection.py [--detectors centerface,blazeface,dlib-hog] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, data_root, header, markdown_table, write_outputs  # noqa: E402

from mien.detect import get_detector  # noqa: E402
from mien.detect.base import iou_matrix  # noqa: E402
from mien.image import load_image  # noqa: E402

RESULTS = REPO / "docs" / "benchmarks" / "detection.json"

# Score floors low enough to trace the whole precision-recall curve.
LOW_THRESHOLD = {"centerface": 0.05, "blazeface": 0.05, "dlib-hog": -0.8}


def load_annotations(root: Path) -> dict[str, list[tuple[np.ndarray, bool]]]:
    images: dict[str, list] = defaultdict(list)
    with open(root / "annotations.csv") as fh:
        for row in csv.DictReader(fh):
            x, y, w, h = (float(row[k]) for k in "xywh")
            images[row["path"]].append((np.array([x, y, x + w, y + h], np.float32), row["invalid"] == "1"))
    return images


def match(dets: np.ndarray, scores: np.ndarray, gts: np.ndarray, ignore: np.ndarray, iou: float = 0.5):
    """Greedy matching by score: returns per-detection labels 1 (hit), 0 (false alarm), -1 (ignored), and gt hits."""
    order = np.argsort(-scores)
    labels = np.zeros(len(dets), np.int8)
    hit = np.zeros(len(gts), bool)
    ious = iou_matrix(dets, gts) if len(gts) else np.zeros((len(dets), 0))
    for d in order:
        if not len(gts):
            break
        cand = np.where(~hit, ious[d], -1.0)
        j = int(np.argmax(cand))
        if cand[j] >= iou:
            hit[j] = True
            labels[d] = -1 if ignore[j] else 1
        elif (ious[d][ignore] >= iou).any() if ignore.any() else False:
            labels[d] = -1
    return labels, hit


def pr_curve(scores: np.ndarray, labels: np.ndarray, n_positive: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall as the score threshold falls, ignored detections left out."""
    keep = labels >= 0
    scores, labels = scores[keep], labels[keep]
    order = np.argsort(-scores)
    tp = np.cumsum(labels[order] == 1)
    fp = np.cumsum(labels[order] == 0)
    return tp / np.maximum(tp + fp, 1), tp / max(n_positive, 1)


def average_precision(scores: np.ndarray, labels: np.ndarray, n_positive: int) -> float:
    precision, recall = pr_curve(scores, labels, n_positive)
    # All-point interpolation (VOC 2010+).
    mrec = np.concatenate([[0], recall, [recall[-1] if len(recall) else 0]])
    mpre = np.concatenate([[1], precision, [0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    idx = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


def evaluate(name: str, annotations: dict, root: Path, default_threshold: float | None) -> dict:
    detector = get_detector(name, score_threshold=LOW_THRESHOLD[name])
    threshold = default_threshold if default_threshold is not None else get_detector(name).score_threshold
    per_all = {"scores": [], "labels": []}
    per_20 = {"scores": [], "labels": []}
    n_all = n_20 = 0
    recall_hits = {20: 0, 50: 0}
    recall_total = {20: 0, 50: 0}
    times = []
    from tqdm import tqdm

    for path, entries in tqdm(sorted(annotations.items()), desc=name, file=sys.stderr, leave=False):
        image = load_image(root / path)
        t0 = time.perf_counter()
        faces = detector.detect(image)
        times.append((time.perf_counter() - t0) * 1000)
        gts = np.stack([b for b, _ in entries])
        invalid = np.array([inv for _, inv in entries])
        heights = gts[:, 3] - gts[:, 1]
        for bucket, ignore in ((per_all, invalid), (per_20, invalid | (heights < 20))):
            labels, _ = match(faces.boxes, faces.scores, gts, ignore)
            bucket["scores"].append(faces.scores)
            bucket["labels"].append(labels)
        n_all += int((~invalid).sum())
        n_20 += int((~invalid & (heights >= 20)).sum())
        confident = faces[faces.scores >= threshold]
        _, hit = match(confident.boxes, confident.scores, gts, invalid)
        for size in (20, 50):
            sel = ~invalid & (heights >= size)
            recall_total[size] += int(sel.sum())
            recall_hits[size] += int((hit & sel).sum())
    ap_all = average_precision(np.concatenate(per_all["scores"]), np.concatenate(per_all["labels"]), n_all)
    ap_20 = average_precision(np.concatenate(per_20["scores"]), np.concatenate(per_20["labels"]), n_20)
    precision, recall = pr_curve(np.concatenate(per_20["scores"]), np.concatenate(per_20["labels"]), n_20)
    step = max(1, len(recall) // 400)
    speed = timing_640(name)
    return {
        "pr_h20": {"precision": precision[::step].round(4).tolist(), "recall": recall[::step].round(4).tolist()},
        "detector": name,
        "images": len(annotations),
        "faces": n_all,
        "ap50_all": round(ap_all, 4),
        "ap50_h20": round(ap_20, 4),
        "threshold": threshold,
        "recall_h20": round(recall_hits[20] / max(recall_total[20], 1), 4),
        "recall_h50": round(recall_hits[50] / max(recall_total[50], 1), 4),
        "median_ms_native": round(statistics.median(times), 1),
        "median_ms_640x480": speed,
    }


def timing_640(name: str, repeats: int = 15) -> float:
    import cv2

    from mien.image import load_image as load
    from mien.models.store import model_path

    image = cv2.resize(load(model_path("sample-group")), (640, 480))
    detector = get_detector(name)
    detector.detect(image)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        detector.detect(image)
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detectors", default="centerface,blazeface,dlib-hog")
    parser.add_argument("--limit", type=int, default=0, help="Only the first N images (for a quick look).")
    parser.add_argument("--timing-only", type=int, default=0, metavar="N",
                        help="Re-time the detectors of the last full run on N images and update its results "
                             "(for a quiet machine; accuracy does not depend on load).")
    args = parser.parse_args()
    root = data_root() / "widerface_val_subset"
    annotations = load_annotations(root)
    if args.timing_only:
        result = json.loads(RESULTS.read_text())
        sample = sorted(annotations)[:: max(1, len(annotations) // args.timing_only)][: args.timing_only]
        for row in result["results"]:
            row["median_ms_native"] = native_timing(row["detector"], [root / p for p in sample])
            row["median_ms_640x480"] = timing_640(row["detector"])
        result["timing"] = {**header(), "images": len(sample)}
        write_outputs("detection", result, table_of(result["results"]))
        return
    if args.limit:
        annotations = dict(sorted(annotations.items())[: args.limit])
    rows = [evaluate(name, annotations, root, None) for name in args.detectors.split(",")]
    result = {"meta": header(), "dataset": "WIDER FACE val subset (0--Parade, 13--Interview, 19--Couple, 20--Family_Group)", "results": rows}
    plot_pr(rows, REPO / "docs" / "benchmarks" / "detection_pr.png")
    for r in rows:
        r.pop("pr_h20")
    write_outputs("detection", result, table_of(rows))


def table_of(rows: list[dict]) -> str:
    columns = ["detector", "AP50 (all)", "AP50 (h>=20)", "recall h>=20", "recall h>=50", "ms/img native", "ms 640x480"]
    return markdown_table(columns, [
        [r["detector"], r["ap50_all"], r["ap50_h20"], r["recall_h20"], r["recall_h50"], r["median_ms_native"], r["median_ms_640x480"]]
        for r in rows
    ])


def native_timing(name: str, paths: list[Path]) -> float:
    detector = get_detector(name)
    images = [load_image(p) for p in paths]
    detector.detect(images[0])
    times = []
    for image in images:
        t0 = time.perf_counter()
        detector.detect(image)
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def plot_pr(rows: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    for r in rows:
        ax.plot(r["pr_h20"]["recall"], r["pr_h20"]["precision"], label=f"{r['detector']} (AP {r['ap50_h20']:.3f})")
    ax.set_xlabel("recall (faces >= 20 px)")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    ax.set_title("WIDER FACE val subset, IoU 0.5")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main()
