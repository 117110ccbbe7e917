"""``mien measure``, ``mien simulate``, ``mien avatar``: the face in 3D."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError, StorageError
from .common import echo_json, expand_images, progress, write_csv


@click.command("measure")
@click.argument("images", nargs=-1, required=True)
@click.option("-o", "--out", "out_csv", type=click.Path(dir_okay=False, path_type=Path),
              help="Write one CSV row per photo: pose, scale, quality, then value, _sd and _note per measure.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per photo.")
@click.option("--largest", is_flag=True, help="Measure the largest face when a photo has several.")
@click.option("--ipd-mm", type=float, default=None,
              help="The person's known inter-pupillary distance: set the mm scale from it instead of the iris.")
def measure(images: tuple[str, ...], out_csv: Path | None, as_json: bool, largest: bool, ipd_mm: float | None) -> None:
    """Facial measurements of the face in each of IMAGES (files or folders): research, not diagnosis.

    IPD, eye fissures, nose width and length, mouth width, face width and height, thirds and
    fifths, asymmetry per region about the fitted mid-sagittal plane, smile asymmetry; each
    with its uncertainty (1 SD), or empty with the reason when this photo cannot support it.
    """
    from ..face3d.measures import CSV_COLUMNS, NOTICE, Measurer

    paths = expand_images(images)
    if not paths:
        raise InputError("no images found in the given paths")
    measurer = Measurer(ipd_mm=ipd_mm)
    docs, rows, failures = [], [], 0
    for path in progress(paths, "measure"):
        try:
            result = measurer.measure(path, largest=largest, source=str(path))
        except InputError as exc:  # a bad photo: say so in its row and go on; model errors stop the run
            failures += 1
            click.echo(f"mien: error: {exc}", err=True)
            docs.append({"image": str(path), "error": str(exc), "notice": NOTICE})
            rows.append({"image": str(path), "error": str(exc), "notice": NOTICE})
            continue
        docs.append(result.to_dict())
        rows.append(result.row())
        if not as_json:
            click.echo(_summary(result))
    if out_csv is not None:
        write_csv(out_csv, rows, CSV_COLUMNS)
        click.echo(f"wrote {len(rows)} row{'s' if len(rows) != 1 else ''} to {out_csv}", err=True)
    if as_json:
        echo_json(docs)
    click.echo(f"mien: {NOTICE}", err=True)
    if failures:
        raise click.exceptions.Exit(2)


def _summary(result) -> str:
    parts = []
    for name in ("ipd", "nose_width", "mouth_width", "face_width", "asymmetry_index"):
        m = result[name]
        parts.append(f"{name}={m.value:.1f}±{m.uncertainty:.1f}{m.unit}" if m.value is not None else f"{name}=-")
    untrusted = sum(m.value is None for m in result.measures)
    pose = result.face.pose
    return (f"{result.source}: " + " ".join(parts)
            + f" (yaw {pose.yaw:.0f}, {untrusted} of {len(result.measures)} measures left empty)")


def _amount_option(name: str, unit: str, example: str):
    from ..face3d.simulate import EDITS

    spec = EDITS[name]
    return click.option(f"--{name.replace('_', '-')}", name, metavar=example, default=None,
                        help=f"{spec.description}; {spec.low:+g}..{spec.high:+g}{unit}.")


@click.command("simulate")
@click.argument("image")
@_amount_option("nose_width", "%", "PCT")
@_amount_option("mouth_width", "%", "PCT")
@_amount_option("lips", "%", "PCT")
@_amount_option("chin", "mm", "MM")
@click.option("-o", "--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The simulated photo (.png, .jpg or .webp), watermarked, with a provenance record.")
@click.option("--side-by-side", is_flag=True, help="Write before | after in one image.")
@click.option("--largest", is_flag=True, help="Use the largest face when the photo has several.")
@click.option("--sidecar", is_flag=True, help="Also write OUT.provenance.json.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
def simulate(image: str, nose_width: str | None, mouth_width: str | None, lips: str | None, chin: str | None,
             out_path: Path, side_by_side: bool, largest: bool, sidecar: bool, as_json: bool) -> None:
    """What-if simulation on IMAGE, e.g. --nose-width -10% --chin +3mm --lips +15%.

    The mesh regions move as asked and the photo is warped to follow; the background is left
    untouched. A simulation of the photo, not a prediction of a surgical outcome.
    """
    from ..face3d.simulate import NOTICE, Changes, parse_amount
    from ..face3d.simulate import simulate as run
    from ..provenance import save_with_record

    if out_path.suffix.lower() not in {".png", ".jpg", ".jpeg", ".webp"}:
        raise InputError(f"cannot write a simulation as {out_path.suffix or 'an extension-less file'} with its "
                         "provenance record; use .png, .jpg or .webp")
    given = {"nose_width": nose_width, "mouth_width": mouth_width, "lips": lips, "chin": chin}
    changes = Changes(**{k: parse_amount(k, v) for k, v in given.items() if v is not None})
    result = run(image, changes, largest=largest, source=image)
    pixels = result.side_by_side() if side_by_side else result.image
    try:
        save_with_record(pixels, out_path, result.record(side_by_side), sidecar=sidecar)
    except OSError as exc:
        raise StorageError(f"cannot write {out_path}: {exc}") from exc
    if as_json:
        echo_json([{**result.to_dict(), "output": str(out_path)}])
    else:
        click.echo(f"wrote {out_path} ({', '.join(f'{k} {v:+g}' for k, v in changes.to_dict().items())}; "
                   f"largest shift {result.max_shift_px:.1f} px)")
    click.echo(f"mien: {NOTICE}", err=True)


@click.command("avatar")
@click.argument("image")
@click.option("-o", "--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="face.glb (glTF 2.0 binary) or face.obj (with face.mtl and face.png).")
@click.option("--texture-size", type=int, default=512, show_default=True, help="Texture side in pixels.")
@click.option("--largest", is_flag=True, help="Use the largest face when the photo has several.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def avatar(image: str, out_path: Path, texture_size: int, largest: bool, as_json: bool) -> None:
    """A textured 3D face from the face in IMAGE, as glTF binary or OBJ."""
    from ..face3d.avatar import FORMATS, build_avatar

    if out_path.suffix.lower() not in FORMATS:
        raise InputError(f"cannot write an avatar as {out_path.suffix or 'an extension-less file'}; use .glb or .obj")
    result = build_avatar(image, largest=largest, source=image, texture_size=texture_size)
    try:
        written = result.write(out_path)
    except OSError as exc:
        raise StorageError(f"cannot write {out_path}: {exc}") from exc
    if as_json:
        echo_json([{**result.to_dict(), "files": [str(p) for p in written]}])
    else:
        click.echo("wrote " + ", ".join(str(p) for p in written))


COMMANDS = [measure, simulate, avatar]
