"""Options and helpers shared by the CLI's commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

import click

from ..detect import DEFAULT_DETECTOR, DETECTORS

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


def detector_options(func):
    """--detector, --threshold, --min-face, --tile."""
    func = click.option("--tile", type=int, default=None, help="Also scan native-resolution tiles of this size (small faces in big images).")(func)
    func = click.option("--min-face", type=float, default=0.0, show_default=True, help="Ignore faces shorter than this many pixels.")(func)
    func = click.option("--threshold", type=float, default=None, help="Detector score threshold (detector's default if unset).")(func)
    func = click.option("--detector", type=click.Choice(sorted(DETECTORS)), default=DEFAULT_DETECTOR, show_default=True)(func)
    return func


def build_detector(detector: str, threshold: float | None, min_face: float, tile: int | None):
    from ..detect import get_detector

    options: dict[str, Any] = {"min_face": min_face, "tile": tile}
    if threshold is not None:
        options["score_threshold"] = threshold
    return get_detector(detector, **options)


def expand_images(inputs: Iterable[str]) -> list[Path]:
    """Files as given; folders expanded recursively to the image files inside."""
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
        else:
            out.append(path)
    return out


def key_values(items: Iterable[str], what: str) -> dict[str, str]:
    """``NAME=VALUE`` options as a dict; anything else is an ``InputError`` naming the option."""
    from ..errors import InputError

    out = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"{what} must look like NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def progress(items: list, label: str) -> Iterator:
    """A tqdm bar on stderr for more than one item, silent otherwise."""
    if len(items) <= 1:
        return iter(items)
    from tqdm import tqdm

    return iter(tqdm(items, desc=label, unit="img", file=sys.stderr, leave=False))


def echo_json(results: list[dict[str, Any]]) -> None:
    """One JSON document for one result, a JSON list for several.

    Each document that used a model not cleared for commercial use says so in
    ``non_commercial_models``.
    """
    from ..models.notices import with_notices

    for doc in results:
        with_notices(doc)
    click.echo(json.dumps(results[0] if len(results) == 1 else results, indent=2))


def write_csv(path: Path, rows: list[dict], columns: Iterable[str], what: str | None = None) -> None:
    """Rows as a CSV file, written whole or not at all; StorageError naming ``what`` (default: the path)."""
    import csv
    import io

    from ..atomic import write_atomic
    from ..errors import StorageError

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns))
    writer.writeheader()
    writer.writerows(rows)
    try:
        write_atomic(path, buffer.getvalue().encode())
    except OSError as exc:
        raise StorageError(f"cannot write {what or path}: {exc}") from exc
