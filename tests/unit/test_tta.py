"""Test-time augmentation views: dlib's jitter geometry, reproducible, nested by count (no weights)."""

from __future__ import annotations

import numpy as np
import pytest

from mien.embed.tta import apply_view, jitter_matrices, tta_suffix, view_matrices
from mien.errors import InputError


def test_first_views_are_the_crop_and_its_mirror():
    m = jitter_matrices(8, (150, 150))
    crops = np.random.default_rng(1).integers(0, 255, (2, 150, 150, 3), dtype=np.uint8)
    assert np.array_equal(apply_view(crops, m[0]), crops)
    assert np.array_equal(apply_view(crops, m[1]), crops[:, :, ::-1])
    assert np.array_equal(view_matrices("flip", 16, (150, 150)), m[:2])
    assert len(view_matrices("none", 16, (150, 150))) == 1


def test_jitters_follow_dlib_geometry_and_nest():
    m = jitter_matrices(64, (150, 150))
    assert np.array_equal(jitter_matrices(16, (150, 150)), m[:16])  # jitters=k is the first k of any larger count
    assert np.array_equal(jitter_matrices(16, (150, 150)), jitter_matrices(16, (150, 150)))  # fixed seed
    lin = m[2:, :, :2]
    det = np.linalg.det(lin)
    scale = np.sqrt(np.abs(det))
    # dlib: box = 144 / U(0.97, 0.99) px shown at 150 px -> zoom 150/148 .. 150/145
    assert scale.min() >= 150 / 149 - 1e-9 and scale.max() <= 150 / 145 + 1e-9
    angle = np.degrees(np.arctan2(np.abs(lin[:, 1, 0]), np.abs(lin[:, 0, 0])))
    assert angle.max() <= 3.0 + 1e-6 and angle.max() > 2.0
    assert (det[::2] > 0).all() and (det[1::2] < 0).all()  # views 2, 4, ... as is; 3, 5, ... mirrored
    # the centre moves by at most 2% of 144 px on each axis, zoomed and turned with the view
    centre = lin @ np.array([74.5, 74.5]) + m[2:, :, 2]
    mirrored = det < 0
    centre[mirrored, 0] = 149 - centre[mirrored, 0]
    assert np.linalg.norm(centre - 74.5, axis=1).max() <= 0.02 * 144 * np.sqrt(2) * 150 / 145 + 1e-6


def test_warped_view_keeps_shape_and_content():
    crops = np.zeros((3, 150, 150, 3), np.uint8)
    crops[:, 60:90, 60:90] = 255
    view = apply_view(crops, jitter_matrices(3, (150, 150))[2])
    assert view.shape == crops.shape and view.dtype == np.uint8
    assert view[:, 75, 75].min() == 255 and view[:, 5, 5].max() == 0


def test_levels_and_ids():
    assert [tta_suffix(t, 16) for t in ("none", "flip", "jitter")] == ["", "+flip", "+jitter16"]
    with pytest.raises(InputError, match="none, flip, jitter"):
        view_matrices("jiggle", 16, (150, 150))
    with pytest.raises(InputError, match="at least 2"):
        view_matrices("jitter", 1, (150, 150))
