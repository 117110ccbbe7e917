"""``mien embed``, ``verify``, ``calibrate`` and ``cohort``: face recognition from the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click

from ..embed import DEFAULT_EMBEDDER, EMBEDDERS
from ..embed.tta import DEFAULT_JITTERS, TTA_LEVELS
from ..errors import InputError
from ..match.cohort import DEFAULT_TOP_K
from .common import detector_options, echo_json

_model_option = click.option("--model", type=click.Choice(sorted(EMBEDDERS)), default=DEFAULT_EMBEDDER, show_default=True,
                             help="Embedding model.")
_flip_option = click.option("--flip", is_flag=True, help="Same as --tta flip.")
_tta_option = click.option("--tta", type=click.Choice(TTA_LEVELS), default=None,
                           help="Test-time augmentation: flip (2 views, 2x the network time) or jitter (--jitters views "
                                "cut like dlib's num_jitters; the most accurate); each has its own calibration.")
_jitters_option = click.option("--jitters", type=click.IntRange(2, 1000), default=DEFAULT_JITTERS, show_default=True,
                               help="Views for --tta jitter (shipped LFW thresholds: 4 and 8).")
_largest_option = click.option("--largest", is_flag=True, help="Use the largest face when an image has several.")
_cohort_option = click.option("--cohort", "cohort_file", type=click.Path(dir_okay=False), default=None,
                              help="Normalise scores against this cohort (`mien cohort`; AS-norm): higher TAR at low "
                                   "FMR; needs a calibration made with it (`mien calibrate --cohort`).")


def _cohort(cohort_file: str | None):
    from ..match.cohort import load_cohort

    return load_cohort(cohort_file) if cohort_file else None


def _tta_options(f):
    return _flip_option(_tta_option(_jitters_option(f)))


def _recognition_detector_options(f):
    """The shared detector options plus --detect-size (recognition's default: 640 px for CenterFace)."""
    f = click.option("--detect-size", type=int, default=None,
                     help="Long side the detector sees (CenterFace; default 640 for recognition, 1280 finds faces "
                          "under ~40 px in large photos).")(f)
    f = click.option("--no-refine", is_flag=True,
                     help="Skip the half-size second detection whose landmarks are averaged in: about 1.4x faster, "
                          "0.15 points less LFW accuracy (the shipped thresholds were fitted with it).")(f)
    return detector_options(f)


def _refine(no_refine: bool) -> float | None:
    from ..match.faces import REFINE_SCALE

    return None if no_refine else REFINE_SCALE


def _detector(detector: str, threshold: float | None, min_face: float, tile: int | None, detect_size: int | None):
    from ..match.faces import recognition_detector

    options: dict = {"min_face": min_face, "tile": tile}
    if threshold is not None:
        options["score_threshold"] = threshold
    return recognition_detector(detector, detect_size, **options)


def _embedder(model: str, flip: bool, tta: str | None = None, jitters: int = DEFAULT_JITTERS):
    from ..embed import get_embedder

    if flip and tta not in (None, "flip"):
        raise InputError(f"--flip contradicts --tta {tta}; pass one of them")
    return get_embedder(model, tta=tta or ("flip" if flip else "none"), jitters=jitters)


@click.command("embed")
@click.argument("image")
@_model_option
@_tta_options
@click.option("--all-faces", is_flag=True, help="Embed every face found instead of exactly one.")
@_largest_option
@_recognition_detector_options
def embed(image: str, model: str, flip: bool, tta: str | None, jitters: int, all_faces: bool, largest: bool, detector: str, threshold: float | None,
          min_face: float, tile: int | None, detect_size: int | None, no_refine: bool) -> None:
    """Print the face embedding(s) of IMAGE as JSON."""
    from ..image import load_image
    from ..match import embed_image
    from ..match.faces import detect_with_fallback

    emb = _embedder(model, flip, tta, jitters)
    det = _detector(detector, threshold, min_face, tile, detect_size)
    if all_faces:
        pixels = load_image(image)
        faces, _ = detect_with_fallback(pixels, det, _refine(no_refine))
        vectors = emb.embed_faces(pixels, faces)
        found = faces.to_list()
    else:
        vectors = embed_image(image, emb, det, largest=largest, source=image, refine=_refine(no_refine))
        found = None
    out = {"image": image, "model": vectors.model, "metric": vectors.metric, "dim": vectors.dim}
    spreads = [None] * len(vectors) if vectors.spread is None else [round(float(v), 6) for v in vectors.spread]
    if found is None:
        out["embedding"] = vectors.to_list()[0]
        if spreads[0] is not None:
            out["spread"] = spreads[0]
    else:
        out["faces"] = [{**face, "embedding": vec, **({"spread": sp} if sp is not None else {})}
                        for face, vec, sp in zip(found, vectors.to_list(), spreads)]
    echo_json([out])


@click.command("verify")
@click.argument("image_a")
@click.argument("image_b")
@click.option("--fmr", type=float, default=1e-3, show_default=True, help="Target false-match rate of the threshold.")
@click.option("--distance-threshold", "distance_threshold", type=float, default=None,
              help="Accept when the distance is at most this, instead of a threshold for --fmr.")
@click.option("--calibration", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Calibration file (default: yours from `mien calibrate`, else the LFW one mien ships).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@_cohort_option
@_model_option
@_tta_options
@_largest_option
@_recognition_detector_options
def verify(image_a: str, image_b: str, fmr: float, distance_threshold: float | None, calibration: str | None,
           as_json: bool, cohort_file: str | None, model: str, flip: bool, tta: str | None, jitters: int, largest: bool,
           detector: str, threshold: float | None, min_face: float, tile: int | None, detect_size: int | None,
           no_refine: bool) -> None:
    """Are the faces in IMAGE_A and IMAGE_B the same person?"""
    from ..match import verify_images

    result = verify_images(image_a, image_b, fmr=fmr, embedder=_embedder(model, flip, tta, jitters),
                           detector=_detector(detector, threshold, min_face, tile, detect_size), largest=largest,
                           threshold=distance_threshold, calibration=calibration, refine=_refine(no_refine),
                           cohort=_cohort(cohort_file))
    if as_json:
        echo_json([{"image_a": image_a, "image_b": image_b, **result.to_dict()}])
    else:
        verdict = "same person" if result.same else "different people"
        score = (f"distance {result.distance:.4f}" if result.normalized_distance is None else
                 f"distance {result.distance:.4f}, normalised {result.normalized_distance:.4f}")
        click.echo(f"{verdict}: {score} {'<=' if result.same else '>'} threshold "
                   f"{result.threshold:.4f} (estimated FMR {result.fmr:.1e}; {result.score_model or result.model}; "
                   f"{result.calibration})")


@click.command("calibrate")
@click.argument("pairs_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder the CSV's image paths are relative to (default: the CSV's folder).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the calibration (default: $MIEN_HOME/calibration/MODEL.json, used by later calls).")
@click.option("--fmr", type=float, default=1e-3, show_default=True, help="Operating point to report.")
@click.option("--roc", "roc_csv", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the ROC curve as CSV (far,tar,threshold).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_cohort_option
@_model_option
@_tta_options
@_largest_option
@_recognition_detector_options
def calibrate(pairs_csv: Path, root: Path | None, out: Path | None, fmr: float, roc_csv: Path | None, as_json: bool,
              cohort_file: str | None, model: str, flip: bool, tta: str | None, jitters: int,
              largest: bool, detector: str, threshold: float | None, min_face: float, tile: int | None, detect_size: int | None,
              no_refine: bool) -> None:
    """Refit verification thresholds on your labelled pairs.

    PAIRS_CSV has columns path1,path2,same (same: 1 or 0; other columns are ignored).
    Prints ROC summary (EER, TAR at FAR) and the chosen operating point, and writes a
    calibration file that `mien verify` uses from then on. With --cohort the thresholds
    are for the scores normalised by that cohort (used by `mien verify --cohort`).
    """
    from ..match.calibration import calibrate_pairs, roc, save_calibration, tar_at_far
    from ..match.verify import embed_image

    rows = _read_pairs(pairs_csv)
    base = root or pairs_csv.parent
    emb = _embedder(model, flip, tta, jitters)
    cohort = _cohort(cohort_file)
    if cohort is not None:
        cohort.check(emb.model_id)
    det = _detector(detector, threshold, min_face, tile, detect_size)
    cache: dict[str, object] = {}

    def vector(rel: str):
        if rel not in cache:
            path = Path(rel) if Path(rel).is_absolute() else base / rel
            cache[rel] = embed_image(str(path), emb, det, largest=largest, source=str(path), refine=_refine(no_refine))
        return cache[rel]

    import numpy as np

    from .common import progress

    dist, same = [], []
    for a, b, s in progress(rows, "calibrate"):
        va, vb = vector(a), vector(b)
        dist.append(float(va.distances(vb)[0, 0]) if cohort is None else
                    float(cohort.normalized_distances(va.vectors, vb.vectors)[0]))
        same.append(s)
    dist_arr, same_arr = np.asarray(dist), np.asarray(same, bool)
    source = f"{pairs_csv.name}: {len(rows)} labelled pairs" + (f", cohort {cohort_file}" if cohort else "")
    cal = calibrate_pairs(dist_arr, same_arr, cohort.score_model if cohort else emb.model_id,
                          f"asnorm-{emb.info.metric}" if cohort else emb.info.metric, source)
    thr = cal.threshold_for(fmr) if fmr * cal.impostor_pairs >= 1 else None
    target = save_calibration(cal, out)
    if roc_csv is not None:
        curve = zip(*roc(dist_arr, same_arr))
        try:
            roc_csv.write_text("far,tar,threshold\n" + "".join(f"{a:.6g},{b:.6g},{c:.6g}\n" for a, b, c in curve))
        except OSError as exc:
            raise InputError(f"cannot write {roc_csv}: {exc}") from exc
    report = {
        "model": cal.model, "pairs": len(rows), "genuine": cal.genuine_pairs, "impostor": cal.impostor_pairs,
        "eer": round(cal.eer, 5), "eer_threshold": round(cal.eer_threshold, 5),
        "tar_at_far": {k: round(tar_at_far(dist_arr, same_arr, f), 5) for k, f in (("1e-2", 1e-2), ("1e-3", 1e-3), ("1e-4", 1e-4))
                       if f * cal.impostor_pairs >= 1},
        "operating_point": {"fmr": fmr, "threshold": None if thr is None else round(thr, 5)},
        "thresholds": cal.thresholds, "written": str(target),
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{cal.model}: {len(rows)} pairs ({cal.genuine_pairs} same, {cal.impostor_pairs} different)")
    click.echo(f"  EER {100 * cal.eer:.2f}% at {'normalised ' if cohort else ''}distance {cal.eer_threshold:.4f}")
    for key, value in report["tar_at_far"].items():
        click.echo(f"  TAR {100 * value:.2f}% at FAR {key}")
    if thr is None:
        click.echo(f"  FMR {fmr:g} needs at least {int(np.ceil(1 / fmr))} different-person pairs; "
                   f"you gave {cal.impostor_pairs}: thresholds only for {', '.join(cal.thresholds) or 'none'}")
    else:
        kind = "normalised distance" if cohort else "distance"
        click.echo(f"  operating point: FMR {fmr:g} -> accept when {kind} <= {thr:.4f}")
    click.echo(f"  wrote {target}")


def _read_pairs(path: Path) -> list[tuple[str, str, int]]:
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"path1", "path2", "same"} - set(reader.fieldnames or [])
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}; need path1,path2,same")
            rows = [(r["path1"], r["path2"], int(str(r["same"]).strip() in {"1", "true", "True", "yes"})) for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read pairs file {path}: {exc}") from exc
    if not rows:
        raise InputError(f"{path} has no pairs")
    return rows


@click.command("cohort")
@click.argument("images", nargs=-1, required=True)
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Cohort file to write (.npz).")
@click.option("--top-k", type=click.IntRange(2, None), default=DEFAULT_TOP_K, show_default=True,
              help="Nearest cohort faces each score is normalised by.")
@click.option("--balance-gender", is_flag=True,
              help="Keep as many faces of each gender (estimated by mien's gender model) as of the rarer one: an "
                   "unbalanced cohort moves false matches onto the under-represented gender (docs/fairness).")
@_model_option
@_tta_options
@_recognition_detector_options
def cohort(images: tuple[str, ...], out: Path, top_k: int, balance_gender: bool, model: str, flip: bool,
           tta: str | None, jitters: int, detector: str, threshold: float | None, min_face: float, tile: int | None,
           detect_size: int | None, no_refine: bool) -> None:
    """Build a score-normalisation cohort from IMAGES (files or folders).

    Use a few thousand faces like the ones you will verify, of people who are not among
    them; each image gives its largest face, images without one are skipped. Then run
    `mien calibrate --cohort OUT` on labelled pairs and `mien verify --cohort OUT`.
    """
    from ..match.cohort import build_cohort, save_cohort
    from ..match.verify import embed_located
    from .common import expand_images, progress

    files = expand_images(images)
    if not files:
        raise InputError("no image files given")
    emb = _embedder(model, flip, tta, jitters)
    det = _detector(detector, threshold, min_face, tile, detect_size)
    gender_model = None
    if balance_gender:
        from ..attributes import get_attribute_model

        gender_model = get_attribute_model("gender")

    def embed_one(path):
        vectors, pixels, face = embed_located(path, emb, det, largest=True, refine=_refine(no_refine))
        if gender_model is None:
            return vectors
        return vectors, gender_model.predict(pixels, face)[0].value

    balance_by = f"estimated gender ({gender_model.model})" if gender_model is not None else None
    built, skipped = build_cohort(progress(files, "cohort"), embed_one, top_k,
                                  f"{len(files)} images given to `mien cohort`", balance_by)
    target = save_cohort(built, out)
    for path, why in skipped:
        click.echo(f"skipped {path}: {why}", err=True)
    click.echo(f"{built.model}: {len(built.vectors)} faces from {len(files)} images ({len(skipped)} skipped"
               + (f"; {built.source.split('; ')[-1]}" if gender_model is not None else "")
               + f"), top {built.top_k}; scores are calibrated as {built.score_model}; wrote {target}")


COMMANDS = [embed, verify, calibrate, cohort]
