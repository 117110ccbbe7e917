"""How good are mien's generated faces, and how robust is the provenance watermark?

    nice -n 19 python benchmarks/generation.py [--model gan128] [--n 500] [--heldout 1000] [--part all|prep|guard|samples]
                                               [--second-opinion faceres] [--cache DIR]

Everything is measured against the held-out tenth of UTKFace that training never saw
(``mien.generate.data``). Real faces go through the same path as generated ones: the
network's resolution (UTKFace's 128x128, box-filtered to 64x64 for ``gan64``), bicubic to
256x256; generated faces are mien's finished output (network output upscaled to 256 px,
watermarked). Results go to docs/benchmarks/generation_<model>.{json,md}.

* Frechet distance between dlib face embeddings (128-D, ``dlib-resnet``) of generated
  and held-out real faces, and k-NN precision / recall (Kynkaenniemi et al. 2019, k=3);
  the same for an eigenface baseline (per-condition mean + Gaussian sampling of the top
  PCA components of the training pixels) and, as a floor, for real training faces.
* Share of images where mien's default detector finds exactly one face.
* Condition accuracy: dlib-gender agrees with the requested gender; dlib-age's estimate
  falls in the requested age band (exact, and within one band); the same models on the
  real held-out faces with their true labels give the ceiling.
* Memorisation: for each generated face the nearest training face by dlib distance;
  share closer than 0.6 (dlib's same-person threshold, a 1:1 bar) and than the 1:N bar: the
  distance at which a face with nobody of its own among the embedded training faces would
  find a false match with 1% probability, from all LFW impostor pairs through the same path;
  against all 17,161 training faces (embedded once and cached: about 15 CPU minutes).
  Held-out real faces give the reference (UTKFace repeats people across files). Measured for
  the raw generator and for its default output, which the memorisation guard
  (``mien.generate.guard``) has filtered; ``--part guard`` builds the guard's file from the
  same embeddings and bar. ``--second-opinion faceres`` repeats the check in another
  embedder's space with that embedder's own 1:N bar (dlib cannot separate young children).
* Generation speed (images/s on CPU): raw network output, batch 64, and finished 256 px (upscale + mark).
* Watermark: bit accuracy and detection after JPEG 75, resize to half, a 10% crop and all
  three; false positives on every LFW image. ``--part prep`` computes and caches
  everything that does not depend on the generator (held-out, training, LFW).

Conditions for generated and baseline faces are drawn with the held-out set's
(age band, gender) frequencies, so the sets are comparable.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, data_root, header, markdown_table, write_outputs  # noqa: E402

from mien.generate.data import AGE_BANDS, GENDERS, age_band_index, load_pixels, load_records  # noqa: E402

SIZE = 256
SAME_PERSON = 0.6
SEED = 2026


# ---------------------------------------------------------------- embeddings and faces


def to_output_size(faces64: np.ndarray) -> np.ndarray:
    from mien.generate.gan import upscale

    return upscale(faces64, SIZE)


def analyse(images: np.ndarray, label: str, attributes: bool = False) -> dict[str, np.ndarray]:
    """Detector face count, dlib embedding of the largest face (NaN if none), optional age/gender."""
    from mien.attributes import get_attribute_model
    from mien.detect import get_detector
    from mien.embed import get_embedder
    from mien.generate.guard import largest_face

    detector = get_detector()
    embedder = get_embedder("dlib-resnet")
    age_model = get_attribute_model("age") if attributes else None
    gender_model = get_attribute_model("gender") if attributes else None
    n = len(images)
    counts = np.zeros(n, np.int32)
    emb = np.full((n, 128), np.nan, np.float32)
    age = np.full(n, np.nan)
    female = np.full(n, np.nan)
    t0 = time.time()
    for i, img in enumerate(images):
        counts[i], one = largest_face(detector, img)
        if one is None:
            continue
        emb[i] = embedder.embed(embedder.align(img, one)).vectors[0]
        if attributes:
            age[i] = age_model(img, one)[0].value
            female[i] = gender_model.probabilities(img, one)[0][0]
        if (i + 1) % 200 == 0:
            print(f"  {label}: {i + 1}/{n} ({(time.time() - t0) / (i + 1) * 1000:.0f} ms/img)", file=sys.stderr, flush=True)
    return {"counts": counts, "emb": emb, "age": age, "female": female}


def cached(cache: Path, name: str, make) -> dict[str, np.ndarray]:
    path = cache / f"{name}.npz"
    if path.is_file():
        return dict(np.load(path))
    out = make()
    np.savez(path, **out)
    return out


# ---------------------------------------------------------------- metrics


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr(sqrt(S1 S2)) = sum of sqrt of the (real, non-negative) eigenvalues of S1 S2
    eig = np.linalg.eigvals(s1 @ s2)
    tr_sqrt = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def _dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T
    return np.sqrt(np.clip(d, 0, None))


def knn_precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    def radii(x):
        d = _dists(x, x)
        return np.sort(d, axis=1)[:, k]  # index 0 is the point itself

    r_real, r_fake = radii(real), radii(fake)
    d = _dists(fake, real)
    precision = float((d <= r_real[None]).any(1).mean())
    recall = float((d.T <= r_fake[None]).any(1).mean())
    return precision, recall


def quality_row(name: str, emb: np.ndarray, real: np.ndarray) -> dict:
    ok = emb[~np.isnan(emb).any(1)]
    if len(ok) < 10:  # too few faces found to estimate anything
        return {"set": name, "embedded": int(len(ok)), "frechet": None, "precision": None, "recall": None}
    p, r = knn_precision_recall(real, ok)
    return {"set": name, "embedded": int(len(ok)), "frechet": round(frechet(ok, real), 4), "precision": round(p, 3), "recall": round(r, 3)}


# ---------------------------------------------------------------- sets


def condition_draw(held: list, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.integers(0, len(held), n)
    return np.array([held[i].band for i in idx]), np.array([held[i].gender for i in idx])


def pca(x: np.ndarray, k: int, n_fit: int = 2000, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, top-k components (k, D) and their standard deviations, from the Gram matrix of a subset."""
    sub = x[np.random.default_rng(seed).choice(len(x), min(n_fit, len(x)), replace=False)].astype(np.float64)
    mean = sub.mean(0)
    c = sub - mean
    vals, vecs = np.linalg.eigh(c @ c.T)
    order = np.argsort(vals)[::-1][:k]
    vals, vecs = np.clip(vals[order], 1e-9, None), vecs[:, order]
    comps = (vecs.T @ c) / np.sqrt(vals)[:, None]
    return mean.astype(np.float32), comps.astype(np.float32), np.sqrt(vals / (len(sub) - 1)).astype(np.float32)


def eigenface_samples(train_px: np.ndarray, bands: np.ndarray, genders: np.ndarray, train_b, train_g, rng, k: int = 64) -> np.ndarray:
    """Per-condition mean face + Gaussian sampling of the top-k PCA components (fit on training pixels)."""
    x = train_px.reshape(len(train_px), -1)  # uint8: subsets are cast, never the whole set
    mean, comps, std = pca(x, k)
    cmeans = {}
    out = np.empty((len(bands), x.shape[1]), np.float32)
    for i, (b, g) in enumerate(zip(bands, genders)):
        if (b, g) not in cmeans:
            sel = (train_b == b) & (train_g == g)
            cmeans[b, g] = x[sel].mean(0, dtype=np.float64).astype(np.float32) if sel.sum() >= 10 else mean
        out[i] = cmeans[b, g] + (rng.standard_normal(k) * std) @ comps
    return np.clip(out, 0, 255).astype(np.uint8).reshape((-1,) + train_px.shape[1:])


def train_embeddings(cache: Path, indices: np.ndarray, name: str, size: int = 64) -> dict[str, np.ndarray]:
    """Embeddings of the training faces at ``indices`` (into load_records("train")), cached."""
    def make():
        recs = load_records("train")
        out = {"counts": [], "emb": []}
        for i in range(0, len(indices), 500):
            part = analyse(to_output_size(load_pixels([recs[j] for j in indices[i:i + 500]], size)), f"{name} {i}")
            out["counts"].append(part["counts"])
            out["emb"].append(part["emb"])
        return {"index": np.asarray(indices), **{k: np.concatenate(v) for k, v in out.items()}}

    return cached(cache, name, make)


def random_train_indices(n_train: int, n: int) -> np.ndarray:
    return np.sort(np.random.default_rng(SEED + 1).choice(n_train, min(n, n_train), replace=False))


def heldout_subset(n: int) -> list:
    held = load_records("heldout")
    idx = np.sort(np.random.default_rng(SEED + 2).choice(len(held), min(n, len(held)), replace=False))
    return [held[i] for i in idx]


def lfw_impostor_distances(cache: Path, embedder: str = "dlib-resnet") -> np.ndarray:
    """Distances of every LFW pair of different people in ``embedder``'s space (its metric),
    through the same detect-align-embed path (largest CenterFace face) as the generated faces."""
    import csv

    from mien.embed import embedder_class
    from mien.embed.base import pairwise_distances
    from mien.generate.guard import embed_faces
    from mien.image import load_image

    def make():
        root = data_root() / "lfw"
        rows = list(csv.DictReader(open(root / "identities.csv")))
        parts = [embed_faces(np.stack([load_image(root / r["path"]) for r in rows[i:i + 500]]), embedder)
                 for i in range(0, len(rows), 500)]
        return {"emb": np.concatenate(parts), "identity": np.array([r["identity"] for r in rows])}

    name = "lfw_dlib_embeddings" if embedder == "dlib-resnet" else f"lfw_{embedder}_embeddings"
    lfw = cached(cache, name, make)
    metric = embedder_class(embedder).info.metric
    ok = ~np.isnan(lfw["emb"]).any(1)
    emb, ids = lfw["emb"][ok], lfw["identity"][ok]
    parts = []
    for i in range(0, len(emb), 500):
        d = pairwise_distances(emb[i:i + 500], emb, metric)
        upper = np.arange(i, i + len(d))[:, None] < np.arange(len(emb))[None]
        parts.append(d[upper & (ids[i:i + 500, None] != ids[None])])
    return np.concatenate(parts)


AGE_PARTS = (("all ages", lambda b: b >= 0), ("ages 10+", lambda b: b > 0), ("ages 0-9", lambda b: b == 0))


def second_opinion(cache: Path, embedder: str, train_recs: list, held_recs: list, fakes: list, size: int, tag: str) -> dict:
    """Memorisation in another embedder's space: its own 1:N bar (LFW impostors through the same
    largest-face path) against every training face, per age group, for generated and held-out faces."""
    from mien.embed import embedder_class
    from mien.generate.guard import embed_faces

    metric = embedder_class(embedder).info.metric

    def embed_records(recs, name):
        def make():
            parts = [embed_faces(to_output_size(load_pixels(recs[i:i + 500], size)), embedder)
                     for i in range(0, len(recs), 500)]
            return {"emb": np.concatenate(parts)}
        return cached(cache, f"{name}_{embedder}", make)["emb"]

    train = embed_records(train_recs, f"train_all{len(train_recs)}{tag}")
    train = train[~np.isnan(train).any(1)]
    bar, fmr = gallery_threshold(lfw_impostor_distances(cache, embedder), len(train))

    held = embed_records(held_recs, f"heldout_all{len(held_recs)}{tag}")
    sets = [(name, embed_faces(images, embedder), bands_of) for name, images, bands_of in fakes]
    sets.append((f"held-out real (all {len(held_recs)})", held, np.array([r.band for r in held_recs])))
    rows = []
    for name, emb, b in sets:
        ok = ~np.isnan(emb).any(1)
        near, b = nearest_distances(emb[ok], train, metric), b[ok]
        for part, select in AGE_PARTS:
            keep = select(b)
            rows.append({"set": name, "ages": part, "faces": int(keep.sum()),
                         "share_below_gallery_threshold": round(float(np.mean(near[keep] < bar)), 4) if keep.any() else None,
                         "median_nearest": round(float(np.median(near[keep])), 4) if keep.any() else None})
    return {"embedder": embedder, "metric": metric, "gallery_threshold": round(float(bar), 4),
            "gallery_threshold_pair_fmr": float(f"{fmr:.3g}"), "training_faces_embedded": int(len(train)), "rows": rows}


def nearest_distances(emb: np.ndarray, gallery: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Distance from each row of ``emb`` to its nearest row of ``gallery``."""
    from mien.embed.base import pairwise_distances

    return np.concatenate([np.zeros(0)] + [pairwise_distances(emb[i:i + 256], gallery, metric).min(1)
                                           for i in range(0, len(emb), 256)])


def band_thresholds(held_near: np.ndarray, held_bands: np.ndarray, strict: float) -> np.ndarray:
    """The guard's bar per age band: the 1:N bar, except where unseen real faces of the band
    fall under it more than half the time (dlib cannot tell them apart): their 5th percentile."""
    out = np.full(len(AGE_BANDS), strict)
    for b in range(len(AGE_BANDS)):
        x = held_near[held_bands == b]
        if len(x) and np.mean(x < strict) > 0.5:
            out[b] = np.percentile(x, 5)
    return out


def write_guard(model: str, templates: np.ndarray, threshold: float, pair_fmr: float, training_faces: int,
                bars: np.ndarray) -> str:
    """The memorisation guard's file: every training face's template (float16, rows shuffled so
    they do not point back to files), the 1:N bar and each age band's bar; bundled beside the generator."""
    path = REPO / "mien" / "generate" / "weights" / f"{model}_guard.npz"
    order = np.random.default_rng(SEED).permutation(len(templates))
    with open(path, "wb") as fh:
        np.savez(fh, templates=templates[order].astype(np.float16), threshold=np.float64(threshold),
                 pair_fmr=np.float64(pair_fmr), training_faces=np.int64(training_faces),
                 band_thresholds=bars.astype(np.float64))
    from mien.models.store import sha256_file

    return f"{path}: {len(templates)} templates, threshold {threshold:.4f} (pair FMR {pair_fmr:.3g}), " \
           f"per band {np.round(bars, 4).tolist()}, " \
           f"{path.stat().st_size} bytes, sha256 {sha256_file(path)}"


def gallery_threshold(impostors: np.ndarray, gallery: int, share: float = 0.01) -> tuple[float, float]:
    """(distance, per-pair FMR) below which a face with nobody of its own in a gallery of ``gallery``
    faces finds a false match with probability ``share``: 1:N needs a stricter bar than 1:1."""
    fmr = 1 - (1 - share) ** (1 / gallery)
    return float(np.quantile(impostors, fmr)), fmr


# ---------------------------------------------------------------- watermark


def _jpeg(img, q=75):
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=q)
    return np.asarray(Image.open(buf).convert("RGB"))


def _half(img):
    from PIL import Image

    return np.asarray(Image.fromarray(img).resize((img.shape[1] // 2, img.shape[0] // 2), Image.BILINEAR))


def _crop(img, frac=0.10, rng=None):
    """Remove ``frac`` of each dimension, split randomly between the two sides."""
    h, w = img.shape[:2]
    rng = rng or np.random.default_rng(0)
    top, left = rng.integers(0, int(h * frac) + 1), rng.integers(0, int(w * frac) + 1)
    return img[top:top + h - int(h * frac), left:left + w - int(w * frac)]


ATTACKS = {
    "none": lambda x, r: x,
    "jpeg75": lambda x, r: _jpeg(x),
    "resize0.5": lambda x, r: _half(x),
    "crop10%": lambda x, r: _crop(x, rng=r),
    "crop+resize+jpeg": lambda x, r: _jpeg(_half(_crop(x, rng=r))),
}


def watermark_robustness(finished: np.ndarray) -> list[dict]:
    from mien.provenance import detect_watermark
    from mien.provenance.watermark import payload_bits

    truth = payload_bits(1)
    rows = []
    for name, attack in ATTACKS.items():
        rng = np.random.default_rng(SEED)
        res = [detect_watermark(attack(img, rng)) for img in finished]
        acc = np.mean([np.mean(r.bits == truth) for r in res])
        rows.append({"attack": name, "images": len(res), "bit_accuracy": round(float(acc), 5),
                     "detected": round(float(np.mean([r.detected for r in res])), 4),
                     "operation_correct": round(float(np.mean([r.operation_code == 1 for r in res])), 4),
                     "min_score": round(float(min(r.score for r in res)), 2)})
    return rows


def lfw_scores(cache: Path, limit: int = 0, worker: int = 0, workers: int = 1) -> None:
    """Watermark scores of every ``workers``-th LFW image, saved in chunks (resumable)."""
    import csv

    from mien.image import load_image
    from mien.provenance import detect_watermark

    root = data_root() / "lfw"
    paths = [row["path"] for row in csv.DictReader(open(root / "identities.csv"))]
    paths = paths[:limit] if limit else paths
    mine = list(range(worker, len(paths), workers))
    for c in range(0, len(mine), 250):
        out = cache / f"lfw_{limit}_{workers}_{worker}_{c}.npz"
        if out.is_file():
            continue
        rows = [detect_watermark(load_image(root / paths[i])) for i in mine[c:c + 250]]
        np.savez(out, index=np.array(mine[c:c + 250]), score=np.array([r.score for r in rows]),
                 bit_errors=np.array([r.bit_errors for r in rows]), detected=np.array([r.detected for r in rows]))
        print(f"  lfw worker {worker}: {c + len(rows)}/{len(mine)}", file=sys.stderr, flush=True)


def lfw_false_positives(cache: Path, limit: int = 0, workers: int = 1) -> dict:
    """Summary of the chunks lfw_scores saved; computes what is missing (with one worker)."""
    from mien.provenance.watermark import MAX_BIT_ERRORS, SYNC_THRESHOLD

    for w in range(workers):
        lfw_scores(cache, limit, w, workers)
    parts = [np.load(p) for p in sorted(cache.glob(f"lfw_{limit}_{workers}_*.npz"))]
    score = np.concatenate([p["score"] for p in parts])
    errors = np.concatenate([p["bit_errors"] for p in parts])
    detected = (score >= SYNC_THRESHOLD) & (errors <= MAX_BIT_ERRORS)  # the detector's rule, re-applied
    return {"images": int(len(score)), "detected": int(detected.sum()), "false_positive_rate": float(detected.mean()),
            "threshold": SYNC_THRESHOLD, "max_score": round(float(score.max()), 2),
            "p99_score": round(float(np.percentile(score, 99)), 2), "median_score": round(float(np.median(score)), 2),
            "min_bit_errors": int(errors.min()),
            "images_over_threshold_any_errors": int((score >= SYNC_THRESHOLD).sum())}


# ---------------------------------------------------------------- main


def sample_figures(gen, out_dir: Path, truncation: float) -> list[str]:
    """Per-gender grids (rows: age bands, 8 seeds each) and an interpolation GIF, watermarked."""
    from mien.generate.gan import grid, save_gif, upscale
    from mien.provenance import ProvenanceRecord, mark, save_with_record

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for g, gender in enumerate(GENDERS):
        rows = [gen.sample(8, b, g, seed=100 + b, truncation=truncation).images for b in range(len(AGE_BANDS))]
        img = grid(np.concatenate(rows), cols=8)
        record = ProvenanceRecord("generate", gen.model, params={"gender": gender, "rows": list(AGE_BANDS), "truncation": truncation})
        path = out_dir / f"samples_{gender}.png"
        save_with_record(mark(img, "generate"), path, record)
        written.append(str(path))
    frames = upscale(gen.interpolate(11, 12, frames=12, age="30-39", gender="female", truncation=truncation), 128)
    record = ProvenanceRecord("generate", gen.model, params={"seed": 11, "seed_b": 12, "frames": 12})
    path = save_gif([mark(f, "generate") for f in frames], out_dir / "interpolation.gif", fps=8, comment=record.to_json().encode())
    written.append(str(path))
    return written


def speed(gen, repeats: int = 5) -> dict:
    from mien.generate.gan import finish

    rng = np.random.default_rng(0)
    z = rng.standard_normal((64, 128)).astype(np.float32)
    a, g = rng.integers(0, 8, 64), rng.integers(0, 2, 64)
    gen.raw(z, a, g)  # warm-up
    raw = []
    for _ in range(repeats):
        t = time.perf_counter()
        gen.raw(z, a, g)
        raw.append(time.perf_counter() - t)
    fin = []
    for _ in range(repeats):
        t = time.perf_counter()
        finish(gen.raw(z, a, g), SIZE)
        fin.append(time.perf_counter() - t)
    return {f"raw{gen.size}_batch64_images_per_s": round(64 / float(np.median(raw)), 1),
            "finished256_images_per_s": round(64 / float(np.median(fin)), 1),
            "repeats": repeats}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=500, help="generated (and baseline) faces")
    p.add_argument("--heldout", type=int, default=1000, help="held-out real faces (fixed random subset)")
    p.add_argument("--train-random", type=int, default=2000,
                   help="training faces for the real-vs-real floor of the quality table")
    p.add_argument("--lfw", type=int, default=0, help="LFW images for false positives (0: all 7,701)")
    p.add_argument("--workers", type=int, default=1, help="LFW: split into this many interleaved parts")
    p.add_argument("--worker", type=int, default=None, help="LFW: compute only this part and exit (run several at once)")
    p.add_argument("--part", choices=["all", "prep", "guard", "samples"], default="all",
                   help="prep: cache what does not depend on the generator (LFW, held-out and training embeddings); "
                        "guard: write mien/generate/weights/<model>_guard.npz")
    p.add_argument("--cache", type=Path, default=Path("/tmp/mien_gen_bench"))
    p.add_argument("--truncation", type=float, default=1.0)
    p.add_argument("--model", default="gan128", help="registry name of the generator")
    p.add_argument("--second-opinion", default=None, metavar="EMBEDDER",
                   help="also measure memorisation in this embedder's space (e.g. faceres), with its own 1:N bar "
                        "from LFW through the same path; everything it embeds is cached")
    args = p.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.worker is not None:
        lfw_scores(args.cache, args.lfw, args.worker, args.workers)
        return
    if args.part == "samples":
        from mien.generate.gan import FaceGenerator

        print("\n".join(sample_figures(FaceGenerator(args.model), REPO / "docs" / "generation", 0.8)))
        return
    from mien.models.registry import get_spec

    size = get_spec(args.model).input_size[0]  # the network's output resolution
    tag = "" if size == 64 else f"_{size}"  # caches of the 64 px runs keep their names
    held = heldout_subset(args.heldout)
    train_recs = load_records("train")
    real = cached(args.cache, f"heldout{len(held)}{tag}",
                  lambda: analyse(to_output_size(load_pixels(held, size)), "held-out", attributes=True))
    train_rand = train_embeddings(args.cache, random_train_indices(len(train_recs), args.train_random),
                                  f"train_random{args.train_random}{tag}", size)
    train_all = train_embeddings(args.cache, np.arange(len(train_recs)), f"train_all{len(train_recs)}{tag}", size)
    tr = train_all["emb"][~np.isnan(train_all["emb"]).any(1)]
    # 0.6 is a 1:1 threshold (LFW FMR about 1e-2); against 17k training faces nearly every face
    # crosses it by chance. The 1:N bar: a 1% chance of any false match across the gallery.
    strict, strict_fmr = gallery_threshold(lfw_impostor_distances(args.cache), len(tr))
    held_all = load_records("heldout")
    held_all_emb = cached(args.cache, f"heldout_all{len(held_all)}{tag}",
                          lambda: analyse(to_output_size(load_pixels(held_all, size)), "held-out (all)"))["emb"]
    held_all_bands = np.array([r.band for r in held_all])
    held_ok = ~np.isnan(held_all_emb).any(1)
    held_near = nearest_distances(held_all_emb[held_ok], tr)
    bars = band_thresholds(held_near, held_all_bands[held_ok], strict)
    if args.part == "prep":
        lfw_false_positives(args.cache, args.lfw, args.workers)
        return
    if args.part == "guard":
        print(write_guard(args.model, tr, strict, strict_fmr, len(train_recs), bars))
        return
    real_emb = real["emb"][~np.isnan(real["emb"]).any(1)]

    from mien.generate.gan import FaceGenerator, finish
    from mien.generate.guard import has_guard
    from mien.models.store import model_path, sha256_file

    rng = np.random.default_rng(SEED)

    gen = FaceGenerator(args.model)
    weights = sha256_file(model_path(args.model))[:16]
    bands, genders = condition_draw(held, args.n, rng)
    samples = gen.sample(args.n, bands, genders, seed=SEED, truncation=args.truncation, guard=False)
    finished = np.stack(finish(samples.images, SIZE))
    fake = analyse(finished, "generated", attributes=True)
    guarded = None
    if has_guard(args.model):  # what users get by default: the same seeds through the guard
        t = time.perf_counter()
        safe = gen.sample(args.n, bands, genders, seed=SEED, truncation=args.truncation, guard=True)
        guard_s = time.perf_counter() - t
        safe_finished = np.stack(finish(safe.images, SIZE))
        guarded = {"samples": safe, "seconds": guard_s, "finished": safe_finished,
                   **analyse(safe_finished, "generated (guarded)", attributes=True)}

    train_b = np.array([r.band for r in train_recs])
    train_g = np.array([r.gender for r in train_recs])
    train_px = load_pixels(train_recs, size)
    eig = eigenface_samples(train_px, bands, genders, train_b, train_g, rng)
    del train_px
    base = analyse(to_output_size(eig), "eigenface")
    rand_ok = np.flatnonzero(~np.isnan(train_rand["emb"]).any(1))
    ref_idx = rng.choice(rand_ok, min(args.n, len(rand_ok)), replace=False)

    quality = [quality_row(f"mien GAN ({args.model})", fake["emb"], real_emb)]
    if guarded:
        quality.append(quality_row(f"mien GAN ({args.model}) behind the memorisation guard (default)", guarded["emb"], real_emb))
    quality += [
        quality_row("eigenface baseline", base["emb"], real_emb),
        quality_row("real training faces (floor)", train_rand["emb"][ref_idx], real_emb),
    ]
    one_face = {
        "generated": round(float(np.mean(fake["counts"] == 1)), 4),
        **({"generated (guarded)": round(float(np.mean(guarded["counts"] == 1)), 4)} if guarded else {}),
        "eigenface": round(float(np.mean(base["counts"] == 1)), 4),
        "held-out real": round(float(np.mean(real["counts"] == 1)), 4),
    }

    # condition accuracy (faces the detector found)
    def cond_acc(age, female, want_band, want_gender):
        ok = ~np.isnan(age)
        pred_band = np.array([age_band_index(max(0, a)) for a in age[ok]])
        return {"faces": int(ok.sum()),
                "gender": round(float(np.mean((female[ok] > 0.5) == (want_gender[ok] == GENDERS.index("female")))), 4),
                "age_band_exact": round(float(np.mean(pred_band == want_band[ok])), 4),
                "age_band_within_1": round(float(np.mean(np.abs(pred_band - want_band[ok]) <= 1)), 4),
                "age_mae_years_to_band_centre": round(float(np.mean(np.abs(age[ok] - (want_band[ok] * 10 + 5)))), 2)}

    held_b = np.array([r.band for r in held])
    held_g = np.array([r.gender for r in held])
    condition = {"generated (requested condition)": cond_acc(fake["age"], fake["female"], bands, genders)}
    if guarded:
        condition["generated, guarded (requested condition)"] = cond_acc(guarded["age"], guarded["female"], bands, genders)
    condition["held-out real (true label; model ceiling)"] = cond_acc(real["age"], real["female"], held_b, held_g)
    per_gender = {GENDERS[g]: cond_acc(fake["age"][genders == g], fake["female"][genders == g], bands[genders == g], genders[genders == g])["gender"] for g in (0, 1)}

    # memorisation, against every training face
    def stat(fn, x):
        return round(float(fn(x)), 4) if len(x) else None

    p5 = np.percentile(held_near, 5)
    memo = {"gallery_threshold": round(strict, 4), "gallery_threshold_pair_fmr": float(f"{strict_fmr:.3g}"),
            "band_thresholds": [round(float(x), 4) for x in bars],
            "training_faces_embedded": int(len(tr)), "training_faces": len(train_recs), "threshold": SAME_PERSON,
            "heldout_real_p5_nearest": round(float(p5), 4), "rows": []}
    sets = [("generated", fake["emb"], bands)]
    if guarded:
        sets.append(("generated, guarded (default)", guarded["emb"], bands))
    sets.append((f"held-out real (all {int(held_ok.sum())})", held_all_emb, held_all_bands))
    for name, emb, b in sets:
        ok = ~np.isnan(emb).any(1)
        near, b = nearest_distances(emb[ok], tr), b[ok]
        for part, select in AGE_PARTS:
            keep = select(b)
            x = near[keep]
            memo["rows"].append({"set": name, "ages": part, "faces": int(len(x)),
                                 "share_below_0.6": stat(lambda v: np.mean(v < SAME_PERSON), x),
                                 "share_below_gallery_threshold": stat(lambda v: np.mean(v < strict), x),
                                 "share_below_guard_bar": stat(lambda v: np.mean(v < bars[b[keep]]), x),
                                 "median_nearest": stat(np.median, x), "min_nearest": stat(np.min, x),
                                 "share_below_heldout_p5": stat(lambda v: np.mean(v < p5), x)})
    if args.second_opinion:
        fakes = [("generated", finished, bands)] + (
            [("generated, guarded (default)", guarded["finished"], bands)] if guarded else [])
        memo["second_opinion"] = second_opinion(args.cache, args.second_opinion, train_recs, held_all, fakes, size, tag)
    if guarded:
        safe = guarded["samples"]
        memo["guard"] = {"redrawn": int(safe.redrawn), "redrawn_share": round(safe.redrawn / args.n, 4),
                         "seconds_for_n": round(guarded["seconds"], 1)}

    wm = watermark_robustness(finished[:200])
    lfw = lfw_false_positives(args.cache, args.lfw, args.workers)
    spd = speed(gen)
    if guarded:  # generation plus the guard's detect-align-embed and redraws, not finished
        spd["guarded_sample_images_per_s"] = round(args.n / guarded["seconds"], 1)

    result = {"meta": {**header(), "model": args.model, "weights_sha256_16": weights, "n_generated": args.n, "truncation": args.truncation,
                       "heldout_faces": len(held), "heldout_embedded": int(len(real_emb)),
                       "heldout_total": len(load_records("heldout"))},
              "quality": quality, "exactly_one_face": one_face, "condition_accuracy": condition,
              "gender_accuracy_by_requested_gender": per_gender, "memorisation": memo,
              "watermark": wm, "lfw_false_positives": lfw, "speed": spd}
    table = "\n\n".join([
        markdown_table(["set", "faces embedded", "Frechet (dlib)", "precision", "recall"],
                       [[q["set"], q["embedded"], q["frechet"], q["precision"], q["recall"]] for q in quality]),
        markdown_table(["exactly one face", "share"], [[k, v] for k, v in one_face.items()]),
        markdown_table(["condition accuracy", "faces", "gender", "age band", "age band +-1"],
                       [[k, v["faces"], v["gender"], v["age_band_exact"], v["age_band_within_1"]] for k, v in condition.items()]),
        markdown_table(["memorisation (all training faces)", "ages", "faces", "share nearest training face < 0.6",
                        f"share < {memo['gallery_threshold']} (1:N bar)", "share < guard's bar", "median nearest",
                        "minimum", "share below held-out 5th percentile"],
                       [[r["set"], r["ages"], r["faces"], r["share_below_0.6"], r["share_below_gallery_threshold"],
                         r["share_below_guard_bar"], r["median_nearest"], r["min_nearest"], r["share_below_heldout_p5"]]
                        for r in memo["rows"]]),
        *([markdown_table([f"memorisation, second opinion: {memo['second_opinion']['embedder']}", "ages", "faces",
                           f"share < {memo['second_opinion']['gallery_threshold']} (its 1:N bar)", "median nearest"],
                          [[r["set"], r["ages"], r["faces"], r["share_below_gallery_threshold"], r["median_nearest"]]
                           for r in memo["second_opinion"]["rows"]])] if "second_opinion" in memo else []),
        markdown_table(["watermark attack", "images", "bit accuracy", "detected", "min score"],
                       [[w["attack"], w["images"], w["bit_accuracy"], w["detected"], w["min_score"]] for w in wm]),
        markdown_table(["LFW images", "false positives", "max score", "threshold"],
                       [[lfw["images"], lfw["detected"], lfw["max_score"], lfw["threshold"]]]),
        markdown_table(["speed", "images/s"], [[f"raw {size} px, batch 64", spd[f"raw{size}_batch64_images_per_s"]],
                                               ["generate + upscale to 256 px + watermark, batch 64", spd["finished256_images_per_s"]]]
                       + ([[f"generate behind the memorisation guard ({args.n} faces, not finished)",
                            spd["guarded_sample_images_per_s"]]] if guarded else [])),
    ])
    write_outputs(f"generation_{args.model}", result, table)


if __name__ == "__main__":
    main()
