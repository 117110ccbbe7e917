"""Measurements with the real detector, mesh and iris models on LFW photos."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from mien.errors import NoFaceError
from mien.face3d.measures import MEASURE_NAMES, NOTICE, Measurer, measure_face
from mien.image import load_image


@pytest.fixture(scope="module")
def measurer(lifter):
    return Measurer(lifter)


@pytest.fixture(scope="module")
def frontal(measurer, lfw_dir):
    return measurer.measure(lfw_dir / "Aaron_Peirsol_0001.jpg")


def test_adult_measures_are_in_plausible_ranges(frontal):
    # wide ranges: the scale alone is uncertain by ~9% for one photo
    assert 50 <= frontal.value("ipd") <= 78
    assert 25 <= frontal.value("nose_width") <= 55
    assert 35 <= frontal.value("mouth_width") <= 75
    assert frontal.value("intercanthal_width") < frontal.value("ipd") < frontal.value("biocular_width")
    assert frontal.value("face_width") > frontal.value("biocular_width")
    fifths = [frontal.value(f"fifth_{k}") for k in range(1, 6)]
    assert sum(fifths) == pytest.approx(1.0) and all(0.1 < f < 0.3 for f in fifths)
    assert 0.6 < frontal.value("thirds_ratio") < 1.4
    assert 0 <= frontal.value("asymmetry_overall") < 4


def test_every_value_has_an_uncertainty_and_every_gap_a_reason(frontal):
    for m in frontal.measures:
        if m.value is None:
            assert m.reason and m.uncertainty is None
        else:
            assert m.uncertainty is not None and m.uncertainty > 0 and m.reason is None
    ipd = frontal["ipd"]
    assert ipd.uncertainty >= ipd.value * 0.08  # never better than what the iris scale allows
    assert "hairline" in frontal["third_upper"].reason
    doc = frontal.to_dict()
    assert doc["notice"] == NOTICE and set(doc["measures"]) == set(MEASURE_NAMES)
    assert {"yaw", "pitch", "roll"} <= set(doc["pose"]) and "rests_on" in doc["scale"] and "quality" in doc


def test_turned_head_leaves_side_measures_empty_with_the_reason(frontal):
    def turned(yaw):
        return measure_face(dataclasses.replace(frontal.face, pose=dataclasses.replace(frontal.face.pose, yaw=yaw)))

    result = turned(-25.0)
    for name in ("face_width", "asymmetry_overall", "smile_asymmetry", "fifth_1"):
        assert result.value(name) is None and "25 deg, past the 20 deg" in result[name].reason
    assert result.value("ipd") is not None and result.value("nose_width") is not None  # widths in 3D: up to 30
    result = turned(35.0)
    assert result.value("ipd") is None and "35 deg" in result["ipd"].reason


def test_tiny_face_is_refused(measurer, lfw_dir):
    small = cv2.resize(load_image(lfw_dir / "Aaron_Peirsol_0001.jpg"), (48, 48), interpolation=cv2.INTER_AREA)
    try:
        result = measurer.measure(small)
    except NoFaceError:
        return  # too small to find at all: also a refusal
    assert all(m.value is None for m in result.measures)
    assert "too small" in result["ipd"].reason


def test_mirror_pass_agrees_with_the_photo(frontal):
    a, b = frontal.face.passes
    err = np.linalg.norm(a - b, axis=1)
    assert np.median(err) < 2.5  # mm between the photo's mesh and its mirror image's


def test_same_person_two_photos_agree_on_ratios(measurer, lfw_dir):
    a = measurer.measure(lfw_dir / "Aaron_Sorkin_0001.jpg")
    b = measurer.measure(lfw_dir / "Aaron_Sorkin_0002.jpg")
    for name in ("fifth_3", "thirds_ratio"):
        if a.value(name) is not None and b.value(name) is not None:
            assert abs(a.value(name) - b.value(name)) < 0.15
