"""Comparing faces: 1:1 verification at calibrated thresholds, calibration, cohort normalisation, score fusion."""

from __future__ import annotations

from .calibration import Calibration, load_calibration, save_calibration
from .cohort import Cohort, build_cohort, load_cohort, save_cohort
from .faces import RECOGNITION_DETECT_SIZES, detect_with_fallback, one_face, recognition_detector
from .verify import DEFAULT_FMR, Verification, embed_image, verify, verify_images

__all__ = [
    "DEFAULT_FMR", "RECOGNITION_DETECT_SIZES", "Calibration", "Cohort", "build_cohort", "load_cohort", "save_cohort", "Verification", "detect_with_fallback", "embed_image",
    "load_calibration", "one_face", "recognition_detector", "save_calibration", "verify", "verify_images",
]
