"""Find the one face to embed in an image, with clear errors and a fallback for hard images.

``one_face`` runs the detector; when it finds nothing it retries with a lower score
threshold, then on the image padded and enlarged 2x (faces that fill the frame or are
small are missed by detectors at native size). Several faces are an error unless
``largest=True``.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..detect import Detector, get_detector
from ..errors import MultipleFacesError, NoFaceError
from ..types import Faces

FALLBACK_THRESHOLD = 0.2


def detect_with_fallback(image: np.ndarray, detector: Detector) -> tuple[Faces, str]:
    """Faces in ``image`` and which pass found them: "normal", "low-threshold" or "padded-2x"."""
    faces = detector.detect(image)
    if len(faces):
        return faces, "normal"
    if detector.score_threshold > FALLBACK_THRESHOLD:
        faces = _low_threshold(detector).detect(image)
        if len(faces):
            return faces, "low-threshold"
    h, w = image.shape[:2]
    pad = max(h, w) // 4
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    big = cv2.resize(padded, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LINEAR)
    faces = _low_threshold(detector).detect(big)
    if len(faces):
        return faces.scaled(0.5, (-pad, -pad)), "padded-2x"
    return faces, "none"


_LOW: dict[int, Detector] = {}


def _low_threshold(detector: Detector) -> Detector:
    key = id(detector)
    if key not in _LOW:
        _LOW[key] = get_detector(detector.name, score_threshold=min(detector.score_threshold, FALLBACK_THRESHOLD))
    return _LOW[key]


def one_face(image: np.ndarray, detector: Detector, source: str = "image", largest: bool = False) -> Faces:
    """Exactly one face of ``image`` (the largest when ``largest``), else a typed error."""
    faces, _ = detect_with_fallback(image, detector)
    if not len(faces):
        raise NoFaceError(source, f"{detector.name} found nothing, also at a lower threshold and on a 2x enlarged copy")
    if len(faces) > 1 and not largest:
        raise MultipleFacesError(source, len(faces))
    return faces.largest()
