"""dlib's HOG + linear SVM frontal face detector, with 5 landmarks from dlib's shape predictor.

The detector is built into dlib (no weight file); the landmarks come from
``shape_predictor_5_face_landmarks.dat`` (CC0). dlib's five points are the outer and
inner corners of both eyes and the base of the nose, so mien maps them to its
5-point set: eye centres, nose, and mouth corners estimated from the face geometry.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..models.runtime import dlib_shape_predictor
from ..types import Faces
from .base import Detector, DetectorInfo

# Mouth corners relative to the nose base, in units of the inter-ocular vector, fitted to
# the ArcFace 112x112 template (eyes 35.3 px apart, mouth 20.5 px below the nose tip).
_MOUTH_DOWN = 0.45
_MOUTH_HALF_WIDTH = 0.42


@lru_cache(maxsize=1)
def _hog():
    import dlib

    return dlib.get_frontal_face_detector()


class DlibHog(Detector):
    info = DetectorInfo("dlib-hog", ("dlib-shape5",), "dlib HOG + SVM detector, landmarks from dlib's 5-point predictor, CC0")

    def __init__(
        self,
        score_threshold: float = 0.0,
        min_face: float = 0.0,
        nms_iou: float = 0.4,
        tile: int | None = None,
        upsample: int = 1,
    ) -> None:
        super().__init__(score_threshold, min_face, nms_iou, tile)
        self.upsample = int(upsample)
        self._detector = _hog()
        self._shapes = dlib_shape_predictor("dlib-shape5")

    def _candidates(self, image: np.ndarray) -> Faces:
        # The SVM score is a margin (negative to ~3); run with a floor of -0.5 and let the base threshold.
        rects, scores, _ = self._detector.run(image, self.upsample, min(self.score_threshold, -0.5))
        if not rects:
            return Faces.empty()
        boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects], np.float32)
        shape5 = np.stack([_shape_points(self._shapes(image, r)) for r in rects])
        landmarks = np.stack([five_point_from_dlib(points) for points in shape5])
        return Faces(boxes, np.asarray(scores, np.float32), landmarks, {"dlib_shape5": shape5})


def _shape_points(shape) -> np.ndarray:
    return np.array([[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)], np.float32)


def five_point_from_dlib(pts: np.ndarray) -> np.ndarray:
    """Map dlib's (eye corners x4, nose base) to (eye, eye, nose, mouth, mouth), image-left first."""
    eye_a = pts[0:2].mean(axis=0)
    eye_b = pts[2:4].mean(axis=0)
    left, right = (eye_a, eye_b) if eye_a[0] <= eye_b[0] else (eye_b, eye_a)
    nose = pts[4]
    across = right - left
    down = np.array([-across[1], across[0]], np.float32)  # perpendicular, pointing down the face
    mouth_centre = nose + _MOUTH_DOWN * down
    return np.stack([left, right, nose, mouth_centre - _MOUTH_HALF_WIDTH * across, mouth_centre + _MOUTH_HALF_WIDTH * across])
