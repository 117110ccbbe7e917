"""Provenance for every image mien generates or edits: an invisible watermark plus a metadata record.

    >>> from mien import provenance
    >>> record = provenance.ProvenanceRecord(operation="generate", model="gan128")
    >>> marked = provenance.mark(image, "generate")          # watermark (survives JPEG 75, 0.5x, crops)
    >>> provenance.save_with_record(marked, "out.png", record, sidecar=True)
    >>> report = provenance.check("out.png")                 # both halves, read back
    >>> report.watermark.detected, report.record.model

Generation, editing and anonymisation call :func:`mark` and :func:`save_with_record`
with their own operation name (see ``OPERATIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import watermark
from .record import (OPERATIONS, RECORD_FORMATS, ProvenanceRecord, operation_code, operation_name, read_record,
                     read_video_record, record_save_options, save_with_record, sidecar_path)
from .watermark import WatermarkResult

__all__ = [
    "OPERATIONS",
    "RECORD_FORMATS",
    "ProvenanceRecord",
    "ProvenanceReport",
    "WatermarkResult",
    "check",
    "detect_watermark",
    "mark",
    "read_record",
    "record_save_options",
    "save_with_record",
    "sidecar_path",
]


def mark(image: np.ndarray, operation: str, strength: float = watermark.DEFAULT_STRENGTH,
         verify: bool = True) -> np.ndarray:
    """Return a copy of an RGB uint8 image (at least 128 px a side) carrying mien's watermark.

    With ``verify`` (the default) the mark is read back from the result and from a
    half-size JPEG-75 copy, and re-embedded more strongly where the image's texture
    drowned it (:func:`watermark.embed_verified`); ``strength`` is where it starts.
    """
    if verify:
        return watermark.embed_verified(image, operation_code(operation), strength)[0]
    return watermark.embed(image, operation_code(operation), strength)


def detect_watermark(image: np.ndarray) -> WatermarkResult:
    return watermark.detect(image)


@dataclass(frozen=True)
class ProvenanceReport:
    path: str
    watermark: WatermarkResult
    record: ProvenanceRecord | None
    record_source: str | None  # png-text, xmp, comment, sidecar

    @property
    def operation(self) -> str | None:
        if self.watermark.detected and self.watermark.operation_code is not None:
            return operation_name(self.watermark.operation_code)
        return self.record.operation if self.record else None

    def to_dict(self) -> dict[str, Any]:
        wm = self.watermark
        return {
            "image": self.path,
            "watermark": {
                "detected": wm.detected,
                "score": wm.score,
                "threshold": watermark.SYNC_THRESHOLD,
                "operation": operation_name(wm.operation_code) if wm.operation_code is not None else None,
                "bit_errors": wm.bit_errors,
                "scale": round(wm.scale, 3),
            },
            "metadata": self.record.to_dict() if self.record else None,
            "metadata_source": self.record_source,
        }


def check(path: str | Path) -> ProvenanceReport:
    """Read the metadata record (if any) and look for the watermark in an image or video file.

    Videos: the record from the container's comment tag (or a sidecar); the watermark from
    ``VIDEO_FRAMES_CHECKED`` frames, every 12th from the start, the strongest reading.
    """
    from ..video.io import VIDEO_SUFFIXES

    if Path(path).suffix.lower() in VIDEO_SUFFIXES:
        return _check_video(Path(path))
    from ..image import load_image

    image = load_image(path)
    record, where = read_record(path)
    return ProvenanceReport(str(path), watermark.detect(image), record, where)


VIDEO_FRAMES_CHECKED = 5


def _check_video(path: Path) -> ProvenanceReport:
    from ..errors import VideoError
    from ..video.io import container_metadata, read_frames

    frames = read_frames(path, limit=VIDEO_FRAMES_CHECKED, stride=12)
    if not frames:
        raise VideoError(f"{path}: no video frames to check")
    best = max((watermark.detect(f) for f in frames), key=lambda r: (r.detected, r.score))
    tags = {k.lower(): v for k, v in container_metadata(path).items()}  # Matroska writes COMMENT
    record, where = read_video_record(path, tags.get("comment"))
    return ProvenanceReport(str(path), best, record, where)
