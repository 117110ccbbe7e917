"""Writing edited images, GIFs and videos with mien's provenance, atomically.

Every output carries the invisible watermark (each frame of an animation or video) and a
``ProvenanceRecord`` (PNG text + XMP, JPEG/WebP XMP, GIF comment, a video container's
comment tag). Files are encoded in memory (or under a temporary name, for videos) and
renamed into place, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..atomic import write_atomic
from ..errors import ImageError, InputError
from ..provenance import ProvenanceRecord, mark, operation_code, record_save_options
from ..provenance.watermark import TILE, FrameMarker

IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
ANIMATION_SUFFIXES = (".gif",)


def record(operation: str, model: str, **params: Any) -> ProvenanceRecord:
    return ProvenanceRecord(operation, model, params={k: v for k, v in params.items() if v is not None})


def mark_image(image: np.ndarray, operation: str) -> tuple[np.ndarray, bool]:
    """The image with the watermark (verified), and whether it was big enough to carry it."""
    if min(image.shape[:2]) < TILE:
        return image, False
    return mark(image, operation), True


def save_image_with_record(image: np.ndarray, path: str | os.PathLike, rec: ProvenanceRecord, quality: int = 92) -> bool:
    """Watermark ``image`` and write it with ``rec`` embedded; .png, .jpg or .webp. Returns whether
    the image was big enough (``TILE`` px a side) to carry the watermark."""
    from PIL import Image

    path = Path(path)
    fmt = IMAGE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: write edited photos as {', '.join(IMAGE_FORMATS)}")
    marked, watermarked = mark_image(image, rec.operation)
    buffer = io.BytesIO()
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    Image.fromarray(marked).save(buffer, format=fmt, **options, **record_save_options(rec, fmt))
    _write(path, buffer.getvalue())
    return watermarked


def save_frames_with_record(frames: Sequence[np.ndarray], path: str | os.PathLike, rec: ProvenanceRecord,
                            fps: float = 12.0) -> Path:
    """An animated GIF (looping) or a video (.mp4, .webm, ...) of ``frames``, each watermarked."""
    from ..video.io import VIDEO_SUFFIXES, write_video

    path = Path(path)
    suffix = path.suffix.lower()
    marker = FrameMarker(operation_code(rec.operation))
    if suffix in ANIMATION_SUFFIXES:
        from PIL import Image

        seq = [Image.fromarray(marker(f)) for f in frames]
        buffer = io.BytesIO()
        seq[0].save(buffer, format="GIF", save_all=True, append_images=seq[1:], duration=int(round(1000 / fps)),
                    loop=0, comment=rec.to_json().encode())
        return _write(path, buffer.getvalue())
    if suffix not in VIDEO_SUFFIXES:
        raise InputError(f"{path}: write an animation as .gif or a video ({', '.join(VIDEO_SUFFIXES)})")
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        write_video(partial, (marker(f) for f in frames), fps=fps, metadata={"comment": rec.to_json()})
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _write(path: Path, data: bytes) -> Path:
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise ImageError(f"{path}: cannot write ({exc.strerror or exc})") from exc
