"""File-level edits behind the CLI and the HTTP routes: read, edit, write with provenance, report.

Each function returns the JSON-ready report that ``mien ... --json`` prints and the HTTP
route returns: the edit's ``to_dict()``, the output path and what provenance it carries.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ..errors import InputError
from ..image import load_image
from .output import record, save_frames_with_record, save_image_with_record

MESH_MODEL = "face-mesh"


def _report(result: dict[str, Any], output: Path, rec, watermarked: bool = True) -> dict[str, Any]:
    return {**result, "output": str(output),
            "provenance": {"watermark": watermarked, "record": True, "operation": rec.operation}}


def morph_files(paths: Sequence[str | os.PathLike], output: str | os.PathLike, frames: int = 24, fps: float = 12.0,
                size: int = 384) -> dict[str, Any]:
    from .morph import morph_faces

    output = Path(output)
    _check_animation(output)
    images = [load_image(p) for p in paths]
    result = morph_faces(images, [str(p) for p in paths], frames=frames, size=size)
    rec = record("edit", MESH_MODEL, edit="morph", faces=len(images), frames=len(result.frames), fps=fps, size=size)
    save_frames_with_record(result.frames, output, rec, fps=fps)
    from ..provenance.watermark import TILE

    return _report(result.to_dict(), output, rec, size >= TILE)


def mean_face_files(paths: Sequence[str | os.PathLike], output: str | os.PathLike, size: int = 384) -> dict[str, Any]:
    from .morph import mean_face
    from .output import IMAGE_FORMATS

    output = Path(output)
    if output.suffix.lower() not in IMAGE_FORMATS:
        raise InputError(f"{output}: write the mean face as {', '.join(IMAGE_FORMATS)}")
    if not paths:
        raise InputError("no images to average")
    images, names, skipped = [], [], []
    for p in paths:
        try:
            images.append(load_image(p))
            names.append(str(p))
        except InputError as exc:
            skipped.append({"image": str(p), "reason": str(exc)})
    result = mean_face(images, names, size=size)
    rec = record("edit", MESH_MODEL, edit="mean-face", faces=len(result.used), size=size)
    marked = save_image_with_record(result.image, output, rec)
    report = _report(result.to_dict(), output, rec, marked)
    report["skipped"] = skipped + report["skipped"]
    return report


def _check_animation(output: Path) -> None:
    from ..video.io import VIDEO_SUFFIXES
    from .output import ANIMATION_SUFFIXES

    if output.suffix.lower() not in ANIMATION_SUFFIXES + VIDEO_SUFFIXES:
        raise InputError(f"{output}: write a morph as .gif or a video ({', '.join(VIDEO_SUFFIXES)})")


def swap_file(source: str | os.PathLike, target: str | os.PathLike, output: str | os.PathLike, consent: bool = False,
              largest: bool = False, shape: float | None = None) -> dict[str, Any]:
    """Swap the face of ``source`` onto ``target`` into ``output``; consent is recorded in the provenance."""
    from .output import IMAGE_FORMATS
    from .swap import SHAPE, require_consent, swap_face

    require_consent(consent)  # before reading anything
    output = Path(output)
    if output.suffix.lower() not in IMAGE_FORMATS:
        raise InputError(f"{output}: write a swapped photo as {', '.join(IMAGE_FORMATS)} (videos: swap_video)")
    shape = SHAPE if shape is None else shape
    result = swap_face(load_image(source), load_image(target), consent, str(source), str(target), largest, shape)
    rec = record("swap", MESH_MODEL, edit="face-swap", source=Path(source).name, target=Path(target).name,
                 consent=True, consent_statement="the caller stated that the source person consented", shape=shape)
    marked = save_image_with_record(result.image, output, rec)
    return _report({"source": str(source), "target": str(target), **result.to_dict()}, output, rec, marked)


def tryon_file(source: str | os.PathLike, output: str | os.PathLike, glasses: Any = None, lipstick: Any = None,
               blush: Any = None, strength: float = 0.6, frame_colour: Any = None, largest: bool = False,
               **makeup: Any) -> dict[str, Any]:
    """Try glasses and make-up on the face in a photo; written with mien's provenance."""
    from .output import IMAGE_FORMATS
    from .tryon import try_on

    output = Path(output)
    if output.suffix.lower() not in IMAGE_FORMATS:
        raise InputError(f"{output}: write a try-on photo as {', '.join(IMAGE_FORMATS)} (videos: tryon_video)")
    result = try_on(load_image(source), glasses, lipstick, blush, strength, frame_colour, largest, str(source), **makeup)
    rec = record("edit", MESH_MODEL, edit="try-on", **_tryon_params(result, strength))
    marked = save_image_with_record(result.image, output, rec)
    return _report({"image": str(source), **result.to_dict()}, output, rec, marked)


def _tryon_params(result: Any, strength: float) -> dict[str, Any]:
    return {"glasses": result.glasses.frame if result.glasses is not None else None,
            **{name: colour.hex for name, colour in result.makeup.items()}, "strength": strength}
