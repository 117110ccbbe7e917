"""The attribute-model contract and the result type every attribute model returns.

An attribute model turns an image plus the ``Faces`` found in it into one
``Prediction`` per face: a value (a number for age, a label for classes), the
probability the model gave it, the model's registry name, and for classifiers the
probability of every class. Models load their weights lazily on first use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError, ShapeError
from ..types import Faces

ABSTAIN = "unknown"  # the value of a classifier's prediction withheld for low probability


@dataclass(frozen=True)
class Prediction:
    """One attribute of one face.

    ``value`` is the age in years (float) or the winning class label (str);
    ``probability`` is the model's probability for that value (for age: the largest
    class probability, a measure of how peaked the distribution is); ``model`` is the
    registry name of the weights; ``scores`` maps every class to its probability.
    ``interval`` (ages, where the model has a calibrated one): (low, high) expected to hold
    the true value with probability ``interval_level``, as measured on held-out data.
    """

    task: str
    value: float | str
    probability: float
    model: str
    scores: Mapping[str, float] = field(default_factory=dict)
    interval: tuple[float, float] | None = None
    interval_level: float | None = None

    @property
    def withheld(self) -> bool:
        """True when the value was withheld (``ABSTAIN``) because the model was not sure enough."""
        return self.value == ABSTAIN

    def to_dict(self, decimals: int = 4) -> dict[str, Any]:
        value = round(self.value, 1) if isinstance(self.value, float) else self.value
        out: dict[str, Any] = {"value": value, "probability": round(self.probability, decimals), "model": self.model}
        if self.scores:
            out["scores"] = {k: round(float(v), decimals) for k, v in self.scores.items()}
        if self.interval is not None:
            out["interval"] = [round(float(v), 1) for v in self.interval]
            out["interval_level"] = self.interval_level
        return out


class AttributeModel(ABC):
    """Base class: ``predict(image, faces) -> list[Prediction]``, one per face."""

    task: str
    model: str  # registry name of the weights

    def predict(self, image: np.ndarray, faces: Faces) -> list[Prediction]:
        check_rgb(image)
        if not len(faces):
            return []
        return self.from_probabilities(self.probabilities(image, faces))

    def __call__(self, image: np.ndarray, faces: Faces) -> list[Prediction]:
        return self.predict(image, faces)

    @abstractmethod
    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        """(N, classes) float32 probabilities, one row per face."""

    @abstractmethod
    def from_probabilities(self, probs: np.ndarray) -> list[Prediction]:
        """Turn the network's rows into predictions."""


class Classifier(AttributeModel):
    """An attribute model whose output is a softmax over named classes."""

    labels: Sequence[str]

    def from_probabilities(self, probs: np.ndarray) -> list[Prediction]:
        out = []
        for row in np.asarray(probs, np.float64):
            best = int(np.argmax(row))
            out.append(Prediction(self.task, self.labels[best], float(row[best]), self.model,
                                  dict(zip(self.labels, map(float, row)))))
        return out


class Abstaining(AttributeModel):
    """A classifier that answers ``ABSTAIN`` when its top probability is under ``min_probability``.

    The scores and the probability stay in the prediction, so callers can still see what
    the model leaned towards. Meant for decisions that should rather not guess: on UTKFace
    ``dlib-gender`` is right 90.3% of the time over all faces, and 93.1% of the time on the
    93.3% of faces where its probability is at least 0.8 (docs/analysis.md).
    """

    def __init__(self, inner: AttributeModel, min_probability: float) -> None:
        if not isinstance(inner, Classifier):
            raise InputError(f"{inner.model} ({inner.task}) is not a classifier: only classes can be withheld "
                             "for low probability")
        if not 0.0 <= min_probability <= 1.0:
            raise InputError(f"min_probability must be within 0..1, got {min_probability}")
        self.inner, self.min_probability = inner, float(min_probability)
        self.task, self.model = inner.task, inner.model

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        return self.inner.probabilities(image, faces)

    def from_probabilities(self, probs: np.ndarray) -> list[Prediction]:
        return [withhold(p, self.min_probability) for p in self.inner.from_probabilities(probs)]


def withhold(prediction: Prediction, min_probability: float) -> Prediction:
    """``prediction`` with its value replaced by ``ABSTAIN`` when its probability is under ``min_probability``."""
    if prediction.probability >= min_probability:
        return prediction
    return replace(prediction, value=ABSTAIN)


def withholding(models: Sequence[AttributeModel], min_probability: Mapping[str, float]) -> list[AttributeModel]:
    """``models`` with those whose task has a minimum probability wrapped in ``Abstaining``."""
    unknown = set(min_probability) - {m.task for m in models}
    if unknown:
        raise InputError(f"min_probability names {', '.join(sorted(unknown))}, which is not among the attributes "
                         f"asked for ({', '.join(m.task for m in models) or 'none'})")
    return [Abstaining(m, min_probability[m.task]) if m.task in min_probability else m for m in models]


def check_rgb(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        actual = f"{getattr(image, 'shape', None)} {getattr(image, 'dtype', type(image).__name__)}"
        raise ShapeError("image", "(H, W, 3) uint8 RGB (use mien.load_image)", actual)
