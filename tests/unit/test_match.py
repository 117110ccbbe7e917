"""Calibration maths, calibration files and verify() on synthetic embeddings (no weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mien.embed import Embeddings
from mien.errors import EmbeddingMismatchError, InputError, ShapeError
from mien.match import calibration as cal
from mien.match import verify
from mien.match.calibration import load_calibration, save_calibration


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    genuine = rng.normal(0.35, 0.08, 3000)
    impostor = rng.normal(0.85, 0.08, 30000)
    dist = np.r_[genuine, impostor]
    same = np.r_[np.ones(3000, bool), np.zeros(30000, bool)]
    return dist, same


def test_roc_ends_and_monotone(scores):
    far, tar, thr = cal.roc(*scores)
    assert far[-1] == 1 and tar[-1] == 1
    assert (np.diff(far) >= 0).all() and (np.diff(tar) >= 0).all() and (np.diff(thr) > 0).all()


def test_eer_of_two_gaussians(scores):
    e, t = cal.eer(*scores)
    # separation of 0.5 with sigma 0.08 each: EER = Phi(-0.25/0.08) ~ 9e-4
    assert 2e-4 < e < 3e-3
    assert 0.55 < t < 0.65


def test_tar_at_far_is_bounded_by_far(scores):
    dist, same = scores
    t3 = cal.tar_at_far(dist, same, 1e-3)
    assert 0.95 < t3 <= cal.tar_at_far(dist, same, 1e-2) <= 1


def test_lfw_protocol_ten_folds(scores):
    dist, same = scores
    folds = np.arange(len(dist)) % 10
    out = cal.lfw_protocol(dist, same, folds)
    assert 0.99 < out["accuracy"] <= 1 and out["accuracy_std"] < 0.01
    assert set(out) >= {"tar_at_far_1e-3", "eer"}


def test_calibrate_pairs_hits_target_fmr(scores):
    dist, same = scores
    c = cal.calibrate_pairs(dist, same, "m", "cosine", "synthetic")
    imp = dist[~same]
    for fmr in (1e-2, 1e-3):
        t = c.threshold_for(fmr)
        assert (imp <= t).mean() <= fmr
        assert (imp <= t).mean() > fmr / 3
        assert c.estimated_fmr(t) == pytest.approx(fmr, rel=0.5)
    assert "1e-04" not in c.thresholds or (imp <= c.thresholds["1e-04"]).mean() <= 1e-4
    assert c.estimated_fmr(0.0) <= 1e-4  # below everything measured: an upper bound


def test_calibration_needs_both_classes():
    with pytest.raises(InputError, match="both"):
        cal.calibrate_pairs(np.array([0.1, 0.2]), np.array([True, True]), "m", "cosine", "x")


def test_fmr_outside_measured_range_is_an_error(scores):
    dist, same = scores
    c = cal.calibrate_pairs(dist[:3100], same[:3100], "m", "cosine", "x")  # only 100 impostors
    with pytest.raises(InputError, match="outside"):
        c.threshold_for(1e-4)


def test_fusion_of_two_noisy_views_beats_each(scores):
    dist, same = scores
    rng = np.random.default_rng(1)
    a = dist + rng.normal(0, 0.1, len(dist))
    b = dist + rng.normal(0, 0.1, len(dist))
    folds = np.arange(len(dist)) % 10
    fused = cal.fuse([a, b], same, folds)
    assert cal.eer(fused, same)[0] < min(cal.eer(a, same)[0], cal.eer(b, same)[0])


def test_save_and_load_roundtrip(tmp_path, monkeypatch, scores):
    monkeypatch.setenv("MIEN_HOME", str(tmp_path))
    c = cal.calibrate_pairs(*scores, "toy", "cosine", "synthetic pairs")
    path = save_calibration(c)
    assert path == tmp_path / "calibration" / "toy.json"
    back = load_calibration("toy")  # the user's file is found by model id
    assert back.thresholds == c.thresholds and back.source == "synthetic pairs"
    assert json.loads(path.read_text())["model"] == "toy"
    with pytest.raises(InputError, match="not 'other'"):
        load_calibration("other", path)
    with pytest.raises(InputError, match="mien calibrate"):
        load_calibration("no-such-model")


def test_shipped_calibration_has_the_three_operating_points():
    c = load_calibration("dlib-resnet", cal.BUNDLED)
    assert set(c.thresholds) == {"1e-02", "1e-03", "1e-04"}
    t = [c.thresholds[k] for k in ("1e-04", "1e-03", "1e-02")]
    assert t == sorted(t) and 0.3 < t[0] < t[-1] < 0.8
    assert c.impostor_pairs > 1_000_000


def test_verify_with_a_calibration_file(tmp_path, scores):
    c = cal.calibrate_pairs(*scores, "toy", "cosine", "synthetic")
    path = save_calibration(c, tmp_path / "toy.json")
    a = Embeddings(np.array([[1.0, 0.0, 0.0]]), "toy")
    b = Embeddings(np.array([[0.9, 0.3, 0.0]]), "toy")
    far = Embeddings(np.array([[0.0, 1.0, 0.0]]), "toy")
    near = verify(a, b, fmr=1e-3, calibration=str(path))
    assert near.same and near.threshold == c.thresholds["1e-03"] and near.target_fmr == 1e-3
    assert near.distance == pytest.approx(1 - 0.9 / np.hypot(0.9, 0.3))
    assert near.similarity == pytest.approx(1 - near.distance)
    away = verify(a, far, calibration=str(path))
    assert not away.same and away.model == "toy"
    raw = verify(a, far, threshold=1.5, calibration=str(path))
    assert raw.same and raw.target_fmr is None and raw.fmr > 0.1
    with pytest.raises(dataclass_error()):
        near.same = False  # frozen


def dataclass_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_verify_refuses_mixed_models_and_many_faces():
    a = Embeddings(np.ones((1, 4)), "x")
    with pytest.raises(EmbeddingMismatchError):
        verify(a, Embeddings(np.ones((1, 4)), "y"))
    with pytest.raises(ShapeError, match="one face"):
        verify(Embeddings(np.ones((2, 4)), "x"), a)


def test_embeddings_distances_and_validation():
    e = Embeddings(np.array([[3.0, 4.0], [0.0, 0.0]]), "m", "euclidean")
    assert e.distances(e)[0, 1] == pytest.approx(5.0)
    assert len(e[0]) == 1 and e[1].model == "m"
    with pytest.raises(ShapeError):
        Embeddings(np.zeros((2, 2, 2)), "m")
