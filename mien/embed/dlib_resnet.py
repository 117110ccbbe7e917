"""dlib's ResNet face descriptor (128-D, Euclidean), run as ONNX on onnxruntime in batches.

The ONNX file is rebuilt from dlib's own ``.dat`` by ``mien.convert.dlib_resnet`` at pull
time (``mien models pull dlib-resnet-onnx``); its output equals dlib's within 1e-6.

The network was trained on dlib's face chips: 150x150 crops cut by
``dlib.get_face_chip`` (padding 0.25) from dlib's 5-point shape predictor. Two ways to
cut that chip from another detector's output, measured on LFW (docs/recognition.md):

* ``aligner="landmarks"`` (default): a similarity transform from the detector's 5
  landmarks to the ``dlib150`` template (where dlib's chip puts those points); with
  CenterFace this was the more accurate (99.22% vs 99.10% with flip TTA) and is faster.
* ``aligner="shape5"``: dlib's own pipeline: ``dlib_chips`` takes the shape predictor's
  points from the detector when it is dlib's own (the ``dlib_shape5`` extra), otherwise it
  maps the detector's box to the box HOG would have drawn (fitted on LFW for CenterFace),
  runs the shape predictor on it and cuts the chip with ``dlib.extract_image_chips``.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import InputError
from ..models.runtime import dlib_shape_predictor, onnx_session
from ..types import AlignedFaces, Faces
from .base import Embedder, EmbedderInfo
from .tta import DEFAULT_JITTERS

CHIP_SIZE = 150
CHIP_PADDING = 0.25

# HOG box from a CenterFace box, fitted on 513 LFW images found by both (median ratios):
# side = 1.112 x box width, centre shifted by (-0.026 w, +0.047 h).
_HOG_SIDE = 1.112
_HOG_SHIFT = (-0.026, 0.047)


def hog_like_boxes(boxes: np.ndarray) -> np.ndarray:
    """Square boxes like dlib's HOG detector draws, from other detectors' xyxy boxes."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 + _HOG_SHIFT[0] * w
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 + _HOG_SHIFT[1] * h
    half = _HOG_SIDE * w / 2
    return np.stack([cx - half, cy - half, cx + half, cy + half], axis=1)


def dlib_chips(image: np.ndarray, faces: Faces, size: int = CHIP_SIZE, padding: float = CHIP_PADDING) -> AlignedFaces:
    """dlib's face chips for ``faces``, with the image->chip matrices."""
    import dlib

    if not len(faces):
        return AlignedFaces(np.zeros((0, size, size, 3), np.uint8), np.zeros((0, 2, 3)), "dlib150", faces)
    shapes = []
    points = faces.extras.get("dlib_shape5")
    predictor = dlib_shape_predictor("dlib-shape5") if points is None else None
    for i, box in enumerate(hog_like_boxes(faces.boxes) if points is None else faces.boxes):
        rect = dlib.rectangle(*(int(round(v)) for v in box[:2]), *(int(round(v)) - 1 for v in box[2:]))
        if points is None:
            shapes.append(predictor(image, rect))
        else:
            shapes.append(dlib.full_object_detection(rect, [dlib.point(int(x), int(y)) for x, y in points[i]]))
    details = [dlib.get_face_chip_details(s, size, padding) for s in shapes]
    crops = np.stack([np.asarray(c, np.uint8) for c in dlib.extract_image_chips(image, details)])
    matrices = np.stack([_chip_matrix(d) for d in details])
    return AlignedFaces(crops, matrices, "dlib150", faces)


def _chip_matrix(details) -> np.ndarray:
    """The image->chip affine of a dlib ``chip_details`` (dlib maps rotated rect corners to chip corners)."""
    r = details.rect
    centre = np.array([(r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2])
    c, s = np.cos(details.angle), np.sin(details.angle)
    rot = np.array([[c, -s], [s, c]])
    corners = np.array([[r.left(), r.top()], [r.right(), r.top()], [r.right(), r.bottom()]])
    image_pts = (corners - centre) @ rot.T + centre
    chip_pts = np.array([[0, 0], [details.cols - 1, 0], [details.cols - 1, details.rows - 1]], np.float64)
    return cv2.getAffineTransform(image_pts.astype(np.float32), chip_pts.astype(np.float32)).astype(np.float64)


class DlibResNet(Embedder):
    info = EmbedderInfo(
        name="dlib-resnet",
        models=("dlib-resnet-onnx", "dlib-shape5"),
        dim=128,
        input_size=(CHIP_SIZE, CHIP_SIZE),
        template="dlib150",
        metric="euclidean",
        description="dlib ResNet-29 face descriptor (CC0), as ONNX; dlib's chip (5-point predictor, padding 0.25)",
    )

    def __init__(self, batch_size: int = 32, flip: bool = False, threads: int | None = None,
                 aligner: str = "landmarks", tta: str | None = None, jitters: int = DEFAULT_JITTERS) -> None:
        """``aligner``: "landmarks" (the detector's 5 points warped onto mien's ``dlib150``
        template; the default, more accurate on LFW) or "shape5" (dlib's own predictor
        and chip). ``tta``: "none", "flip" or "jitter" (``mien.embed.tta``)."""
        super().__init__(batch_size, flip, tta, jitters)
        if aligner not in ("shape5", "landmarks"):
            raise InputError(f"aligner must be 'shape5' or 'landmarks', got {aligner!r}")
        self.aligner = aligner
        self._session = onnx_session("dlib-resnet-onnx", threads)

    def align(self, image: np.ndarray, faces: Faces) -> AlignedFaces:
        if self.aligner == "landmarks":
            return super().align(image, faces)
        return dlib_chips(image, faces)

    def _forward(self, crops: np.ndarray) -> np.ndarray:
        return self._session.run(["embedding"], {"input": crops.astype(np.float32)})[0]
