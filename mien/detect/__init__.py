"""Face detectors behind one interface. ``get_detector(name)`` builds one by name."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ..errors import UnknownModelError
from .base import Detector, DetectorInfo, nms

# name -> "module:Class"; imported only when asked for, so importing mien loads nothing.
DETECTORS: dict[str, str] = {
    "centerface": "mien.detect.centerface:CenterFace",
    "blazeface": "mien.detect.blazeface:BlazeFace",
    "dlib-hog": "mien.detect.dlib_hog:DlibHog",
}

DEFAULT_DETECTOR = "centerface"


def detector_class(name: str) -> type[Detector]:
    try:
        target = DETECTORS[name]
    except KeyError:
        raise UnknownModelError(name, list(DETECTORS), kind="detector") from None
    module, cls = target.split(":")
    return getattr(import_module(module), cls)


def get_detector(name: str = DEFAULT_DETECTOR, **options: Any) -> Detector:
    """A detector by name, with options (score_threshold, min_face, nms_iou, tile, ...)."""
    return detector_class(name)(**options)


__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "Detector", "DetectorInfo", "detector_class", "get_detector", "nms"]
