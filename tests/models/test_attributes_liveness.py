"""EXPERIMENTAL liveness scores on real faces: in range, tagged, and mostly 'real'."""

from __future__ import annotations

import numpy as np

from mien.detect import get_detector
from mien.liveness import antispoof, check_liveness, liveness
from mien.types import Faces


def test_liveness_on_real_faces(group_photo):
    faces = get_detector("centerface").detect(group_photo)
    a, b = antispoof(group_photo, faces), liveness(group_photo, faces)
    assert len(a) == len(b) == 6
    assert all(0 <= s.real <= 1 and s.model == "antispoof" and s.experimental for s in a)
    assert all(s.model == "liveness" for s in b)
    # a live photo: the majority scores real on both models
    assert np.mean([s.real > 0.5 for s in a]) >= 0.5 and np.mean([s.real > 0.5 for s in b]) >= 0.5
    assert check_liveness(group_photo, Faces.empty()) == []
    assert check_liveness(group_photo, faces)[0]["antispoof"].to_dict()["experimental"] is True
