import numpy as np
import pytest

from mien.align import align_faces, get_template, paste_back, similarity_transform
from mien.errors import InputError, UnknownModelError
from mien.types import Faces


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ rot.T + shift
    m = similarity_transform(src, dst)
    np.testing.assert_allclose(m[:, :2], rot, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], shift, atol=1e-9)


def test_align_puts_landmarks_on_template_and_paste_back_restores():
    tpl = get_template("arcface112")
    # Synthetic face: template points scaled x2, rotated 20 degrees, shifted into a 300x300 image.
    a = np.deg2rad(20)
    rot = 2.0 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pts = tpl.points @ rot.T + np.array([100.0, 60.0])
    yy, xx = np.mgrid[0:300, 0:300]
    image = np.dstack([xx % 256, yy % 256, (xx + yy) % 256]).astype(np.uint8)
    faces = Faces(np.array([[80, 50, 300, 300]], np.float32), np.array([1.0]), pts[None])
    aligned = align_faces(image, faces, "arcface112")
    assert aligned.crops.shape == (1, 112, 112, 3)
    mapped = pts @ aligned.matrices[0][:, :2].T + aligned.matrices[0][:, 2]
    np.testing.assert_allclose(mapped, tpl.points, atol=1e-6)
    restored = paste_back(image, aligned)
    # Unchanged crops pasted back leave a smooth image nearly as it was (interpolation only).
    assert np.abs(restored.astype(int) - image.astype(int)).mean() < 1.0
    # An edited crop lands on the face and nowhere else.
    edited = paste_back(image, aligned, np.full_like(aligned.crops, 7))
    nose = pts[2].round().astype(int)
    assert (edited[nose[1], nose[0]] == 7).all()
    assert (edited[5, 5] == image[5, 5]).all()


def test_align_errors():
    image = np.zeros((50, 50, 3), np.uint8)
    with pytest.raises(InputError, match="5-point landmarks"):
        align_faces(image, Faces(np.zeros((1, 4)), np.ones(1)))
    with pytest.raises(UnknownModelError, match="arcface112"):
        get_template("nope")
    with pytest.raises(InputError, match="degenerate"):
        align_faces(image, Faces(np.zeros((1, 4)), np.ones(1), np.zeros((1, 5, 2))))
