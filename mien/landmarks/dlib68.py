"""dlib's 68-point shape predictor (iBUG 300-W markup).

The weights were trained on iBUG 300-W, whose licence forbids commercial use: this
model is for research only (``commercial=False`` in the registry). Detector boxes are
mapped to dlib's HOG box convention first (see ``mien.attributes.chips``).
"""

from __future__ import annotations

import numpy as np

from ..attributes.base import check_rgb
from ..attributes.chips import dlib_shapes
from ..types import Faces
from .base import Landmarks


class Dlib68:
    model = "dlib-shape68"

    def predict(self, image: np.ndarray, faces: Faces) -> Landmarks:
        check_rgb(image)
        shapes = dlib_shapes(image, faces, self.model)
        pts = np.array([[(s.part(j).x, s.part(j).y) for j in range(68)] for s in shapes], np.float32)
        return Landmarks(pts.reshape(len(faces), 68, 2), np.ones(len(faces), np.float32), self.model)

    def __call__(self, image: np.ndarray, faces: Faces) -> Landmarks:
        return self.predict(image, faces)
