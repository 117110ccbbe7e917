"""Real detectors on real photos."""

import numpy as np
import pytest

from mien.align import align_faces, get_template
from mien.detect import get_detector
from mien.detect.base import iou_matrix


@pytest.mark.parametrize("name", ["centerface", "dlib-hog"])
def test_finds_the_six_faces_of_the_group_photo(name, group_photo):
    faces = get_detector(name).detect(group_photo)
    assert len(faces) == 6
    assert faces.landmarks.shape == (6, 5, 2)
    # Landmarks sit inside their boxes, and the first eye is on the image's left.
    for box, lms in zip(faces.boxes, faces.landmarks):
        assert (lms[:, 0] >= box[0] - 5).all() and (lms[:, 0] <= box[2] + 5).all()
        assert lms[0, 0] < lms[1, 0]


def test_detectors_agree_on_where_faces_are(group_photo):
    a = get_detector("centerface").detect(group_photo)
    b = get_detector("dlib-hog").detect(group_photo)
    best = iou_matrix(a.boxes, b.boxes).max(axis=1)
    assert (best > 0.3).all()


def test_no_face_in_a_blank_image():
    assert len(get_detector("centerface").detect(np.full((480, 640, 3), 127, np.uint8))) == 0


def test_grey_and_tiny_images(group_photo):
    grey = np.repeat(group_photo.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    assert len(get_detector("centerface").detect(grey)) == 6
    assert len(get_detector("centerface").detect(np.zeros((3, 3, 3), np.uint8))) == 0


def test_tiling_finds_faces_that_a_downscaled_pass_misses(group_photo):
    # Shrink the photo inside a big canvas so faces are small relative to the image.
    import cv2

    small = cv2.resize(group_photo, (320, 222), interpolation=cv2.INTER_AREA)
    canvas = np.full((1440, 1920, 3), 90, np.uint8)
    canvas[600:822, 800:1120] = small
    plain = get_detector("centerface", max_side=640).detect(canvas)
    tiled = get_detector("centerface", max_side=640, tile=640).detect(canvas)
    assert len(tiled) >= 5 and len(tiled) > len(plain)


def test_alignment_of_a_real_face_puts_eyes_level(lfw_image):
    faces = get_detector("centerface").detect(lfw_image).largest()
    aligned = align_faces(lfw_image, faces, "arcface112")
    tpl = get_template("arcface112").points
    mapped = faces.landmarks[0] @ aligned.matrices[0][:, :2].T + aligned.matrices[0][:, 2]
    # Eyes land on the template within a few pixels and level; the nose may sit off-centre on a turned head.
    assert np.abs(mapped[:2] - tpl[:2]).max() < 4
    assert abs(mapped[0, 1] - mapped[1, 1]) < 2
    assert np.abs(mapped - tpl).max() < 12
    assert aligned.crops.shape == (1, 112, 112, 3) and aligned.crops.std() > 20
