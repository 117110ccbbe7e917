"""The lift to a metric, pose-normalised face, on synthetic meshes with known pose and scale."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mien.errors import InputError, ShapeError
from mien.face3d.metric import IRIS_MM, IRIS_MODEL_FACTOR, camera_frame, lift
from mien.face3d.symmetry import mirror_fit, region_asymmetry
from mien.landmarks.geometry import canonical_face
from mien.landmarks.pose import rotation


def synthetic(angles=(0.0, 0.0, 0.0), px_per_cm=20.0, iris_px=12.0, offset=(300.0, -200.0, 0.0)):
    """Mesh and iris points of the canonical face seen under a known pose and scale (image pixels)."""
    v = canonical_face().vertices.astype(np.float64)
    cam = px_per_cm * v @ rotation(*angles).T + offset
    mesh = camera_frame(cam)  # the same flip both ways
    iris = np.zeros((10, 3))
    for k, (a, b) in enumerate(((33, 133), (362, 263))):
        c = (mesh[a] + mesh[b]) / 2
        r = iris_px / 2
        iris[5 * k] = c
        iris[5 * k + 1:5 * k + 5] = c + np.array([[r, 0, 0], [0, -r, 0], [-r, 0, 0], [0, r, 0]])
    return mesh, iris


def test_lift_recovers_the_canonical_shape_in_mm_with_pose_removed():
    mesh, iris = synthetic((25.0, -10.0, 8.0), px_per_cm=20.0, iris_px=12.0)
    face = lift(mesh[None], iris[None], np.array([0, 0, 100, 100]), 1.0, (640, 480))
    assert face.pose.yaw == pytest.approx(25.0, abs=1e-6) and face.pose.roll == pytest.approx(8.0, abs=1e-6)
    mm_per_px = IRIS_MM * IRIS_MODEL_FACTOR / 12.0
    assert face.scale.mm_per_px == pytest.approx(mm_per_px)
    canonical_mm = canonical_face().vertices.astype(np.float64) * 20.0 * mm_per_px
    np.testing.assert_allclose(face.vertices - face.vertices.mean(0), canonical_mm - canonical_mm.mean(0), atol=1e-6)
    # and back into the photo through the pose
    np.testing.assert_allclose(face.to_image(face.vertices)[:, :2], mesh[:, :2], atol=1e-6)


def test_scale_error_says_what_it_rests_on():
    mesh, iris = synthetic()
    face = lift(np.stack([mesh, mesh]), np.stack([iris, iris]), np.zeros(4), 1.0, (640, 480))
    scale = face.scale.to_dict()
    assert "11.7 mm" in scale["rests_on"]
    assert 0.08 < scale["relative_error"] < 0.2  # population (3.6%) and the iris model's own (8.6%)


def test_known_ipd_sets_the_scale():
    mesh, iris = synthetic(iris_px=9.0)
    face = lift(mesh[None], iris[None], np.zeros(4), 1.0, (640, 480), ipd_mm=64.0)
    assert np.linalg.norm(face.pupils[0] - face.pupils[1]) == pytest.approx(64.0)
    assert "64 mm" in face.scale.rests_on
    with pytest.raises(InputError, match="40..90"):
        lift(mesh[None], iris[None], np.zeros(4), 1.0, (640, 480), ipd_mm=300.0)


def test_bad_shapes_are_typed_errors():
    mesh, iris = synthetic()
    with pytest.raises(ShapeError):
        lift(mesh[None, :100], iris[None], np.zeros(4), 1.0, (640, 480))
    with pytest.raises(ShapeError):
        lift(mesh[None], iris[None, :5], np.zeros(4), 1.0, (640, 480))


def test_symmetric_face_has_no_asymmetry_and_a_moved_side_does():
    v = canonical_face().vertices.astype(np.float64) * 10.0  # mm
    fit = mirror_fit(v)
    assert np.abs(fit.normal) @ [1, 0, 0] == pytest.approx(1.0, abs=1e-6)
    assert region_asymmetry(fit.distances)["overall"] < 1e-6
    moved = v.copy()
    moved[[61, 291][0], 1] += 3.0  # the right mouth corner 3 mm up
    asym = region_asymmetry(mirror_fit(moved).distances)
    assert asym["lips"] > 0.3 and asym["lips"] > 3 * asym["eyes"]


def test_face3d_is_frozen():
    mesh, iris = synthetic()
    face = lift(mesh[None], iris[None], np.zeros(4), 1.0, (640, 480))
    with pytest.raises(dataclasses.FrozenInstanceError):
        face.score = 0.0
