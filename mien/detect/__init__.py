"""Face detectors behind one interface. ``get_detector(name)`` builds one by name."""

from __future__ import annotations

from typing import Any

from .._lazy import resolve
from .base import Detector, DetectorInfo, nms

# name -> "module:Class"; imported only when asked for, so importing mien loads nothing.
DETECTORS: dict[str, str] = {
    "centerface": "mien.detect.centerface:CenterFace",
    "blazeface": "mien.detect.blazeface:BlazeFace",
    "dlib-hog": "mien.detect.dlib_hog:DlibHog",
}

DEFAULT_DETECTOR = "centerface"


def detector_class(name: str) -> type[Detector]:
    return resolve(DETECTORS, name, "detector")


def get_detector(name: str = DEFAULT_DETECTOR, **options: Any) -> Detector:
    """A detector by name, with options (score_threshold, min_face, nms_iou, tile, ...)."""
    return detector_class(name)(**options)


__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "Detector", "DetectorInfo", "detector_class", "get_detector", "nms"]
