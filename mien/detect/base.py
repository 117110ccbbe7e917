"""The detector contract and the post-processing every detector shares.

A detector turns an RGB uint8 image into ``Faces``. Subclasses implement ``_candidates``
(one forward pass on an image of any size, returning raw boxes, scores and landmarks in
that image's pixels); the base class adds score threshold, minimum face size, NMS and
optional tiling so small faces in large images are seen at native resolution.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..errors import ShapeError
from ..types import Faces


@dataclass(frozen=True)
class DetectorInfo:
    name: str
    models: tuple[str, ...]  # registry names of the weight files it loads
    description: str


class Detector(ABC):
    """Base class: ``detect(image) -> Faces``.

    Parameters shared by all detectors:
      score_threshold  drop candidates below this confidence
      min_face         drop faces whose box height is below this many pixels
      nms_iou          IoU above which the lower-scored of two boxes is dropped
      tile             also run on overlapping native-resolution tiles of this size
                       (pixels) when the image is larger, and merge: finds small faces
                       in big photos at the cost of more forward passes
    """

    info: DetectorInfo

    def __init__(
        self,
        score_threshold: float = 0.5,
        min_face: float = 0.0,
        nms_iou: float = 0.4,
        tile: int | None = None,
    ) -> None:
        self.score_threshold = float(score_threshold)
        self.min_face = float(min_face)
        self.nms_iou = float(nms_iou)
        self.tile = tile

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def candidate_floor(self) -> float:
        """Score down to which a forward pass decodes candidates: a little below the final
        threshold, so NMS sees the overlapping boxes that the threshold would later drop."""
        return min(self.score_threshold, 0.3)

    @abstractmethod
    def _candidates(self, image: np.ndarray) -> Faces:
        """Raw detections for one RGB image; may contain overlaps and low scores."""

    def detect(self, image: np.ndarray) -> Faces:
        check_image(image)
        parts = [self._candidates(image)]
        if self.tile and max(image.shape[:2]) > self.tile:
            for x0, y0, crop in iter_tiles(image, self.tile):
                found = self._candidates(crop)
                parts.append(found.scaled(1.0, (x0, y0)))
        faces = Faces.concat(parts)
        faces = faces[faces.scores >= self.score_threshold]
        if self.min_face > 0:
            faces = faces[faces.heights >= self.min_face]
        keep = nms(faces.boxes, faces.scores, self.nms_iou)
        faces = faces[keep]
        return clip_boxes(faces, image.shape[1], image.shape[0])

    def __call__(self, image: np.ndarray) -> Faces:
        return self.detect(image)


def check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        actual = f"{getattr(image, 'shape', type(image))} {getattr(image, 'dtype', '')}".strip()
        raise ShapeError("image", "(H, W, 3) uint8 RGB (use mien.load_image)", actual)


def iter_tiles(image: np.ndarray, size: int, overlap: float = 0.25):
    """Overlapping square tiles covering the image: yields (x0, y0, tile)."""
    h, w = image.shape[:2]
    step = max(1, int(size * (1 - overlap)))

    def starts(length: int) -> list[int]:
        if length <= size:
            return [0]
        out = list(range(0, length - size, step))
        out.append(length - size)
        return out

    for y0 in starts(h):
        for x0 in starts(w):
            yield x0, y0, image[y0 : y0 + size, x0 : x0 + size]


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one box (4,) against many (N, 4), xyxy."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU (len(a), len(b)) of xyxy boxes."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while len(order):
        best = order[0]
        keep.append(int(best))
        if len(order) == 1:
            break
        ious = box_iou(boxes[best], boxes[order[1:]])
        order = order[1:][ious <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def clip_boxes(faces: Faces, width: int, height: int) -> Faces:
    boxes = faces.boxes.copy()
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
    return Faces(boxes, faces.scores, faces.landmarks, faces.extras)
