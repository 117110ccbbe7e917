"""Face detectors behind one interface. ``get_detector(name)`` builds one by name."""

from __future__ import annotations

from typing import Any

from .._lazy import resolve
from ..errors import InputError
from .base import Detector, DetectorInfo, nms

# name -> "module:Class"; imported only when asked for, so importing mien loads nothing.
DETECTORS: dict[str, str] = {
    "centerface": "mien.detect.centerface:CenterFace",
    "blazeface": "mien.detect.blazeface:BlazeFace",
    "dlib-hog": "mien.detect.dlib_hog:DlibHog",
}

DEFAULT_DETECTOR = "centerface"
# Detectors whose network input size can be set (their ``max_side`` option).
RESIZABLE_DETECTORS = ("centerface",)


def detector_class(name: str) -> type[Detector]:
    return resolve(DETECTORS, name, "detector")


def get_detector(name: str = DEFAULT_DETECTOR, detect_size: int | None = None, **options: Any) -> Detector:
    """A detector by name, with options (score_threshold, min_face, nms_iou, tile, ...).

    ``detect_size`` caps the long side of the image the network sees (resizable detectors only).
    """
    if detect_size is not None:
        if name not in RESIZABLE_DETECTORS:
            raise InputError(f"detect size applies to {', '.join(RESIZABLE_DETECTORS)} only, not {name!r}")
        if detect_size < 32:
            raise InputError(f"detect size must be >= 32 pixels, got {detect_size}")
        options["max_side"] = int(detect_size)
    return detector_class(name)(**options)


__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "RESIZABLE_DETECTORS", "Detector", "DetectorInfo", "detector_class", "get_detector", "nms"]
