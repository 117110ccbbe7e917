import json

import numpy as np
import pytest

from mien.errors import ShapeError
from mien.types import AlignedFaces, Faces


def make_faces(n=3):
    boxes = np.array([[10 * i, 0, 10 * i + 5 + i, 8 + i] for i in range(n)], np.float32)
    return Faces(boxes, np.linspace(0.9, 0.5, n), np.zeros((n, 5, 2)), {"track_id": np.arange(n)})


def test_filter_by_mask_and_index_keeps_rows_aligned():
    faces = make_faces(3)
    kept = faces[faces.scores > 0.6]
    assert len(kept) == 2
    assert kept.extras["track_id"].tolist() == [0, 1]
    assert len(faces[1]) == 1 and faces[1].boxes[0, 0] == 10


def test_empty_faces_behave():
    empty = Faces.empty()
    assert len(empty) == 0 and not empty
    assert empty.to_list() == []
    assert len(empty.largest()) == 0
    assert len(Faces.concat([empty, make_faces(2)])) == 2


def test_shape_errors_name_expected_and_actual():
    with pytest.raises(ShapeError, match=r"boxes: expected \(N, 4\), got \(2, 3\)"):
        Faces(np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ShapeError, match="scores"):
        Faces(np.zeros((2, 4)), np.zeros(3))
    with pytest.raises(ShapeError, match="extras"):
        Faces(np.zeros((2, 4)), np.zeros(2), extras={"x": np.zeros(3)})


def test_json_round_trip():
    faces = make_faces(2)
    text = json.dumps(faces.to_list())
    back = Faces.from_list(json.loads(text))
    np.testing.assert_allclose(back.boxes, faces.boxes, atol=0.01)
    assert back.extras["track_id"].tolist() == [0, 1]
    assert set(json.loads(text)[0]) == {"box", "score", "landmarks", "track_id"}


def test_largest_and_sorted():
    faces = make_faces(3)
    assert faces.largest().boxes[0, 0] == 20
    assert faces.sorted("area").boxes[0, 0] == 20
    assert faces.sorted("score").scores[0] == pytest.approx(0.9)


def test_scaled_moves_boxes_and_landmarks():
    faces = make_faces(1).scaled(2.0, (5, 7))
    assert faces.boxes[0].tolist() == [5, 7, 15, 23]
    assert faces.landmarks[0, 0].tolist() == [5, 7]


def test_aligned_faces_inverse_matrices():
    m = np.array([[[0.5, 0.1, 3.0], [-0.1, 0.5, 4.0]]])
    aligned = AlignedFaces(np.zeros((1, 4, 4, 3), np.uint8), m, "t", make_faces(1))
    inv = aligned.inverse_matrices[0]
    point = np.array([7.0, 9.0])
    forward = m[0, :, :2] @ point + m[0, :, 2]
    np.testing.assert_allclose(inv[:, :2] @ forward + inv[:, 2], point)
    with pytest.raises(ShapeError):
        AlignedFaces(np.zeros((1, 4, 4), np.uint8), m, "t", make_faces(1))
