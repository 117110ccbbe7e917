"""``mien detect``: find faces and print or draw them."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError, MienError
from .common import build_detector, detector_options, echo_json, expand_images, progress


@click.command("detect")
@click.argument("images", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per image.")
@click.option("--draw", "draw_to", type=click.Path(path_type=Path), help="Write an annotated image (a folder for several inputs).")
@detector_options
def detect(images: tuple[str, ...], as_json: bool, draw_to: Path | None, detector: str, threshold: float | None,
           min_face: float, tile: int | None) -> None:
    """Detect faces in IMAGES (files or folders)."""
    from ..draw import draw_faces
    from ..image import load_image, save_image

    paths = expand_images(images)
    if not paths:
        raise InputError("no images found in the given paths")
    det = build_detector(detector, threshold, min_face, tile)
    results, failures = [], 0
    for path in progress(paths, "detect"):
        try:
            pixels = load_image(path)
            faces = det.detect(pixels)
        except MienError as exc:
            failures += 1
            results.append({"image": str(path), "error": str(exc)})
            click.echo(f"mien: error: {exc}", err=True)
            continue
        results.append({"image": str(path), "detector": det.name, "width": pixels.shape[1], "height": pixels.shape[0],
                        "faces": faces.to_list()})
        if draw_to is not None:
            target = draw_to / f"{path.stem}_faces.png" if len(paths) > 1 or draw_to.is_dir() else draw_to
            save_image(draw_faces(pixels, faces), target)
        if not as_json:
            click.echo(f"{path}: {len(faces)} face{'s' if len(faces) != 1 else ''}")
            for face in results[-1]["faces"]:
                click.echo(f"  box={face['box']} score={face['score']}")
    if as_json:
        echo_json(results)
    if failures:
        raise click.exceptions.Exit(2)


COMMANDS = [detect]
