"""The face in 3D, measured: scale calibration, repeatability, IPD against norms, the simulator's
closed loop, avatar reprojection.

    nice python benchmarks/face3d.py [--part all|calibrate|icc|ipd|loop|avatar] [--quick]

* calibrate: on the WIDER FACE validation subset, every near-frontal face (annotated pose,
  occlusion, blur all typical; at least 80 px wide; |yaw| <= 15, |pitch| <= 20 from the mesh):
  the pupil distance in model iris diameters. Its median against the adult anatomical ratio
  63.4 / 11.71 gives ``IRIS_MODEL_FACTOR``; its log spread less the anatomical spread of IPD
  (3.83 mm, Dodgson 2004) and iris (0.42 mm, Rüfer 2005) gives ``IRIS_MODEL_ERROR``.
* icc: LFW identities with at least 4 photos (the first ``--ids``, 4 photos each), faces at
  |yaw| <= 20: the within-person coefficient of variation and the intraclass correlation
  ICC(1,1) (one-way random effects) of each measure. The mm measures carry the per-photo scale
  error; "shape" rows divide a width by the biocular width (ex-ex) to show the mesh's own
  repeatability without the scale.
* ipd: one photo for each of the first ``--people`` LFW identities, |yaw| <= 20: the IPD
  distribution, by gender as estimated by mien's gender model (LFW has no gender labels).
* loop: ``--faces`` LFW faces; nose width -10% and mouth width +10% simulated, the result
  measured again with ``mien measure`` (the watermarked output, the same pipeline a user runs);
  the measured change in pixels (scale-free) against the requested one, also on the warped photo
  before its watermark (the mark's own effect on the mesh); the same change seen
  by dlib's 68 points (alar 31-35, mouth 48-54; a second, independent landmark model, research
  licence) to tell the warp's share from the measuring model's; and the share of simulated
  faces that mien's recogniser (dlib-resnet, FMR 1e-3) still calls the same person.
* avatar: ``--faces`` LFW faces: the avatar's vertices projected back through the fitted pose
  onto the photo, against the mesh (a round-trip check) and against CenterFace's five
  landmarks (an independent model: pupils, nose tip, mouth corners), as a share of the
  inter-ocular distance.

Writes docs/benchmarks/face3d.{json,md}; one ``--part`` keeps the other parts' last numbers.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import data_root, header, markdown_table, write_outputs  # noqa: E402
from mien.errors import InputError  # noqa: E402
from mien.image import load_image  # noqa: E402

ANATOMICAL_IPD, ANATOMICAL_IPD_SD = 63.4, 3.83
ICC_MEASURES = ("ipd", "nose_width", "mouth_width", "face_width", "intercanthal_width", "eye_fissure_right",
                "nose_length", "face_height", "thirds_ratio", "fifth_3", "asymmetry_index")
SHAPE_MEASURES = ("ipd", "nose_width", "mouth_width", "face_width")
MAX_YAW = 20.0


def lfw_identities(root: Path) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = defaultdict(list)
    with open(root / "lfw" / "identities.csv") as fh:
        for row in csv.DictReader(fh):
            out[row["identity"]].append(root / "lfw" / row["path"])
    return out


def icc_1_1(groups: list[np.ndarray]) -> float:
    """ICC(1,1) from one-way ANOVA, groups of unequal size (k0 correction)."""
    groups = [g for g in groups if len(g) >= 2]
    n = sum(len(g) for g in groups)
    a = len(groups)
    if a < 3:
        return float("nan")
    grand = np.concatenate(groups).mean()
    msb = sum(len(g) * (g.mean() - grand) ** 2 for g in groups) / (a - 1)
    msw = sum(((g - g.mean()) ** 2).sum() for g in groups) / (n - a)
    k0 = (n - sum(len(g) ** 2 for g in groups) / n) / (a - 1)
    return float((msb - msw) / (msb + (k0 - 1) * msw))


def within_cv(groups: list[np.ndarray]) -> float:
    groups = [g for g in groups if len(g) >= 2]
    return float(np.sqrt(np.mean([g.var(ddof=1) for g in groups])) / np.mean([g.mean() for g in groups]))


def part_calibrate(root: Path, quick: bool) -> dict:
    from mien.face3d.capture import FaceLifter
    from mien.face3d.metric import IRIS_MM, IRIS_SD_MM

    rows = list(csv.DictReader(open(root / "widerface_val_subset" / "annotations.csv")))
    rows = [r for r in rows if float(r["w"]) >= 80 and r["pose"] == "0" and r["occlusion"] == "0"
            and r["invalid"] == "0" and r["blur"] != "2"]
    by_image: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_image[r["path"]].append(r)
    lifter = FaceLifter()
    ratios, iris_px = [], []
    for k, (path, annotated) in enumerate(by_image.items()):
        if quick and k >= 40:
            break
        image = load_image(root / "widerface_val_subset" / path)
        faces = lifter.detector.detect(image)
        if not len(faces):
            continue
        centres = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2
        for r in annotated:
            x, y, w, h = (float(r[c]) for c in "xywh")
            d = np.linalg.norm(centres - [x + w / 2, y + h / 2], axis=1)
            i = int(np.argmin(d))
            if d[i] > w / 3:
                continue
            face = lifter.lift(image, faces[i])
            if abs(face.pose.yaw) > 15 or abs(face.pose.pitch) > 20 or face.score < 0.5:
                continue
            pupil_px = np.linalg.norm(face.pupils[0] - face.pupils[1]) / face.scale.mm_per_px
            ratios.append(pupil_px / face.scale.iris_px)
            iris_px.append(face.scale.iris_px)
    ratios = np.array(ratios)
    logs = np.log(ratios)
    robust_sd = float(1.4826 * np.median(np.abs(logs - np.median(logs))))
    anatomical = np.hypot(ANATOMICAL_IPD_SD / ANATOMICAL_IPD, IRIS_SD_MM / IRIS_MM)
    return {"faces": len(ratios), "median_ratio": float(np.median(ratios)),
            "anatomical_ratio": ANATOMICAL_IPD / 11.71, "iris_model_factor": float(ANATOMICAL_IPD / 11.71 / np.median(ratios)),
            "log_ratio_robust_sd": robust_sd, "anatomical_log_sd": float(anatomical),
            "iris_model_error": float(np.sqrt(max(robust_sd ** 2 - anatomical ** 2, 0.0))),
            "median_iris_px": float(np.median(iris_px))}


def part_icc(root: Path, ids: int, per_id: int) -> dict:
    from mien.face3d.measures import Measurer

    people = [(k, v) for k, v in lfw_identities(root).items() if len(v) >= per_id][:ids]
    measurer = Measurer()
    values: dict[str, list[np.ndarray]] = defaultdict(list)
    used = 0
    for _, photos in people:
        got = defaultdict(list)
        for path in photos[:per_id]:
            try:
                m = measurer.measure(path, largest=True)
            except InputError:
                continue
            if abs(m.face.pose.yaw) > MAX_YAW:
                continue
            used += 1
            for name in ICC_MEASURES:
                if m.value(name) is not None:
                    got[name].append(m.value(name))
            for name in SHAPE_MEASURES:
                if m.value(name) is not None and m.value("biocular_width"):
                    got[f"{name}/biocular"].append(m.value(name) / m.value("biocular_width"))
        for name, v in got.items():
            values[name].append(np.array(v))
    out = {}
    for name, groups in values.items():
        out[name] = {"icc": icc_1_1(groups), "within_cv": within_cv(groups),
                     "between_cv": float(np.std([g.mean() for g in groups if len(g) >= 2], ddof=1)
                                         / np.mean([g.mean() for g in groups if len(g) >= 2])),
                     "people": sum(len(g) >= 2 for g in groups)}
    return {"identities": len(people), "photos_used": used, "measures": out}


def part_ipd(root: Path, people: int) -> dict:
    from mien.attributes import get_attribute_model
    from mien.face3d.measures import Measurer

    measurer = Measurer()
    gender_model = get_attribute_model("gender")
    ipd: dict[str, list[float]] = defaultdict(list)
    for _, photos in list(lfw_identities(root).items())[:people]:
        image = load_image(photos[0])
        try:
            m = measurer.measure(image, largest=True, source=str(photos[0]))
        except InputError:
            continue
        if abs(m.face.pose.yaw) > MAX_YAW or m.value("ipd") is None:
            continue
        from mien.types import Faces

        faces = Faces(m.face.box[None], np.ones(1, np.float32))
        gender = gender_model.predict(image, faces)[0].value
        ipd[str(gender)].append(m.value("ipd"))
        ipd["all"].append(m.value("ipd"))
    return {g: {"n": len(v), "mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)),
                "p5": float(np.percentile(v, 5)), "p95": float(np.percentile(v, 95))} for g, v in ipd.items() if len(v) > 2}


def part_loop(root: Path, faces: int) -> dict:
    from mien.face3d.capture import FaceLifter
    from mien.face3d.measures import measure_face
    from mien.face3d.simulate import Changes, simulate
    from mien.match import verify_images

    from mien.landmarks import get_landmarker

    lifter = FaceLifter()
    dlib68 = get_landmarker("dlib68")
    pairs68 = {"nose_width": (31, 35), "mouth_width": (48, 54)}
    asks = {"nose_width": Changes(nose_width=-10), "mouth_width": Changes(mouth_width=10)}
    measured: dict[str, list[float]] = defaultdict(list)
    seen68: dict[str, list[float]] = defaultdict(list)
    unmarked: dict[str, list[float]] = defaultdict(list)
    same, total = 0, 0
    paths = [p[0] for p in lfw_identities(root).values()][:faces]
    for path in paths:
        image = load_image(path)
        try:
            before = lifter.lift(image, largest=True)
        except InputError:
            continue
        if abs(before.pose.yaw) > MAX_YAW:
            continue
        m0 = measure_face(before)
        if any(m0.value(name) is None for name in asks):
            continue  # refused (too small, mesh unsure): nothing to compare against
        for name, changes in asks.items():
            sim = simulate(image, changes, lifter=lifter, largest=True)
            m1 = measure_face(lifter.lift(sim.image, largest=True))
            if m1.value(name) is None:
                continue
            px0 = m0.value(name) / m0.face.scale.mm_per_px
            px1 = m1.value(name) / m1.face.scale.mm_per_px
            measured[name].append(100 * (px1 / px0 - 1))
            m2 = measure_face(lifter.lift(sim.edited, largest=True))
            if m2.value(name) is not None:
                unmarked[name].append(100 * (m2.value(name) / m2.face.scale.mm_per_px / px0 - 1))
            a, b = pairs68[name]
            w68 = [np.linalg.norm(np.diff(dlib68.predict(im, lifter.find(im, largest=True)).points[0][[a, b]], axis=0))
                   for im in (image, sim.image)]
            seen68[name].append(100 * (w68[1] / w68[0] - 1))
            total += 1
            try:
                same += verify_images(image, sim.image, fmr=1e-3, largest=True).same
            except InputError:
                pass
    out = {}
    for name, changes in asks.items():
        asked = getattr(changes, name)
        v = np.array(measured[name])
        out[name] = {"asked": asked, "faces": len(v), "median_measured": float(np.median(v)),
                     "mean_measured": float(v.mean()), "within_1_5_points": float(np.mean(np.abs(v - asked) <= 1.5)),
                     "followed_share": float(np.median(v) / asked),
                     "median_seen_by_dlib68": float(np.median(seen68[name])),
                     "median_measured_unmarked": float(np.median(unmarked[name]))}
    out["recognised_as_same"] = {"share": same / max(total, 1), "simulations": total, "fmr": 1e-3}
    return out


def part_avatar(root: Path, faces: int) -> dict:
    from mien.face3d.avatar import build_avatar
    from mien.face3d.capture import FaceLifter
    from mien.face3d.regions import POINTS

    lifter = FaceLifter()
    to_mesh, to_detector = [], []
    t0 = time.perf_counter()
    n = 0
    for photos in list(lfw_identities(root).values())[:faces]:
        image = load_image(photos[0])
        try:
            found = lifter.find(image, largest=True)
            avatar = build_avatar(image, lifter=lifter, texture_size=256)
        except InputError:
            continue
        n += 1
        proj = avatar.reprojection()
        face = avatar.face
        pupils = face.to_image(face.pupils)[:, :2]
        iod = np.linalg.norm(pupils[0] - pupils[1])
        to_mesh.append(np.median(np.linalg.norm(proj - face.image_points[:, :2], axis=1)) / iod)
        ours = np.stack([pupils[0], pupils[1], proj[POINTS["pronasale"]], proj[POINTS["cheilion_right"]],
                         proj[POINTS["cheilion_left"]]])
        theirs = found.landmarks[0]
        to_detector.append(np.mean(np.linalg.norm(ours - theirs, axis=1)) / iod)
    return {"faces": n, "seconds_per_avatar": (time.perf_counter() - t0) / max(n, 1),
            "median_error_vs_mesh": float(np.median(to_mesh)), "median_error_vs_centerface": float(np.median(to_detector)),
            "p90_error_vs_centerface": float(np.percentile(to_detector, 90))}


def table(result: dict) -> str:
    lines = []
    if "calibrate" in result:
        c = result["calibrate"]
        lines += ["### Scale calibration (WIDER FACE)", "", markdown_table(
            ["faces", "median pupil distance / model iris", "anatomical", "IRIS_MODEL_FACTOR", "IRIS_MODEL_ERROR"],
            [[c["faces"], c["median_ratio"], c["anatomical_ratio"], c["iris_model_factor"], c["iris_model_error"]]]), ""]
    if "icc" in result:
        r = result["icc"]
        lines += [f"### Repeatability on LFW ({r['identities']} identities, {r['photos_used']} photos at |yaw| <= 20)", "",
                  markdown_table(["measure", "ICC(1,1)", "within-person CV", "between-person CV", "people"],
                                 [[k, v["icc"], v["within_cv"], v["between_cv"], v["people"]]
                                  for k, v in r["measures"].items()]), ""]
    if "ipd" in result:
        lines += ["### IPD on LFW (mm; gender estimated by dlib-gender)", "", markdown_table(
            ["group", "n", "mean", "SD", "5th pct", "95th pct"],
            [[g, v["n"], v["mean"], v["sd"], v["p5"], v["p95"]] for g, v in result["ipd"].items()]), ""]
    if "loop" in result:
        r = result["loop"]
        rows = [[k, v["asked"], v["faces"], v["median_measured"], v["within_1_5_points"], v["followed_share"],
                 v.get("median_measured_unmarked", ""), v.get("median_seen_by_dlib68", "")]
                for k, v in r.items() if k != "recognised_as_same"]
        lines += ["### Simulator closed loop on LFW (change measured back by the mesh, in pixels)", "", markdown_table(
            ["measure", "asked %", "faces", "median measured %", "share within 1.5 points", "median measured / asked",
             "median measured before the watermark %", "median seen by dlib68 %"], rows),
            "", f"Recognised as the same person (dlib-resnet, FMR 1e-3): {r['recognised_as_same']['share']:.3f} of "
            f"{r['recognised_as_same']['simulations']} simulations.", ""]
    if "avatar" in result:
        a = result["avatar"]
        lines += ["### Avatar reprojection on LFW (share of the inter-ocular distance)", "", markdown_table(
            ["faces", "median vs mesh", "median vs CenterFace 5 points", "90th pct vs CenterFace", "s / avatar"],
            [[a["faces"], a["median_error_vs_mesh"], a["median_error_vs_centerface"], a["p90_error_vs_centerface"],
              a["seconds_per_avatar"]]]), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["all", "calibrate", "icc", "ipd", "loop", "avatar"], default="all")
    parser.add_argument("--quick", action="store_true", help="small samples, for a smoke run")
    parser.add_argument("--ids", type=int, default=50, help="icc: identities (4 photos each)")
    parser.add_argument("--people", type=int, default=300, help="ipd: identities, one photo each")
    parser.add_argument("--faces", type=int, default=200, help="loop and avatar: LFW faces")
    args = parser.parse_args()
    if args.quick:
        args.ids, args.people, args.faces = 10, 40, 20
    root = data_root()
    parts = ["calibrate", "icc", "ipd", "loop", "avatar"] if args.part == "all" else [args.part]
    result: dict = {"meta": header()}
    previous = ROOT / "docs" / "benchmarks" / "face3d.json"
    if args.part != "all" and previous.is_file():  # one part again: keep the others' last numbers
        import json

        result = {**json.loads(previous.read_text()), "meta": header()}
    for part in parts:
        t0 = time.perf_counter()
        if part == "calibrate":
            result[part] = part_calibrate(root, args.quick)
        elif part == "icc":
            result[part] = part_icc(root, args.ids, 4)
        elif part == "ipd":
            result[part] = part_ipd(root, args.people)
        elif part == "loop":
            result[part] = part_loop(root, args.faces)
        else:
            result[part] = part_avatar(root, min(args.faces, 100))
        print(f"{part}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    write_outputs("face3d", result, table(result))


if __name__ == "__main__":
    main()
