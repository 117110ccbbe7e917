"""Grouping unknown faces into people (``mien.collection.cluster``) on LFW, against the usual anchors.

    python benchmarks/collection_cluster_lfw.py [--data ../shared/data] [--cache /tmp/mien_cluster_cache]
                                                [--embed-only] [--no-utk] [--out docs/benchmarks]

Embeddings are mien's own: every LFW image (the 7,701 of identities.csv) goes through the
recognition detector (CenterFace at the recognition size, with the fallback and landmark
refinement of ``mien.match.faces``) and ``get_embedder("dlib-resnet")``. Every face found is
embedded; the face nearest the image centre is the labelled one, the others are clustered
too (they share the image's photo id, so never the labelled face's cluster) but not scored.
Images where nothing is found add no face and are scored as unassigned singletons.
Vectors are cached in ``--cache`` so reruns only cluster.

Scored on labelled faces, labels hidden from every method: BCubed precision / recall / F1
(an unassigned face is its own singleton), the share unassigned, F1 over assigned faces only,
and the number of clusters. Anchors run on the same vectors in the same run: dlib's
Chinese whispers at 0.5 (what face_recognition users run), scikit-learn DBSCAN (eps swept,
min_samples 1 and 2) and HDBSCAN. Our thresholds are swept on half the identities (chosen
by a fixed hash of the name), the best is reported on the other half and on all; the
anchors' sweeps are chosen the same way, so no one is given the test half.

Children: UTKFace faces aged 1-12 and adults 20-50 (a few hundred each), embedded with
dlib-resnet and faceres; the impostor rate (share of pairs of different images closer than
the bar) per age band, at the normal threshold, the young threshold, and with the faceres
second opinion. UTKFace has no identity labels: every pair of different images is counted
as two different people (a few pairs of one person's two photos inflate the rate slightly,
equally for every band).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import data_root, header, markdown_table

NAME = "collection_cluster_lfw"


# ---------------------------------------------------------------------------------- embeddings

def lfw_embeddings(data: Path, cache: Path) -> dict[str, np.ndarray]:
    """Every face of every LFW image: vectors (F, 128), photo (F,), labelled (F,) bool,
    identity (F,) str ('' for unlabelled faces), plus per-image 'paths' and 'image_identity'."""
    file = cache / "lfw_dlib_faces.npz"
    if file.is_file():
        z = np.load(file, allow_pickle=False)
        return {k: z[k] for k in z.files}
    from mien.embed import get_embedder
    from mien.image import load_image
    from mien.match.faces import detect_with_fallback, recognition_detector

    with open(data / "identities.csv", newline="") as fh:
        rows = sorted((r["path"], r["identity"]) for r in csv.DictReader(fh))
    detector = recognition_detector()
    embedder = get_embedder("dlib-resnet")
    vecs, photo, labelled, ident, eye = [], [], [], [], []
    start = time.perf_counter()
    for i, (rel, who) in enumerate(rows):
        image = load_image(data / rel)
        faces, _ = detect_with_fallback(image, detector)
        if len(faces):
            h, w = image.shape[:2]
            centres = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2
            main = int(np.argmin(((centres - [w / 2, h / 2]) ** 2).sum(axis=1)))
            emb = embedder.embed_faces(image, faces).vectors
            for j in range(len(faces)):
                vecs.append(emb[j])
                photo.append(i)
                labelled.append(j == main)
                ident.append(who if j == main else "")
                lm = faces.landmarks[j] if faces.landmarks is not None else None
                eye.append(float(np.linalg.norm(lm[0] - lm[1])) if lm is not None else 0.0)
        if (i + 1) % 500 == 0:
            print(f"  lfw {i + 1}/{len(rows)} images, {len(vecs)} faces, {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)
    out = {"vectors": np.asarray(vecs, np.float32), "photo": np.asarray(photo, np.int64),
           "labelled": np.asarray(labelled, bool), "identity": np.asarray(ident),
           "eye_distance": np.asarray(eye, np.float32),
           "paths": np.asarray([r for r, _ in rows]), "image_identity": np.asarray([w for _, w in rows]),
           "seconds": np.float64(time.perf_counter() - start)}
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(file, **out)
    return out


def utk_embeddings(data: Path, cache: Path, per_band: int = 60, adults: int = 300, seed: int = 0) -> dict[str, np.ndarray]:
    """UTKFace faces aged 1-12 (``per_band`` per year of age) and ``adults`` aged 20-50:
    dlib-resnet and faceres vectors of the largest face found (rows without a face dropped)."""
    file = cache / f"utk_children_{per_band}_{adults}_{seed}.npz"
    if file.is_file():
        z = np.load(file, allow_pickle=False)
        return {k: z[k] for k in z.files}
    from mien.embed import get_embedder
    from mien.image import load_image
    from mien.match.faces import detect_with_fallback, recognition_detector

    with open(data / "labels.csv", newline="") as fh:
        rows = [(r["path"], int(r["age"])) for r in csv.DictReader(fh)]
    rng = np.random.default_rng(seed)
    chosen: list[tuple[str, int]] = []
    for age in range(1, 13):
        band = sorted(r for r in rows if r[1] == age)
        take = rng.choice(len(band), size=min(per_band, len(band)), replace=False)
        chosen += [band[k] for k in sorted(take)]
    grown = sorted(r for r in rows if 20 <= r[1] <= 50)
    chosen += [grown[k] for k in sorted(rng.choice(len(grown), size=adults, replace=False))]
    detector = recognition_detector()
    dlib_model, second_model = get_embedder("dlib-resnet"), get_embedder("faceres")
    d, s, ages, paths = [], [], [], []
    start = time.perf_counter()
    for i, (rel, age) in enumerate(chosen):
        image = load_image(data / rel)
        faces, _ = detect_with_fallback(image, detector)
        if not len(faces):
            continue
        face = faces.largest()
        d.append(dlib_model.embed_faces(image, face).vectors[0])
        s.append(second_model.embed_faces(image, face).vectors[0])
        ages.append(age)
        paths.append(rel)
        if (i + 1) % 200 == 0:
            print(f"  utk {i + 1}/{len(chosen)}, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    out = {"dlib": np.asarray(d, np.float32), "faceres": np.asarray(s, np.float32),
           "age": np.asarray(ages, np.int64), "paths": np.asarray(paths)}
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(file, **out)
    return out


def lfw_second(data: Path, cache: Path, lfw: dict[str, np.ndarray], count: int = 600) -> dict[str, np.ndarray]:
    """faceres vectors of the labelled face of ``count`` LFW images of people with 2+ images
    (the first images of each such person in name order): the genuine side of the second opinion."""
    file = cache / f"lfw_faceres_{count}.npz"
    if file.is_file():
        z = np.load(file, allow_pickle=False)
        return {k: z[k] for k in z.files}
    from mien.embed import get_embedder
    from mien.image import load_image
    from mien.match.faces import detect_with_fallback, recognition_detector
    from mien.types import Faces  # noqa: F401

    rows = np.flatnonzero(lfw["labelled"])
    ident = lfw["identity"][rows]
    names, counts = np.unique(ident, return_counts=True)
    multi = set(names[counts >= 2])
    picked: list[int] = []
    for name in sorted(multi):
        picked += [int(r) for r in rows[ident == name][:4]]
        if len(picked) >= count:
            break
    detector, model = recognition_detector(), get_embedder("faceres")
    vecs, face_rows = [], []
    for r in picked:
        image = load_image(data / str(lfw["paths"][lfw["photo"][r]]))
        faces, _ = detect_with_fallback(image, detector)
        h, w = image.shape[:2]
        centres = (faces.boxes[:, :2] + faces.boxes[:, 2:]) / 2
        main = int(np.argmin(((centres - [w / 2, h / 2]) ** 2).sum(axis=1)))
        vecs.append(model.embed_faces(image, faces[main : main + 1]).vectors[0])
        face_rows.append(r)
    out = {"faceres": np.asarray(vecs, np.float32), "rows": np.asarray(face_rows, np.int64)}
    np.savez(file, **out)
    return out


# ------------------------------------------------------------------------------------- scoring

def bcubed(truth: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """BCubed precision, recall, F1; label -1 = its own singleton. Also F1 over assigned items only."""
    labels = labels.copy()
    free = labels < 0
    labels[free] = labels.max(initial=-1) + 1 + np.arange(free.sum())

    def prf(t: np.ndarray, c: np.ndarray) -> tuple[float, float, float]:
        _, ti = np.unique(t, return_inverse=True)
        _, ci = np.unique(c, return_inverse=True)
        pair = ti.astype(np.int64) * (ci.max() + 1) + ci
        _, pi, pc = np.unique(pair, return_inverse=True, return_counts=True)
        both = pc[pi]
        p = float(np.mean(both / np.bincount(ci)[ci]))
        r = float(np.mean(both / np.bincount(ti)[ti]))
        return p, r, 2 * p * r / (p + r)

    p, r, f = prf(truth, labels)
    _, _, fa = prf(truth[~free], labels[~free]) if (~free).any() else (0, 0, 0.0)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "unassigned": round(float(free.mean()), 4),
            "f1_assigned": round(fa, 4), "clusters": len(np.unique(labels[~free]))}


def half_of(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 2


def score(lfw: dict, faces: np.ndarray, images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Metrics over the images ``images`` (indices into lfw['paths']): each image's labelled face's
    label among ``labels`` (aligned with ``faces``, rows of lfw), -1 where no face was found."""
    per_image = np.full(len(lfw["paths"]), -1, np.int64)
    lab_rows = np.flatnonzero(lfw["labelled"][faces])
    per_image[lfw["photo"][faces][lab_rows]] = labels[lab_rows]
    return bcubed(lfw["image_identity"][images], per_image[images])


# ------------------------------------------------------------------------------------- methods

def run_ours(lfw: dict, faces: np.ndarray, params, normalised: bool = False) -> np.ndarray:
    from mien.collection.cluster import ClusterInput, cluster

    n = len(faces)
    norm = cohort_stats(lfw)[faces] if normalised else None
    inp = ClusterInput(lfw["vectors"][faces], lfw["photo"][faces], np.ones(n, bool), np.zeros(n, bool), norm=norm)
    return cluster(inp, params)


_STATS: dict[int, np.ndarray] = {}


def cohort_stats(lfw: dict) -> np.ndarray:
    """(N, 2) AS-norm statistics of every LFW face against the shipped UTKFace cohort (what
    `mien cluster --cohort utkface` uses: another domain, no LFW face in it)."""
    key = id(lfw)
    if key not in _STATS:
        from mien.collection.people import cluster_cohort

        mean, spread = cluster_cohort("utkface").impostor_stats(lfw["vectors"])
        _STATS[key] = np.stack([mean, spread], axis=1)
    return _STATS[key]


def run_whispers(lfw: dict, faces: np.ndarray, threshold: float) -> np.ndarray:
    import dlib

    return np.asarray(dlib.chinese_whispers_clustering([dlib.vector(v.astype(float).tolist()) for v in lfw["vectors"][faces]],
                                                       threshold), np.int64)


def run_dbscan(lfw: dict, faces: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    from sklearn.cluster import DBSCAN

    return DBSCAN(eps=eps, min_samples=min_samples, metric="euclidean", n_jobs=1).fit_predict(lfw["vectors"][faces]).astype(np.int64)


def run_hdbscan(lfw: dict, faces: np.ndarray, min_cluster_size: int, eps: float) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    return HDBSCAN(min_cluster_size=min_cluster_size, min_samples=1, cluster_selection_epsilon=eps,
                   metric="euclidean").fit_predict(lfw["vectors"][faces]).astype(np.int64)


def sweeps() -> dict[str, list[dict]]:
    from mien.collection.cluster import ClusterParams

    ts = [round(0.40 + 0.02 * i, 2) for i in range(12)]
    ours = [{"threshold": round(0.46 + 0.01 * i, 2), "k": k, "radius": 0.65} for i in range(9) for k in (16, 32)]
    return {
        "mien cluster": [dict(c, params=ClusterParams(threshold=c["threshold"], young_threshold=min(c["threshold"], 0.45),
                                                      radius=c["radius"], k=c["k"])) for c in ours],
        "mien cluster + AS-norm (UTKFace cohort)": [
            {"normalised_threshold": t, "params": ClusterParams(normalised_threshold=t, young_normalised_threshold=t - 2.8)}
            for t in (-3.5, -4.0, -4.25, -4.5, -4.75, -5.0, -5.5)],
        "dlib chinese whispers": [{"threshold": t} for t in ts],
        "DBSCAN min_samples=1": [{"eps": t, "min_samples": 1} for t in ts],
        "DBSCAN min_samples=2": [{"eps": t, "min_samples": 2} for t in ts],
        "HDBSCAN": [{"min_cluster_size": m, "eps": e} for m in (2, 3, 5) for e in (0.0, 0.2, 0.3)],
    }


def run_method(method: str, config: dict, lfw: dict, faces: np.ndarray) -> np.ndarray:
    if method == "mien cluster":
        return run_ours(lfw, faces, config["params"])
    if method.startswith("mien cluster + AS-norm"):
        return run_ours(lfw, faces, config["params"], normalised=True)
    if method.startswith("dlib"):
        return run_whispers(lfw, faces, config["threshold"])
    if method.startswith("DBSCAN"):
        return run_dbscan(lfw, faces, config["eps"], config["min_samples"])
    return run_hdbscan(lfw, faces, config["min_cluster_size"], config["eps"])


def clustering(lfw: dict) -> dict:
    n_img = len(lfw["paths"])
    img_half = np.array([half_of(str(w)) for w in lfw["image_identity"]])
    face_half = img_half[lfw["photo"]]
    parts = {"A": (np.flatnonzero(face_half == 0), np.flatnonzero(img_half == 0)),
             "B": (np.flatnonzero(face_half == 1), np.flatnonzero(img_half == 1)),
             "all": (np.arange(len(lfw["photo"])), np.arange(n_img))}
    result: dict = {"sweep": {}, "chosen": {}}
    for method, configs in sweeps().items():
        rows = []
        for config in configs:
            start = time.perf_counter()
            labels = run_method(method, config, lfw, parts["A"][0])
            m = score(lfw, parts["A"][0], parts["A"][1], labels)
            rows.append({**{k: v for k, v in config.items() if k != "params"}, **m,
                         "seconds": round(time.perf_counter() - start, 2)})
            print(f"  {method} {rows[-1]}", file=sys.stderr, flush=True)
        result["sweep"][method] = rows
        best = max(range(len(configs)), key=lambda i: (rows[i]["f1"], -i))
        chosen = {"config": {k: v for k, v in configs[best].items() if k != "params"}, "A": rows[best]}
        for part in ("B", "all"):
            start = time.perf_counter()
            labels = run_method(method, configs[best], lfw, parts[part][0])
            chosen[part] = {**score(lfw, parts[part][0], parts[part][1], labels), "seconds": round(time.perf_counter() - start, 2)}
        result["chosen"][method] = chosen
    # the fixed settings people run, and our shipped defaults, on all
    from mien.collection.cluster import ClusterParams

    fixed = {"dlib chinese whispers @0.5 (face_recognition)": ("dlib chinese whispers", {"threshold": 0.5}),
             "mien cluster defaults": ("mien cluster", {"params": ClusterParams()})}
    result["fixed"] = {}
    for label, (method, config) in fixed.items():
        out = {}
        for part in ("A", "B", "all"):
            start = time.perf_counter()
            labels = run_method(method, config, lfw, parts[part][0])
            out[part] = {**score(lfw, parts[part][0], parts[part][1], labels), "seconds": round(time.perf_counter() - start, 2)}
        result["fixed"][label] = out
    # same-photo constraint: how many labelled faces share a photo with another face
    result["data"] = {"images": n_img, "faces": len(lfw["photo"]), "labelled": int(lfw["labelled"].sum()),
                      "no_face": int(n_img - lfw["labelled"].sum()),
                      "identities": len(np.unique(lfw["image_identity"])),
                      "images_A": len(parts["A"][1]), "images_B": len(parts["B"][1]),
                      "embed_seconds": float(lfw["seconds"])}
    return result


# ------------------------------------------------------------------------------------ children

BANDS = (("1-2", 1, 2), ("3-4", 3, 4), ("5-6", 5, 6), ("7-8", 7, 8), ("9-12", 9, 12), ("20-50", 20, 50))


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def children(utk: dict, lfw: dict, second: dict) -> dict:
    from mien.collection.cluster import ClusterParams

    defaults = ClusterParams()
    d_thresholds = (0.6, defaults.threshold, 0.5, 0.45, 0.4, 0.35)
    s_thresholds = (0.3, 0.4, 0.5, 0.6)
    out: dict = {"bands": {}}
    for name, lo, hi in BANDS:
        sel = np.flatnonzero((utk["age"] >= lo) & (utk["age"] <= hi))
        x, y = utk["dlib"][sel], unit(utk["faceres"][sel])
        iu = np.triu_indices(len(sel), 1)
        d = np.linalg.norm(x[:, None] - x[None], axis=2)[iu]
        c = (y @ y.T)[iu]
        band = {"faces": len(sel), "pairs": len(d), "median_distance": round(float(np.median(d)), 4)}
        for t in d_thresholds:
            band[f"d<{t}"] = float(np.mean(d < t))
            for s in s_thresholds:
                band[f"d<{t}&cos>={s}"] = float(np.mean((d < t) & (c >= s)))
        out["bands"][name] = band
    # genuine side (LFW adults): same-identity pairs of labelled faces
    rows = np.flatnonzero(lfw["labelled"])
    ident = lfw["identity"][rows]
    x = lfw["vectors"][rows]
    order = np.argsort(ident, kind="stable")
    gd = []
    _names, starts, counts = np.unique(ident[order], return_index=True, return_counts=True)
    for s0, cnt in zip(starts, counts):
        if cnt >= 2:
            m = x[order[s0 : s0 + cnt]]
            gd.append(np.linalg.norm(m[:, None] - m[None], axis=2)[np.triu_indices(cnt, 1)])
    gd = np.concatenate(gd)
    gen = {"pairs": len(gd)}
    for t in d_thresholds:
        gen[f"d<{t}"] = float(np.mean(gd < t))
    sr = second["rows"]
    si = lfw["identity"][sr]
    iu = np.triu_indices(len(sr), 1)
    same = (si[:, None] == si[None])[iu]
    dd = np.linalg.norm(lfw["vectors"][sr][:, None] - lfw["vectors"][sr][None], axis=2)[iu][same]
    fr = unit(second["faceres"])
    cc = (fr @ fr.T)[iu][same]
    gen["subset_pairs"] = int(same.sum())
    for t in d_thresholds:
        gen[f"subset d<{t}"] = float(np.mean(dd < t))
        for s in s_thresholds:
            gen[f"subset d<{t}&cos>={s}"] = float(np.mean((dd < t) & (cc >= s)))
    out["genuine_lfw"] = gen
    return out


# --------------------------------------------------------------------------------------- output

def tables(res: dict) -> str:
    cols = ["method", "setting (chosen on half A)", "F1 half B", "F1 all", "precision", "recall", "unassigned",
            "F1 assigned", "clusters", "seconds (all)"]
    rows = []
    for method, ch in res["clustering"]["chosen"].items():
        a = ch["all"]
        rows.append([method, json.dumps(ch["config"]), ch["B"]["f1"], a["f1"], a["precision"], a["recall"], a["unassigned"],
                     a["f1_assigned"], a["clusters"], a["seconds"]])
    for label, fx in res["clustering"]["fixed"].items():
        a = fx["all"]
        rows.append([label, "fixed", fx["B"]["f1"], a["f1"], a["precision"], a["recall"], a["unassigned"],
                     a["f1_assigned"], a["clusters"], a["seconds"]])
    text = markdown_table(cols, rows)
    if "children" in res:
        ch = res["children"]
        keys = [k for k in next(iter(ch["bands"].values())) if k.startswith("d<") and ("&" not in k or k.endswith("cos>=0.5"))]
        crow = [[name] + [b["faces"], b["median_distance"]] + [f"{b[k]:.2e}" for k in keys] for name, b in ch["bands"].items()]
        text += "\n\nImpostor rate by age (UTKFace, every pair of different images):\n\n"
        text += markdown_table(["age", "faces", "median d"] + keys, crow)
        g = ch["genuine_lfw"]
        text += "\n\nGenuine pass rate (LFW same-person pairs; the cos columns on the faceres subset):\n\n"
        gk = [k for k in g if k.startswith("d<")] + [k for k in g if k.startswith("subset") and k.endswith("cos>=0.5")]
        text += markdown_table(gk, [[f"{g[k]:.4f}" for k in gk]])
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=data_root())
    ap.add_argument("--cache", type=Path, default=Path("/tmp/mien_cluster_cache"))
    ap.add_argument("--embed-only", action="store_true")
    ap.add_argument("--no-utk", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the results JSON here")
    args = ap.parse_args(argv)
    lfw = lfw_embeddings(args.data / "lfw", args.cache)
    utk = sec = None
    if not args.no_utk:
        utk = utk_embeddings(args.data / "utkface", args.cache)
        sec = lfw_second(args.data / "lfw", args.cache, lfw)
    if args.embed_only:
        return 0
    res = {"meta": header(), "clustering": clustering(lfw)}
    if utk is not None:
        res["children"] = children(utk, lfw, sec)
    text = json.dumps(res, indent=2, default=str)
    if args.json:
        args.json.write_text(text)
    print(text)
    print()
    print(tables(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
