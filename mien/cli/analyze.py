"""``mien analyze``: landmarks, pose, age, gender, expression, quality; ``mien audit``: fairness."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from .common import build_detector, detector_options, echo_json, expand_images, key_values, progress, write_csv


def _probabilities(items: dict[str, str]) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in items.items()}
    except ValueError:
        raise InputError(f"--min-probability needs numbers, got {items}") from None


@click.command("analyze")
@click.argument("images", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per image.")
@click.option("--draw", "draw_to", type=click.Path(path_type=Path), help="Write an annotated image (a folder for several inputs).")
@click.option("--landmarks", type=click.Choice(["face-mesh", "dlib68", "none"]), default="face-mesh", show_default=True,
              help="Dense landmarks; dlib68 is NOT for commercial use and gives no pose.")
@click.option("--attributes", default="age,gender,expression", show_default=True,
              help="Comma-separated: age, gender, expression (or 'none'). No race is predicted.")
@click.option("--iris", is_flag=True, help="Add iris points (5 per eye).")
@click.option("--quality", is_flag=True, help="Quality checks for enrolment (needs the face mesh).")
@click.option("--icao", is_flag=True, help="Use the stricter ICAO-style quality thresholds.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="Change a quality threshold, e.g. --set max_yaw=5.")
@click.option("--liveness", is_flag=True, help="EXPERIMENTAL antispoof + liveness scores (weak; see docs/analysis.md).")
@click.option("--min-probability", "min_probability", multiple=True, metavar="TASK=P",
              help="Answer 'unknown' instead of guessing when a classifier is less sure, e.g. gender=0.8 "
                   "(dlib-gender on UTKFace: 93.1% right on the 93.3% of faces it answers).")
@click.option("--age-interval", type=click.Choice(["0.5", "0.8", "0.9", "0.95", "none"]), default="0.8", show_default=True,
              help="Level of the calibrated age range (dlib-age; measured on held-out UTKFace faces).")
@click.option("--mesh", "with_mesh", is_flag=True, help="Include mesh (and iris) points in the JSON.")
@click.option("--timeline", is_flag=True, help="IMAGES is one video: track each face and write its expression, pose, "
              "eye and mouth opening over time (CSV + plot per track, timeline.json) to -o OUTDIR.")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Output folder (--timeline).")
@click.option("--every", type=click.IntRange(min=1), default=1, show_default=True,
              help="--timeline: analyse every K-th frame (and the first of each shot).")
@click.option("--smooth", type=int, default=5, show_default=True,
              help="--timeline: centred moving-median window, in analysed frames (odd; 1: none).")
@click.option("--no-plots", "no_plots", is_flag=True, help="--timeline: leave out the PNG plots (they need matplotlib).")
@detector_options
def analyze(images: tuple[str, ...], as_json: bool, draw_to: Path | None, landmarks: str, attributes: str, iris: bool,
            quality: bool, icao: bool, settings: tuple[str, ...], liveness: bool, min_probability: tuple[str, ...],
            age_interval: str, with_mesh: bool, timeline: bool, out_dir: Path | None, every: int, smooth: int,
            no_plots: bool, detector: str, threshold: float | None, min_face: float, tile: int | None) -> None:
    """Analyse the faces in IMAGES: landmarks, head pose, age, gender, expression (--timeline: over time in a video)."""
    from ..analyze import Analyzer, draw_analysis, labels
    from ..image import load_image, save_image
    from ..quality import QualityThresholds, thresholds_from_dict

    tasks = [] if attributes.strip().lower() == "none" else [a.strip() for a in attributes.split(",") if a.strip()]
    if timeline:
        from .timeline import run_timeline

        ignored = [name for name, given in (("--draw", draw_to is not None), ("--quality/--icao/--set", quality or icao or settings),
                                            ("--liveness", liveness), ("--mesh", with_mesh), ("--iris", iris),
                                            ("--landmarks", landmarks != "face-mesh"), ("--min-probability", min_probability))
                   if given]
        if ignored:
            raise InputError(f"{', '.join(ignored)} do not apply to --timeline")
        return run_timeline([Path(p) for p in images], out_dir, every, smooth, not no_plots, as_json,
                            build_detector(detector, threshold, min_face, tile), tasks)
    if out_dir is not None:
        raise InputError("-o/--out is for --timeline; use --draw for annotated images")
    paths = expand_images(images)
    if not paths:
        raise InputError("no images found in the given paths")
    quality = quality or icao or bool(settings)
    thresholds = thresholds_from_dict(key_values(settings, "--set"), QualityThresholds.icao() if icao else None)
    analyzer = Analyzer(build_detector(detector, threshold, min_face, tile), None if landmarks == "none" else landmarks,
                        tasks, iris=iris, quality=quality, liveness=liveness, thresholds=thresholds,
                        min_probability=_probabilities(key_values(min_probability, "--min-probability")),
                        age_interval=None if age_interval == "none" else float(age_interval))
    results, failures = [], 0
    for path in progress(paths, "analyze"):
        try:
            pixels = load_image(path)
            result = analyzer.analyze(pixels)
        except InputError as exc:  # a bad image: report it and go on; model errors stop the run
            failures += 1
            results.append({"image": str(path), "error": str(exc)})
            click.echo(f"mien: error: {exc}", err=True)
            continue
        results.append({"image": str(path), "detector": analyzer.detector.name, "landmark_model": analyzer.landmarks,
                        **result.to_dict(with_mesh)})
        if draw_to is not None:
            target = draw_to / f"{path.stem}_analysis.png" if len(paths) > 1 or draw_to.is_dir() else draw_to
            save_image(draw_analysis(pixels, result), target)
        if not as_json:
            click.echo(f"{path}: {len(result)} face{'s' if len(result) != 1 else ''}")
            for box, res in zip(result.faces.boxes, result.results):
                line = f"  box={[round(float(v), 1) for v in box]} {labels(res)}"
                if res.pose is not None:
                    line += f" yaw={res.pose.yaw:.0f} pitch={res.pose.pitch:.0f} roll={res.pose.roll:.0f}"
                if res.quality is not None and not res.quality.passed:
                    line += f" quality-failed={','.join(res.quality.failed)}"
                if res.liveness is not None:
                    line += " live(experimental)=" + "/".join(f"{v.real:.2f}" for v in res.liveness.values())
                click.echo(line)
    if as_json:
        echo_json(results)
    if failures:
        raise click.exceptions.Exit(2)


@click.command("audit")
@click.argument("labels_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--group", "groups", multiple=True, required=True,
              help="Group column (repeat for several); COL1+COL2 groups by both (intersections, e.g. race+gender).")
@click.option("--label", help="Ground-truth column (attribute audits).")
@click.option("--pred", help="Prediction column (attribute audits); see --run.")
@click.option("--metric", type=click.Choice(["accuracy", "mae"]), help="accuracy for classes, mae for ages (default: guessed from --run).")
@click.option("--run", "run_task", type=click.Choice(["age", "gender", "expression"]),
              help="Predict with mien's model first (images from --image-col under --root).")
@click.option("--estimate", "estimates", multiple=True, type=click.Choice(["age", "gender"]),
              help="Add an est_TASK column estimated by mien's model from --image-col, to group data that has no such "
                   "label (pairs: --image-col path1 --estimate gender --group est_gender); the report says so. "
                   "No race is ever estimated.")
@click.option("--min-probability", "audit_min_probability", type=float,
              help="With --run gender/expression: withhold answers under this probability; the report adds coverage.")
@click.option("--image-col", default="path", show_default=True)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help="Folder the image paths are relative to (default: the CSV's).")
@click.option("--limit", type=int, help="Use only every k-th row so that about this many remain.")
@click.option("--score", help="Score column (verification audits).")
@click.option("--same", help="Same-person column, 1/0 or true/false (verification audits).")
@click.option("--threshold", type=float, help="Fixed decision threshold (verification audits).")
@click.option("--distance", is_flag=True, help="Scores are distances: lower means the same person.")
@click.option("--band", "bands", multiple=True, metavar="COL=E1,E2,...", help="Cut a numeric column into bands, e.g. age=0,18,30,45,60 (adds age_band).")
@click.option("--standardize", metavar="COL", help="Attribute audits: standardise every group to the whole set's mix of "
              "COL (e.g. age_band), separating what groups are made of from how the model treats them.")
@click.option("--min-group", type=int, default=1, show_default=True, help="Leave out groups with fewer rows.")
@click.option("--title", default=None)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Write report.md/.html/.json and charts here.")
@click.option("--json", "as_json", is_flag=True, help="Print the audit as JSON instead of markdown.")
def audit(labels_csv: Path, groups: tuple[str, ...], label: str | None, pred: str | None, metric: str | None,
          run_task: str | None, estimates: tuple[str, ...], audit_min_probability: float | None, image_col: str,
          root: Path | None, limit: int | None, score: str | None,
          same: str | None, threshold: float | None, distance: bool, bands: tuple[str, ...], standardize: str | None,
          min_group: int, title: str | None, out_dir: Path | None, as_json: bool) -> None:
    """Fairness audit of LABELS_CSV by group: accuracy/MAE, or FMR/FNMR at a fixed threshold."""
    import dataclasses
    import json

    from ..audit import add_bands, audit_attribute, audit_verification, read_csv, to_markdown, write_report

    rows = read_csv(labels_csv)
    if limit and len(rows) > limit:
        rows = rows[:: max(1, len(rows) // limit)][:limit]
    notes: list[str] = []
    if estimates:
        rows, notes = _estimate_groups(rows, estimates, image_col, root or labels_csv.parent,
                                       _checkpoint(out_dir, "estimates"))
    for spec in bands:
        col, _, edges = spec.partition("=")
        try:
            rows = add_bands(rows, col.strip(), [float(e) for e in edges.split(",") if e.strip()])
        except ValueError:
            raise InputError(f"--band must look like COL=E1,E2,..., got {spec!r}") from None
    verification = score is not None or same is not None
    if verification:
        if score is None or same is None or threshold is None:
            raise InputError("a verification audit needs --score, --same and --threshold")
        if standardize:
            raise InputError("--standardize is for attribute audits (accuracy, MAE)")
        report = audit_verification(rows, score, same, groups, threshold, not distance,
                                    title or f"Verification audit of {labels_csv.name}", min_group)
    else:
        if run_task:
            from ..audit.run import predict_rows

            unreadable: list[tuple[str, str]] = []
            minimum = {run_task: audit_min_probability} if audit_min_probability is not None else None
            rows = predict_rows(rows, [run_task], image_col, root or labels_csv.parent,
                                progress=lambda r: progress(list(r), "predict"), min_probability=minimum,
                                unreadable=unreadable, checkpoint=_checkpoint(out_dir, "predictions"))
            notes += _unreadable_notes(unreadable, rows)
            pred = pred or f"pred_{run_task}"
            label = label or run_task
            metric = metric or ("mae" if run_task == "age" else "accuracy")
        elif audit_min_probability is not None:
            raise InputError("--min-probability applies to --run TASK (predictions made here)")
        if label is None or pred is None:
            raise InputError("an attribute audit needs --label and --pred (or --run TASK)")
        ranged = bool(run_task) and metric == "mae" and rows and f"low_{run_task}" in rows[0]
        report = audit_attribute(rows, label, pred, groups, metric or "accuracy",
                                 title or f"Audit of {pred} against {label} in {labels_csv.name}", min_group,
                                 standardize=standardize,
                                 interval=(f"low_{run_task}", f"high_{run_task}") if ranged else None)
        if ranged:
            from ..attributes import DEFAULTS

            notes.append(f"the predicted range is {DEFAULTS[run_task]}'s calibrated 80% interval: "
                         "about 80% of each group's true values should lie inside it")
    if notes:
        report = dataclasses.replace(report, notes=report.notes + tuple(notes))
    if out_dir is not None:
        if run_task:  # first: the predictions are what took long to make
            _write_predictions(rows, out_dir / "predictions.csv")
        paths = write_report(report, out_dir)
        click.echo(f"wrote {paths['markdown']}, {paths['html']}, {paths['json']}", err=True)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else to_markdown(report))


def _estimate_groups(rows: list, tasks: tuple[str, ...], image_col: str, root: Path,
                     checkpoint: Path | None = None) -> tuple[list, list[str]]:
    """Rows with est_<task> (and est_prob_<task>) from mien's attribute models, and the notes
    that say these groups are estimates."""
    from ..attributes import get_attribute_model
    from ..audit.core import require_columns
    from ..audit.run import predict_rows

    require_columns(rows, [image_col])
    unreadable: list[tuple[str, str]] = []
    predicted = predict_rows(rows, tasks, image_col, root, progress=lambda r: progress(list(r), "estimate"),
                             unreadable=unreadable, checkpoint=checkpoint)
    out = []
    for row in predicted:
        new = {k: v for k, v in row.items() if not k.startswith(("pred_", "prob_")) or k in rows[0]}
        for task in tasks:
            new[f"est_{task}"], new[f"est_prob_{task}"] = row[f"pred_{task}"], row[f"prob_{task}"]
        out.append(new)
    notes = _unreadable_notes(unreadable, predicted)
    notes += [f"est_{t} is estimated from {image_col} by {get_attribute_model(t).model} (mien's default {t} model), "
              f"not a label: the estimator's own errors move rows between groups" for t in tasks]
    return out, notes


def _checkpoint(out_dir: Path | None, what: str) -> Path | None:
    """Where a long --run / --estimate logs its rows when --out is given (resumed if it exists)."""
    if out_dir is None:
        return None
    path = out_dir / f"{what}.partial.jsonl"
    if path.is_file():
        click.echo(f"mien: resuming the {what} logged in {path}", err=True)
    return path


def _write_predictions(rows: list, path: Path) -> None:
    write_csv(path, rows, rows[0], f"the predictions to {path}")


def _unreadable_notes(unreadable: list[tuple[str, str]], kept: list) -> list[str]:
    """Say which rows were left out for an unreadable image; none left is an error."""
    if not unreadable:
        return []
    if not kept:
        raise InputError(f"no readable image among {len(unreadable)} rows (first: {unreadable[0][1]})")
    for _, reason in unreadable:
        click.echo(f"mien: warning: row left out: {reason}", err=True)
    return [f"{len(unreadable)} of {len(unreadable) + len(kept)} rows left out: image unreadable "
            f"(first: {unreadable[0][1]})"]


COMMANDS = [analyze, audit]
