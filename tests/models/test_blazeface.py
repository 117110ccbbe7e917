"""BlazeFace full-range on real photos, plus its anchor / letterbox / decode arithmetic."""

from __future__ import annotations

import csv
from collections import defaultdict

import numpy as np
import pytest

from mien.detect import get_detector
from mien.detect.base import iou_matrix
from mien.detect.blazeface import INPUT_SIZE, MOUTH_HALF_WIDTH, anchors, decode, five_points, letterbox
from mien.image import load_image


@pytest.fixture(scope="module")
def blazeface():
    return get_detector("blazeface")


def test_finds_the_six_faces_of_the_group_photo(blazeface, group_photo):
    faces = blazeface.detect(group_photo)
    assert len(faces) == 6
    assert faces.landmarks.shape == (6, 5, 2)
    assert faces.extras["keypoints6"].shape == (6, 6, 2)
    for box, lms in zip(faces.boxes, faces.landmarks):
        assert (lms[:, 0] >= box[0] - 5).all() and (lms[:, 0] <= box[2] + 5).all()
        assert (lms[:, 1] >= box[1] - 5).all() and (lms[:, 1] <= box[3] + 5).all()
        assert lms[0, 0] < lms[1, 0]  # the eye on the image's left comes first
        assert lms[3, 0] < lms[4, 0]  # so does the mouth corner
        assert lms[0, 1] < lms[2, 1] < lms[3, 1]  # eyes above nose above mouth (upright faces)


def test_agrees_with_centerface(blazeface, group_photo):
    ours = blazeface.detect(group_photo)
    other = get_detector("centerface").detect(group_photo)
    ious = iou_matrix(ours.boxes, other.boxes)
    assert (ious.max(axis=1) > 0.4).all()
    # Eyes and nose land near CenterFace's: these faces are about 17 px tall in the 192 px
    # input, so a keypoint is only good to a few image pixels (measured: mean 0.2 eye distances).
    match = ious.argmax(axis=1)
    eye_dist = np.linalg.norm(other.landmarks[match, 1] - other.landmarks[match, 0], axis=1)
    err = np.linalg.norm(ours.landmarks[:, :3] - other.landmarks[match, :3], axis=2) / eye_dist[:, None]
    assert err.max() < 0.5 and err.mean() < 0.3, err


def test_tiling_goes_through_the_base_class(group_photo):
    faces = get_detector("blazeface", tile=640).detect(group_photo)
    assert len(faces) == 6


def test_nothing_in_a_blank_image(blazeface):
    assert len(blazeface.detect(np.full((480, 640, 3), 127, np.uint8))) == 0


def test_large_faces_of_wider_images(blazeface, data_dir):
    root = data_dir / "widerface_val_subset"
    boxes = defaultdict(list)
    with open(root / "annotations.csv") as fh:
        for row in csv.DictReader(fh):
            x, y, w, h = (float(row[k]) for k in "xywh")
            if row["invalid"] == "0" and h >= 80:
                boxes[row["path"]].append([x, y, x + w, y + h])
    # BlazeFace boxes are square and tighter than WIDER's, hence IoU 0.3 (measured on
    # every 6th image: 91% of faces >= 80 px found at the default settings).
    paths = sorted(boxes)[::4]
    found = total = 0
    for path in paths:
        truth = np.asarray(boxes[path])
        faces = blazeface.detect(load_image(root / path))
        if len(faces):
            found += int((iou_matrix(truth, faces.boxes).max(axis=1) >= 0.3).sum())
        total += len(truth)
    assert total >= 20 and found / total >= 0.8, (found, total)


# -- arithmetic, no weights --------------------------------------------------------------
def test_anchor_grid():
    a = anchors()
    assert a.shape == (2304, 2)
    np.testing.assert_allclose(a[0], [0.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(a[1], [1.5 / 48, 0.5 / 48])  # x varies fastest
    np.testing.assert_allclose(a[48], [0.5 / 48, 1.5 / 48])


def test_letterbox_centres_and_keeps_aspect():
    image = np.full((100, 400, 3), 200, np.uint8)
    square, scale, (px, py) = letterbox(image)
    assert square.shape == (INPUT_SIZE, INPUT_SIZE, 3)
    assert scale == pytest.approx(192 / 400) and px == 0 and py == pytest.approx((192 - 48) // 2)
    assert square[int(py) + 1, 5].tolist() == [200] * 3 and square[0, 5].tolist() == [0] * 3


def test_decode_places_boxes_on_their_anchor():
    reg = np.zeros((2304, 16), np.float32)
    logits = np.full(2304, -50.0, np.float32)
    i = 48 * 10 + 20  # row 10, column 20
    logits[i] = 300.0  # clipped at 100 before the sigmoid
    reg[i, 2:4] = [40, 60]
    reg[i, 4:6] = [-8, -5]
    boxes, scores, kps = decode(reg, logits, 0.5)
    cx, cy = (20 + 0.5) * 4, (10 + 0.5) * 4
    np.testing.assert_allclose(boxes, [[cx - 20, cy - 30, cx + 20, cy + 30]])
    assert scores.tolist() == [1.0]
    np.testing.assert_allclose(kps[0, 0], [cx - 8, cy - 5])


def test_mouth_corners_straddle_the_mouth_centre_along_the_eye_axis():
    kps = np.array([[[10, 10], [30, 10], [20, 20], [20, 30], [0, 15], [40, 15]]], np.float32)
    five = five_points(kps)
    np.testing.assert_allclose(five[0, 3], [20 - 20 * MOUTH_HALF_WIDTH, 30])
    np.testing.assert_allclose(five[0, 4], [20 + 20 * MOUTH_HALF_WIDTH, 30])
