"""Cohort score normalisation (AS-norm): the formula, the cohort file, and verify with a cohort."""

from __future__ import annotations

import numpy as np
import pytest

from mien.embed.base import Embeddings
from mien.errors import InputError, StorageError
from mien.match import verify
from mien.match.calibration import calibrate_pairs, save_calibration
from mien.match.cohort import Cohort, load_cohort, save_cohort


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_normalised_distance_is_the_symmetric_z_score_against_each_sides_nearest_cohort():
    cohort = Cohort("m", "euclidean", unit_vectors(50), top_k=5)
    a, b = unit_vectors(2, seed=1)
    expected = []
    s = -np.linalg.norm(a - b)
    for x in (a, b):
        top = np.sort(-np.linalg.norm(cohort.vectors - x, axis=1))[-5:]
        expected.append((s - top.mean()) / top.std())
    got = cohort.normalized_distances(a, b)[0]
    assert got == pytest.approx(-0.5 * sum(expected), rel=1e-6)  # float32 vectors
    assert cohort.normalized_distances(b, a)[0] == pytest.approx(got, rel=1e-12)


def test_a_face_close_to_everyone_is_held_to_a_stricter_bar():
    # Two pairs at the same raw distance: the one whose faces sit among the cohort
    # (look like many people) must score as less alike than the one in an empty region.
    rng = np.random.default_rng(2)
    crowd = rng.normal(0, 0.1, size=(200, 8))
    cohort = Cohort("m", "euclidean", crowd.astype(np.float32), top_k=20)
    offset = np.zeros(8)
    offset[0] = 0.3
    in_crowd = np.stack([np.zeros(8), offset])
    far = in_crowd + 3.0
    crowded, lonely = cohort.normalized_distances(in_crowd[:1], in_crowd[1:])[0], cohort.normalized_distances(far[:1], far[1:])[0]
    assert crowded > lonely


def test_cohort_rejects_what_cannot_be_normalised():
    with pytest.raises(InputError, match="top_k"):
        Cohort("m", "euclidean", unit_vectors(10), top_k=11)
    bad = unit_vectors(10)
    bad[3, 0] = np.nan
    with pytest.raises(InputError, match="finite"):
        Cohort("m", "euclidean", bad, top_k=5)
    with pytest.raises(InputError, match="'m' embeddings"):
        Cohort("m", "euclidean", unit_vectors(10), top_k=5).check("m+flip")


def test_fingerprint_names_the_vectors_and_top_k():
    v = unit_vectors(30)
    base = Cohort("dlib-resnet", "euclidean", v, top_k=10)
    assert base.score_model == f"dlib-resnet+asnorm-{base.fingerprint}" and len(base.fingerprint) == 8
    assert Cohort("dlib-resnet", "euclidean", v, top_k=11).fingerprint != base.fingerprint
    assert Cohort("dlib-resnet", "euclidean", v[::-1].copy(), top_k=10).fingerprint != base.fingerprint
    assert Cohort("dlib-resnet", "euclidean", v.copy(), top_k=10).fingerprint == base.fingerprint


def test_cohort_file_round_trip_and_bad_files(tmp_path):
    cohort = Cohort("dlib-resnet+flip", "euclidean", unit_vectors(40), top_k=7, source="40 test faces")
    path = save_cohort(cohort, tmp_path / "c.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # the temporary file was renamed, none left
    back = load_cohort(path)
    assert (back.model, back.metric, back.top_k, back.source) == ("dlib-resnet+flip", "euclidean", 7, "40 test faces")
    assert np.array_equal(back.vectors, cohort.vectors) and back.score_model == cohort.score_model
    assert load_cohort(path, top_k=3).top_k == 3
    with pytest.raises(InputError, match=r"\.npz"):
        save_cohort(cohort, tmp_path / "c.bin")
    with pytest.raises(InputError, match="does not exist"):
        load_cohort(tmp_path / "missing.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "cut.npz").write_bytes(path.read_bytes()[:300])
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    for name in ("empty.npz", "cut.npz", "other.npz"):
        with pytest.raises(StorageError, match="cannot read cohort"):
            load_cohort(tmp_path / name)


def test_verify_with_a_cohort_decides_on_the_normalised_distance(tmp_path):
    vectors = unit_vectors(60, seed=3)
    cohort = Cohort("toy", "euclidean", vectors[:40], top_k=10)
    a, b = Embeddings(vectors[40:41], "toy", "euclidean"), Embeddings(vectors[41:42], "toy", "euclidean")
    with pytest.raises(InputError, match="--cohort"):
        verify(a, b, cohort=cohort)  # no calibration for these normalised scores yet
    # A calibration for the normalised scores, from toy labelled pairs.
    rng = np.random.default_rng(4)
    dist = np.r_[rng.normal(-4, 1, 200), rng.normal(0, 1, 2000)]
    same = np.r_[np.ones(200, bool), np.zeros(2000, bool)]
    file = save_calibration(calibrate_pairs(dist, same, cohort.score_model, "euclidean", "toy pairs"), tmp_path / "cal.json")
    result = verify(a, b, fmr=1e-2, cohort=cohort, calibration=str(file))
    expected = cohort.normalized_distances(a.vectors, b.vectors)[0]
    assert result.normalized_distance == pytest.approx(expected)
    assert result.same == (expected <= result.threshold) and result.score_model == cohort.score_model
    assert result.distance == pytest.approx(float(np.linalg.norm(vectors[40] - vectors[41])), rel=1e-5)
    assert result.to_dict()["normalized_distance"] == round(expected, 6)
    with pytest.raises(InputError, match="'toy' embeddings"):
        verify(Embeddings(vectors[40:41], "toy+flip", "euclidean"), Embeddings(vectors[41:42], "toy+flip", "euclidean"),
               cohort=cohort, calibration=str(file))


def test_build_cohort_skips_images_without_a_face_and_says_why():
    from mien.errors import NoFaceError
    from mien.match.cohort import build_cohort

    vectors = unit_vectors(12)

    def embed_one(i):
        if i % 4 == 0:
            raise NoFaceError(f"img{i}", "nothing found")
        return Embeddings(vectors[i : i + 1], "toy", "euclidean")

    cohort, skipped = build_cohort(range(12), embed_one, top_k=5, source="toy")
    assert len(cohort.vectors) == 9 and [s[0] for s in skipped] == ["0", "4", "8"] and "img4" in skipped[1][1]
    assert cohort.model == "toy" and cohort.top_k == 5
    with pytest.raises(InputError, match="no face found in any of the 12"):
        build_cohort(range(12), lambda i: embed_one(0), top_k=5)
    with pytest.raises(InputError, match="cannot give its 10 nearest"):
        build_cohort(range(12), embed_one, top_k=10)


def test_build_cohort_balances_by_a_label_and_checks_top_k_on_the_final_set():
    from mien.match.cohort import build_cohort

    vectors = unit_vectors(12)
    labels = ["f"] * 3 + ["m"] * 9

    def embed_one(i):
        return Embeddings(vectors[i : i + 1], "toy", "euclidean"), labels[i]

    cohort, skipped = build_cohort(range(12), embed_one, top_k=6, source="toy", balance_by="estimated gender (toy)")
    assert len(cohort.vectors) == 6 and not skipped
    assert cohort.source == "toy; balanced by estimated gender (toy): 3 f, 3 m"
    assert sum(any(np.array_equal(v, w) for w in vectors[:3]) for v in cohort.vectors) == 3  # every f kept
    with pytest.raises(InputError, match="cannot give its 7 nearest"):  # 12 faces, but 6 once balanced
        build_cohort(range(12), embed_one, top_k=7, balance_by="estimated gender (toy)")


def test_balanced_subset_keeps_each_group_as_often_as_the_rarest():
    from mien.match.cohort import balanced_subset

    labels = ["m"] * 30 + ["f"] * 7 + ["m"] * 5
    keep = balanced_subset(labels)
    picked = [labels[i] for i in keep]
    assert picked.count("f") == picked.count("m") == 7 and list(keep) == sorted(set(keep))
    assert list(balanced_subset(labels)) == list(keep)  # fixed seed
    with pytest.raises(InputError, match="one group only"):
        balanced_subset(["m"] * 5)
