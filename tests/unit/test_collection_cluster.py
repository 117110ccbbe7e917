"""mien.collection.cluster: constrained average linkage on synthetic faces (no weights)."""

from __future__ import annotations

import numpy as np
import pytest

from mien.collection.cluster import ClusterInput, ClusterParams, assign, cluster
from mien.errors import InputError

D = 128


def blobs(people: int = 30, per: int = 6, spread: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit-ish centres ~1.4 apart (dlib's impostor distances are ~0.8+), faces ~``spread`` around them."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(people, D))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.normal(size=(people * per, D)) * (spread / np.sqrt(2 * D))
    return (np.repeat(centres, per, 0) + noise).astype(np.float32), np.repeat(np.arange(people), per)


def inp(x: np.ndarray, photo=None, usable=None, young=None, **kw) -> ClusterInput:
    n = len(x)
    return ClusterInput(x, np.arange(n) if photo is None else np.asarray(photo),
                        np.ones(n, bool) if usable is None else np.asarray(usable),
                        np.zeros(n, bool) if young is None else np.asarray(young), **kw)


def bcubed_f1(truth: np.ndarray, labels: np.ndarray) -> float:
    labels = labels.copy()
    free = labels < 0
    labels[free] = labels.max(initial=-1) + 1 + np.arange(free.sum())
    same_t = truth[:, None] == truth[None]
    same_c = labels[:, None] == labels[None]
    both = (same_t & same_c).sum(1)
    p, r = np.mean(both / same_c.sum(1)), np.mean(both / same_t.sum(1))
    return 2 * p * r / (p + r)


def test_blobs_are_recovered_and_numbered_largest_first():
    x, truth = blobs()
    x = np.concatenate([x, blobs(1, 12, seed=9)[0]])  # one bigger person last
    truth = np.concatenate([truth, np.full(12, 99)])
    labels = cluster(inp(x))
    assert labels.dtype == np.int64 and labels.shape == (len(x),)
    assert bcubed_f1(truth, labels) > 0.99
    assert (labels[-12:] == 0).all()
    assert sorted(set(labels)) == list(range(31))


def test_a_chain_of_lookalikes_does_not_merge_two_people():
    # two people 1.0 apart joined by a bridge of faces each 0.25 from the next: single
    # linkage (and Chinese whispers) chain them; average linkage must not
    rng = np.random.default_rng(1)
    a, b = np.zeros(D, np.float32), np.zeros(D, np.float32)
    b[0] = 1.0
    people = [p + rng.normal(size=(20, D)).astype(np.float32) * 0.1 / np.sqrt(2 * D) for p in (a, b)]
    bridge = np.stack([a + (b - a) * t for t in np.linspace(0.25, 0.75, 3)])
    labels = cluster(inp(np.concatenate([people[0], bridge, people[1]])))
    assert labels[0] != labels[-1]


def test_same_photo_faces_never_share_a_label():
    x, _ = blobs(people=3, per=6)
    twin = x.copy()
    photo = np.concatenate([np.arange(18), np.arange(18)])  # each face's twin is in its photo
    labels = cluster(inp(np.concatenate([x, twin]), photo=photo))
    for i in range(18):
        assert labels[i] != labels[18 + i]


def test_unusable_faces_are_unassigned_and_may_hold_nan():
    x, _ = blobs(people=4, per=5)
    usable = np.ones(len(x), bool)
    usable[[0, 7]] = False
    x[7] = np.nan
    labels = cluster(inp(x, usable=usable))
    assert labels[0] == -1 and labels[7] == -1
    assert (labels[usable] >= 0).all()


def test_must_link_joins_two_people():
    x, truth = blobs(people=4, per=5)
    labels = cluster(inp(x, must_link=((0, 5),)))
    assert labels[0] == labels[5]  # the two faces named, not their look-alikes
    merged = cluster(inp(x, must_link=(tuple(np.flatnonzero(truth <= 1)),)))  # a UI merge: every face of both
    assert len(set(merged[truth <= 1])) == 1
    assert len(set(merged)) == 3


def test_must_link_against_a_constraint_is_an_error():
    x, _ = blobs(people=2, per=3)
    with pytest.raises(InputError):
        cluster(inp(x, photo=[0, 0, 1, 2, 3, 4], must_link=((0, 1),)))
    with pytest.raises(InputError):
        cluster(inp(x, must_link=((0, 1),), cannot_link=(((0,), (1,)),)))


def test_cannot_link_splits_one_person():
    x, _ = blobs(people=2, per=6)
    labels = cluster(inp(x, cannot_link=(((0, 1), (2, 3)),)))
    assert not set(labels[[0, 1]]) & set(labels[[2, 3]])
    assert labels[6] == labels[7]


def test_young_faces_need_the_stricter_bar():
    x, _ = blobs(people=1, per=2, spread=0.0)
    x[1] = x[0]
    x[1, 0] += 0.5  # 0.5 apart: one person at the normal bar, not at the young one
    params = ClusterParams(threshold=0.55, young_threshold=0.45)
    assert len(set(cluster(inp(x), params))) == 1
    assert len(set(cluster(inp(x, young=[True, False]), params))) == 2


def test_second_opinion_vetoes_a_young_link():
    x, _ = blobs(people=1, per=2, spread=0.0)
    x[1] = x[0]
    x[1, 0] += 0.3
    agree = np.eye(2, 16, dtype=np.float32)[[0, 0]]
    differ = np.eye(2, 16, dtype=np.float32)
    missing = agree.copy()
    missing[1] = np.nan
    young = [True, True]
    assert len(set(cluster(inp(x, young=young, second=agree)))) == 1
    assert len(set(cluster(inp(x, young=young, second=differ)))) == 2
    assert len(set(cluster(inp(x, young=young, second=missing)))) == 1  # no second opinion: distance alone
    assert len(set(cluster(inp(x, second=differ)))) == 1  # adults: the second model is not asked


def test_deterministic():
    x, _ = blobs(people=20, per=5, spread=0.45, seed=3)
    first = cluster(inp(x))
    for _ in range(3):
        np.testing.assert_array_equal(cluster(inp(x)), first)


def test_assign_grows_existing_people_and_finds_new_ones():
    x, truth = blobs(people=6, per=6, seed=4)
    old, new = truth < 5, truth >= 3  # people 3, 4 in both; person 5 only new
    keep = np.flatnonzero(old)[::2]  # half the faces of people 0-4 are the existing collection
    add = np.setdiff1d(np.flatnonzero(new), keep)
    existing = inp(x[keep], photo=keep)
    labels = cluster(existing)
    out = assign(existing, labels, inp(x[add], photo=add))
    for person in (3, 4):
        assert set(out[truth[add] == person]) == {labels[truth[keep] == person][0]}
    fresh = out[truth[add] == 5]
    assert len(set(fresh)) == 1 and fresh[0] == labels.max() + 1
    np.testing.assert_array_equal(cluster(existing), labels)  # the existing clustering is untouched


def test_assign_never_merges_two_existing_people():
    x, truth = blobs(people=2, per=4, seed=5)
    existing = inp(x)
    labels = np.where(truth == 0, 0, 1).astype(np.int64)
    labels[0] = 1  # a (user-made) label that puts a person-0 face with person 1
    out = assign(existing, labels, inp(x[[1]] + 1e-3, photo=[100]))
    assert out[0] in (0, 1)


def test_bad_input_is_an_input_error():
    x, _ = blobs(people=2, per=3)
    with pytest.raises(InputError):
        inp(x, photo=np.arange(5))
    with pytest.raises(InputError):
        inp(x[0])
    bad = x.copy()
    bad[2, 3] = np.nan
    with pytest.raises(InputError):
        inp(bad)
    with pytest.raises(InputError):
        inp(x, usable=np.ones(len(x)))  # not bool
    with pytest.raises(InputError):
        inp(x, must_link=((0, 99),))
    with pytest.raises(InputError):
        inp(x, second=np.zeros((3, 8), np.float32))
    with pytest.raises(InputError):
        ClusterParams(threshold=0.9, radius=0.6)
    existing = inp(x)
    with pytest.raises(InputError):
        assign(existing, np.zeros(len(x), np.int64), inp(np.zeros((2, 64), np.float32)))
    with pytest.raises(InputError):
        assign(existing, np.zeros(3, np.int64), inp(x))


def crowded_pair(gap: float = 0.4, within: float = 0.3, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two people 4 faces each whose centres are ``gap`` apart: close enough for the raw bar to merge them."""
    rng = np.random.default_rng(seed)
    d = 128
    centre = rng.normal(size=d)
    centre *= 2.0 / np.linalg.norm(centre)
    step = rng.normal(size=d)
    step *= gap / np.linalg.norm(step)
    faces, truth = [], []
    for person, c in enumerate((centre, centre + step)):
        for _ in range(4):
            noise = rng.normal(size=d)
            faces.append(c + noise * (within / np.sqrt(2) / np.linalg.norm(noise)))
            truth.append(person)
    return np.asarray(faces, np.float32), np.asarray(truth)


def test_cohort_normalisation_separates_a_crowded_pair_the_raw_bar_merges():
    x, truth = crowded_pair()
    raw = cluster(inp(x))
    assert len(set(raw.tolist())) == 1  # ~0.5 apart on average: under the raw 0.52 bar
    # these faces' cohort neighbours sit close (crowded): mean top score -0.47, spread 0.025
    norm = np.tile([-0.47, 0.025], (len(x), 1))
    labels = cluster(inp(x, norm=norm))
    assert bcubed_f1(truth, labels) == 1.0
    # faces in an uncrowded part of the space (cohort far away) merge as before
    far = np.tile([-0.65, 0.025], (len(x), 1))
    assert len(set(cluster(inp(x, norm=far)).tolist())) == 1


def test_cohort_normalisation_input_is_checked():
    x, _ = crowded_pair()
    with pytest.raises(InputError):
        inp(x, norm=np.zeros((3, 2)))
    with pytest.raises(InputError):
        inp(x, norm=np.tile([-0.5, 0.0], (len(x), 1)))  # zero spread
