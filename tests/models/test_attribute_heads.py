"""The UTKFace-trained heads (utk-age, utk-gender): bundled weights, features, real faces."""

from __future__ import annotations

import csv
import hashlib

import numpy as np
import pytest

from mien.analyze import Analyzer
from mien.attributes import get_attribute_model
from mien.attributes.heads import HEADS, Heads, chip_features, face_chips, faceres_features
from mien.audit.run import face_or_frame
from mien.detect import get_detector
from mien.errors import ModelError
from mien.image import load_image
from mien.models.registry import get_spec
from mien.models.store import bundled_path, model_path

# On these 25 faces the shipped heads get 24 genders right and age MAE 5.4 years (dlib-age / dlib-gender:
# 8.5 years, 22 of 25); the bounds leave room for a refit, not for a broken pipeline.
ACCURACY_AT_LEAST = 0.88
MAE_AT_MOST = 8.0


def test_weights_ship_in_the_package_and_match_the_registry():
    spec = get_spec(HEADS)
    path = bundled_path(spec)
    assert spec.source.registry == "bundled"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256
    assert path.stat().st_size == spec.size_bytes
    assert model_path(HEADS) == path  # verifies the hash too
    assert not spec.commercial and "UTKFace" in spec.license and "non-commercial" in spec.license
    assert (path.parent / "MODEL_CARD.md").is_file()
    heads = Heads()  # the spec says which networks the shipped heads need
    assert all(n in spec.notes for n in ("dlib-age", "dlib-gender", "dlib-shape5"))
    assert ("dlib-resnet-onnx" in spec.notes) == heads.resnet and ("faceres" in spec.notes) == heads.faceres


def test_head_features_are_the_dlib_models_own_outputs(group_photo):
    """The extra-output sessions give the same probabilities as dlib-age / dlib-gender."""
    faces = get_detector("centerface").detect(group_photo)
    raw = chip_features(face_chips(group_photo, faces), resnet=False)
    ages = [p.value for p in get_attribute_model("dlib-age", paddings=(0.2,)).predict(group_photo, faces)]
    # the heads read the network's own output, before the default's balancing shift
    males = [p.scores["male"] for p in get_attribute_model("dlib-gender", balanced=False).predict(group_photo, faces)]
    from mien.attributes.dlib_age import AGE_WEIGHTS

    np.testing.assert_allclose(raw["age_p"].mean(1) @ AGE_WEIGHTS, ages, atol=1e-3)  # dlib-age at padding 0.2: chip + mirror
    np.testing.assert_allclose(raw["gen_p"][:, 0, 1], males, atol=1e-5)
    assert raw["age_f"].shape == (len(faces), 2, 256) and raw["gen_f"].shape == (len(faces), 2, 16)


def test_faceres_features_are_faceres_own_outputs(group_photo):
    faces = get_detector("centerface").detect(group_photo)
    raw = faceres_features(group_photo, faces)
    males = [p.scores["male"] for p in get_attribute_model("faceres-gender").predict(group_photo, faces)]
    ages = [p.value for p in get_attribute_model("faceres-age").predict(group_photo, faces)]
    np.testing.assert_allclose(raw["fr_g"][:, 0, 0], males, atol=1e-5)
    np.testing.assert_allclose(raw["fr_a"][:, 0] @ np.arange(100), ages, atol=1e-3)
    assert raw["fr_d"].shape == (len(faces), 1, 1024)


def _test_split_sample(data_dir, every: int = 160) -> list[dict]:
    """Every 160th image of the benchmark's TEST split (seed 0; never used to fit the heads)."""
    rows = list(csv.DictReader(open(data_dir / "utkface" / "labels.csv")))
    test = np.sort(np.random.default_rng(0).choice(len(rows), 4000, replace=False))
    return [rows[i] for i in test[::every]]


def test_heads_on_held_out_utkface_faces(data_dir):
    """25 held-out UTKFace faces of all ages: the heads get gender and age about right."""
    rows = _test_split_sample(data_dir)
    det = get_detector("centerface")
    age, gender = get_attribute_model("utk-age"), get_attribute_model("utk-gender")
    errors, correct = [], []
    for r in rows:
        image = load_image(data_dir / "utkface" / r["path"])
        face, _ = face_or_frame(det, image)
        a, g = age.predict(image, face)[0], gender.predict(image, face)[0]
        assert a.model == g.model == HEADS and 0 <= a.value <= 116 and 0.5 <= g.probability <= 1
        errors.append(abs(a.value - int(r["age"])))
        correct.append(g.value == r["gender"])
    assert np.mean(correct) >= ACCURACY_AT_LEAST, [(r["path"], c) for r, c in zip(rows, correct)]
    assert np.mean(errors) <= MAE_AT_MOST, np.round(errors, 1)


def test_analyzer_takes_the_heads_by_name(group_photo):
    result = Analyzer(landmarks=None, attributes=["utk-age", "utk-gender"]).analyze(group_photo)
    assert len(result.results) == 6
    for face in result.results:
        assert face.attribute("age").model == HEADS and 10 <= face.attribute("age").value <= 70
        assert face.attribute("gender").value in ("female", "male")


def test_unreadable_head_file_is_a_model_error(tmp_path):
    bad = tmp_path / "heads.npz"
    bad.write_bytes(b"not an npz file")
    with pytest.raises(ModelError, match="cannot read"):
        Heads(str(bad))
