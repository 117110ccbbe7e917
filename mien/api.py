"""The short functions most users need: detect and align, by name or with a detector object."""

from __future__ import annotations

from typing import Any

from .align import align_faces
from .detect import DEFAULT_DETECTOR, Detector, get_detector
from .image import ImageInput, load_image
from .types import AlignedFaces, Faces

_detectors: dict[tuple[str, tuple], Detector] = {}


def _cached_detector(name: str, options: dict[str, Any]) -> Detector:
    key = (name, tuple(sorted(options.items())))
    if key not in _detectors:
        _detectors[key] = get_detector(name, **options)
    return _detectors[key]


def detect(image: ImageInput, detector: str | Detector = DEFAULT_DETECTOR, **options: Any) -> Faces:
    """Faces in one image. ``image`` is anything ``load_image`` accepts."""
    pixels = load_image(image)  # arrays already RGB uint8 pass through without a copy
    det = detector if isinstance(detector, Detector) else _cached_detector(detector, options)
    return det.detect(pixels)


def align(image: ImageInput, faces: Faces, template: str = "arcface112") -> AlignedFaces:
    """Crops of ``faces`` aligned to a template ("arcface112" or "dlib150")."""
    pixels = load_image(image)
    return align_faces(pixels, faces, template)
