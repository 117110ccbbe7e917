"""The attribute-model contract and the result type every attribute model returns.

An attribute model turns an image plus the ``Faces`` found in it into one
``Prediction`` per face: a value (a number for age, a label for classes), the
probability the model gave it, the model's registry name, and for classifiers the
probability of every class. Models load their weights lazily on first use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ShapeError
from ..types import Faces


@dataclass(frozen=True)
class Prediction:
    """One attribute of one face.

    ``value`` is the age in years (float) or the winning class label (str);
    ``probability`` is the model's probability for that value (for age: the largest
    class probability, a measure of how peaked the distribution is); ``model`` is the
    registry name of the weights; ``scores`` maps every class to its probability.
    """

    task: str
    value: float | str
    probability: float
    model: str
    scores: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self, decimals: int = 4) -> dict[str, Any]:
        value = round(self.value, 1) if isinstance(self.value, float) else self.value
        out: dict[str, Any] = {"value": value, "probability": round(self.probability, decimals), "model": self.model}
        if self.scores:
            out["scores"] = {k: round(float(v), decimals) for k, v in self.scores.items()}
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


def check_rgb(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        actual = f"{getattr(image, 'shape', None)} {getattr(image, 'dtype', type(image).__name__)}"
        raise ShapeError("image", "(H, W, 3) uint8 RGB (use mien.load_image)", actual)
