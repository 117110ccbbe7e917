import numpy as np
import pytest

from mien.detect import get_detector
from mien.detect.base import Detector, DetectorInfo, iou_matrix, iter_tiles, nms
from mien.errors import ShapeError, UnknownModelError
from mien.types import Faces


def test_nms_drops_overlaps_keeps_separate_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
    keep = nms(boxes, np.array([0.8, 0.9, 0.7]), 0.4)
    assert keep.tolist() == [1, 2]


def test_iou_matrix_values():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    np.testing.assert_allclose(iou_matrix(a, b)[0], [1.0, 1 / 3, 0.0], atol=1e-6)


def test_tiles_cover_the_image():
    image = np.zeros((1000, 1500, 3), np.uint8)
    covered = np.zeros(image.shape[:2], bool)
    for x0, y0, tile in iter_tiles(image, 640):
        assert tile.shape[0] <= 640 and tile.shape[1] <= 640
        covered[y0 : y0 + tile.shape[0], x0 : x0 + tile.shape[1]] = True
    assert covered.all()


class FixedDetector(Detector):
    """A detector whose forward pass returns fixed candidates (tests the shared post-processing)."""

    info = DetectorInfo("fixed", (), "test double for the base class")

    def _candidates(self, image):
        return Faces(
            np.array([[0, 0, 50, 50], [2, 2, 52, 52], [60, 60, 70, 66], [-5, -5, 20, 20]], np.float32),
            np.array([0.9, 0.8, 0.95, 0.3]),
        )


def test_base_applies_threshold_min_size_nms_and_clipping():
    faces = FixedDetector(score_threshold=0.5, min_face=10).detect(np.zeros((100, 100, 3), np.uint8))
    assert len(faces) == 1 and faces.boxes[0].tolist() == [0, 0, 50, 50]
    faces = FixedDetector(score_threshold=0.1).detect(np.zeros((100, 100, 3), np.uint8))
    assert faces.boxes.min() >= 0


def test_detector_rejects_non_rgb_arrays():
    with pytest.raises(ShapeError, match="uint8 RGB"):
        FixedDetector().detect(np.zeros((10, 10), np.uint8))


def test_unknown_detector_lists_known():
    with pytest.raises(UnknownModelError, match="centerface"):
        get_detector("retinaface")
