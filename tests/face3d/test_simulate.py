"""What-if simulation: the moved mesh, the warp that follows it, refusals, provenance."""

from __future__ import annotations

import dataclasses
import re

import cv2
import numpy as np
import pytest

from mien.errors import InputError
from mien.face3d.measures import measure_face
from mien.face3d.simulate import EDITS, Changes, displacement, parse_amount, simulate
from mien.provenance import detect_watermark
from mien.provenance.record import OPERATIONS


@pytest.fixture(scope="module")
def nose(big_face, lifter):
    return simulate(big_face, Changes(nose_width=25), lifter=lifter)


def _sample(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.array([cv2.getRectSubPix(image, (3, 3), (float(x), float(y))).mean((0, 1)) for x, y in points])


def test_moved_mesh_measures_the_requested_change(lifter, big_face):
    face = lifter.lift(big_face)
    before = measure_face(face)
    for changes, name, expected in ((Changes(nose_width=-10), "nose_width", -10.0),
                                    (Changes(mouth_width=12), "mouth_width", 12.0)):
        d = displacement(face, changes)
        moved = dataclasses.replace(face, vertices=face.vertices + d, passes=face.passes + d)
        after = measure_face(moved)
        change = 100 * (after.value(name) / before.value(name) - 1)
        assert change == pytest.approx(expected, abs=0.5), name
        assert after.value("ipd") == pytest.approx(before.value("ipd"))  # the eyes do not move


def test_photo_follows_the_mesh_and_background_is_untouched(nose, big_face):
    face = nose.face
    src = face.image_points[:, :2]
    dst = face.to_image(face.vertices + displacement(face, nose.changes))[:, :2]
    moved = np.linalg.norm(dst - src, axis=1) > 2.0
    assert moved.sum() > 20 and nose.max_shift_px > 4
    edited, before = nose.edited.astype(np.float32), big_face.astype(np.float32)
    followed = np.abs(_sample(edited, dst[moved]) - _sample(before, src[moved])).mean()
    stayed = np.abs(_sample(before, dst[moved]) - _sample(before, src[moved])).mean()
    assert followed < 0.5 * stayed, (followed, stayed)
    for corner in (np.s_[:30, :30], np.s_[:30, -30:], np.s_[-30:, :30], np.s_[-30:, -30:]):
        assert np.array_equal(nose.edited[corner], big_face[corner])


def test_result_carries_the_watermark_and_a_record(nose):
    found = detect_watermark(nose.image)
    assert found.detected and found.operation_code == OPERATIONS["edit"]
    record = nose.record()
    assert record.operation == "edit" and record.params["simulation"] == {"nose_width": 25.0}
    pair = nose.side_by_side()
    assert pair.shape == (450, 900, 3) and detect_watermark(pair).detected


@pytest.mark.parametrize("kwargs, text", [({"nose_width": -45}, "-30% to +30%"), ({"chin": 12}, "-6mm to +6mm"),
                                          ({"lips": float("nan")}, "allowed range")])
def test_impossible_amounts_are_refused_with_the_range(kwargs, text):
    with pytest.raises(InputError, match=re.escape(text)):
        Changes(**kwargs)


def test_amounts_parse_with_their_units():
    assert parse_amount("nose_width", "-10%") == -10.0
    assert parse_amount("chin", "+3mm") == 3.0 and parse_amount("lips", "15") == 15.0
    with pytest.raises(InputError, match="given in mm"):
        parse_amount("chin", "3%")
    with pytest.raises(InputError, match="needs a number"):
        parse_amount("lips", "a lot")
    assert set(EDITS) == {"nose_width", "mouth_width", "lips", "chin"}


def test_nothing_to_simulate_is_an_error(big_face, lifter):
    with pytest.raises(InputError, match="nothing to simulate"):
        simulate(big_face, Changes(), lifter=lifter)
