"""Every age and gender model mien offers, through the real pipeline, on the same UTKFace images.

    nice -n 19 python benchmarks/attributes_alternatives.py [--every 10]

Images: every ``--every``-th image of the fixed 4,000-image TEST subset of
``benchmarks/attributes.py --utk 4000`` (seed 0; disjoint from the utk heads' training
images). Each image: CenterFace's largest face (the whole crop where none is found), then
``get_attribute_model(age).predict`` and ``get_attribute_model(gender).predict`` exactly as
``mien analyze --attributes AGE,GENDER`` runs them. Reports MAE, gender accuracy and ms per
face for the two models together (median over images; the machine is shared, so timings are
upper bounds). Also the run's end-to-end check for the heads: their numbers here come from
the pipeline, not from the feature cache that ``benchmarks/attributes_heads.py`` fits on.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import data_root, header, markdown_table, write_outputs

# (label, age model, gender model, commercial use)
PAIRS = [
    ("dlib-age / dlib-gender (default, CC0)", "dlib-age", "dlib-gender", True),
    ("utk-age / utk-gender (UTKFace heads)", "utk-age", "utk-gender", False),
    ("faceres-age / faceres-gender", "faceres-age", "faceres-gender", False),
    ("ssrnet-age / ssrnet-gender", "ssrnet-age", "ssrnet-gender", False),
    ("gear-age / gear-gender", "gear-age", "gear-gender", False),
]


def main() -> None:
    from mien.attributes import get_attribute_model
    from mien.audit.run import face_or_frame
    from mien.detect import get_detector
    from mien.image import load_image

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=10)
    args = ap.parse_args()
    meta = header()
    meta["load_average_at_start"] = [round(v, 2) for v in os.getloadavg()]
    root = data_root() / "utkface"
    rows = list(csv.DictReader(open(root / "labels.csv")))
    test = np.sort(np.random.default_rng(0).choice(len(rows), 4000, replace=False))[::args.every]
    det = get_detector("centerface")
    images = []
    for i in test:
        image = load_image(root / rows[i]["path"])
        images.append((image, face_or_frame(det, image)[0]))
    age = np.array([float(rows[i]["age"]) for i in test])
    gender = np.array([rows[i]["gender"] for i in test])
    result: dict = {"meta": meta, "images": len(test), "subset": f"every {args.every}th of the 4,000 TEST images (seed 0)",
                    "models": {}}
    table = []
    for label, age_name, gender_name, commercial in PAIRS:
        a_model, g_model = get_attribute_model(age_name), get_attribute_model(gender_name)
        a_model.predict(*images[0]), g_model.predict(*images[0])  # warm-up (sessions, weights)
        pred_age, pred_gender, times = [], [], []
        for image, face in images:
            t = time.perf_counter()
            a, g = a_model.predict(image, face)[0], g_model.predict(image, face)[0]
            times.append(time.perf_counter() - t)
            pred_age.append(a.value)
            pred_gender.append(g.value)
        err = np.abs(np.array(pred_age) - age)
        ok = np.array(pred_gender) == gender
        adult = (age >= 20) & (age < 80)
        s = {"age_mae": round(float(err.mean()), 3), "age_mae_20_79": round(float(err[adult].mean()), 3),
             "gender_accuracy": round(float(ok.mean()), 4), "gender_accuracy_20_79": round(float(ok[adult].mean()), 4),
             "ms_per_face_median": round(float(np.median(times) * 1000), 1), "commercial": commercial}
        result["models"][label] = s
        table.append([label, s["age_mae"], s["age_mae_20_79"], s["gender_accuracy"], s["gender_accuracy_20_79"],
                      s["ms_per_face_median"], "yes" if commercial else "**no**"])
        print(label, s, file=sys.stderr, flush=True)
    meta["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    md = markdown_table(["age / gender models", "age MAE", "MAE 20-79", "gender acc", "acc 20-79", "ms/face (both)",
                         "commercial use"], table)
    md += (f"\n\n{len(test)} images: {result['subset']}. Load average at start {meta['load_average_at_start']}, "
           f"at end {meta['load_average_at_end']} on a shared machine: timings are upper bounds.")
    write_outputs("attributes_alternatives", result, md)


if __name__ == "__main__":
    main()
