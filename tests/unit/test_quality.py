"""Quality checks' scoring and thresholds (no weights needed)."""

from __future__ import annotations

import pytest

from mien.errors import InputError
from mien.quality import Check, FaceQuality, QualityThresholds, _check, thresholds_from_dict


def test_check_scores_inside_and_outside_range():
    inside = _check("brightness", 120, 60, 200, 40)
    assert inside.passed and inside.score == 1.0 and inside.limit == "60..200"
    dark = _check("brightness", 40, 60, 200, 40)
    assert not dark.passed and dark.score == pytest.approx(0.5)
    very_dark = _check("brightness", 0, 60, 200, 40)
    assert very_dark.score == 0.0
    assert _check("yaw", 3, None, 15, 20).limit == "<= 15"
    low = _check("sharpness", 4, 8, None, 8)
    assert not low.passed and low.score == pytest.approx(0.5) and low.limit == ">= 8"


def test_thresholds_are_changeable():
    t = thresholds_from_dict({"max_yaw": 5, "min_eye_distance": "90"})
    assert t.max_yaw == 5.0 and t.min_eye_distance == 90.0 and t.max_roll == QualityThresholds().max_roll
    assert QualityThresholds.icao().min_eye_distance == 90.0
    assert QualityThresholds().with_(max_pitch=3).max_pitch == 3
    with pytest.raises(InputError, match="max_yaw"):
        thresholds_from_dict({"max_jaw": 5})


def test_face_quality_lookup_and_dict():
    checks = (Check("yaw", 3.0, True, 1.0, "<= 15"), Check("sharpness", 2.0, False, 0.25, ">= 8"))
    q = FaceQuality(checks, 0.5, False, ("sharpness",))
    assert q["yaw"].passed and not q["sharpness"].passed
    d = q.to_dict()
    assert d["failed"] == ["sharpness"] and d["checks"]["sharpness"]["limit"] == ">= 8"
    with pytest.raises(KeyError):
        q["nope"]
