"""One suite every gallery backend passes unchanged (see tests/contract/conftest.py for which run)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from mien.errors import EmbeddingMismatchError, InputError, NotFoundError, StorageError, TemplateKeyError
from mien.gallery import ClearTemplatesWarning, Consent, open_gallery

KEY = bytes(range(32))


@pytest.fixture
def gallery(store_url, gallery_name):
    g = open_gallery(store_url, gallery_name, key=KEY, actor="test")
    yield g
    g.close()


def enrol_people(g, people, n=20, photos=3):
    for i in range(n):
        g.enrol(f"person{i}", people.photo(i, photos), {"row": i})


def test_enrol_identify_and_unknown(gallery, people):
    enrol_people(gallery, people)
    assert len(gallery) == 20 and gallery.get("person3").templates == 3
    for i in (0, 7, 19):
        result = gallery.identify(people.photo(i))
        assert result.decision == "match" and result.identity == f"person{i}"
        assert result.candidates[0].score <= result.threshold < result.candidates[1].score
        assert result.templates == 60 and result.gallery_size == 20 and result.model == "dlib-resnet"
    stranger = gallery.identify(people.stranger())
    assert stranger.decision == "unknown" and stranger.identity is None
    assert not any(c.passed for c in stranger.candidates)
    # candidates are distinct identities ranked by score
    names = [c.identity for c in stranger.candidates]
    assert len(names) == len(set(names)) == 5
    assert [c.score for c in stranger.candidates] == sorted(c.score for c in stranger.candidates)


def test_scores_are_exact_distances(gallery, people):
    """The keyed rotation and the index keep distances: the reported score is numpy's distance."""
    enrol_people(gallery, people, n=5, photos=1)
    probe = people.photo(2)
    result = gallery.identify(probe, k=5)
    exported = {c.identity: np.array(gallery.export(c.identity)["templates"][0]["vector"]) for c in result.candidates}
    for c in result.candidates:
        assert c.distance == pytest.approx(float(np.linalg.norm(exported[c.identity] - probe.vectors[0])), abs=1e-4)


def test_threshold_tightens_as_the_gallery_grows(gallery, people):
    gallery.enrol("a", people.photo(0))
    small = gallery.identify(people.photo(0))
    enrol_people(gallery, people, n=30)
    large = gallery.identify(people.photo(0))
    assert large.threshold < small.threshold and large.comparison_fmr < small.comparison_fmr
    assert large.estimated_fpir == pytest.approx(1e-3, rel=0.05)


def test_tenants_never_see_each_other(store_url, gallery_name, people):
    a = open_gallery(store_url, gallery_name + "a", key=KEY)
    b = open_gallery(store_url, gallery_name + "b", key=KEY)
    a.enrol("alice", people.photo(0, 2))
    b.enrol("bob", people.photo(1, 2))
    assert [r.name for r in a.list()] == ["alice"] and [r.name for r in b.list()] == ["bob"]
    assert b.identify(people.photo(0)).identity is None
    assert all(c.identity != "alice" for c in b.identify(people.photo(0)).candidates)
    with pytest.raises(NotFoundError):
        b.get("alice")
    with pytest.raises(NotFoundError):
        b.remove("alice")
    assert a.get("alice").templates == 2
    a.close()
    b.close()


def test_gallery_is_pinned_to_its_model(gallery, people, store_url, gallery_name):
    gallery.enrol("a", people.photo(0))
    with pytest.raises(EmbeddingMismatchError):
        gallery.enrol("b", people.photo(1, model="dlib-resnet+flip"))
    with pytest.raises(EmbeddingMismatchError):
        gallery.identify(people.photo(0, model="faceres"))
    with pytest.raises(EmbeddingMismatchError):
        open_gallery(store_url, gallery_name, key=KEY, model="faceres")
    assert gallery.get("a").templates == 1 and "b" not in gallery


def test_key_is_required_and_checked(gallery, people, store_url, gallery_name):
    gallery.enrol("a", people.photo(0))
    with pytest.raises(TemplateKeyError):
        open_gallery(store_url, gallery_name)
    with pytest.raises(TemplateKeyError):
        open_gallery(store_url, gallery_name, key=bytes(32))
    again = open_gallery(store_url, gallery_name, key=KEY)
    assert again.identify(people.photo(0)).identity == "a"


def test_a_gallery_without_key_says_so(store_url, gallery_name, people):
    with pytest.warns(ClearTemplatesWarning):
        g = open_gallery(store_url, gallery_name)
    assert not g.info.protected and g.protection().startswith("NO KEY")
    g.enrol("a", people.photo(0))
    assert g.identify(people.photo(0)).identity == "a"


def test_consent_expired_or_withdrawn_is_never_returned(gallery, people):
    now = time.time()
    gallery.enrol("kept", people.photo(0, 2), consent=Consent("door", now))
    gallery.enrol("expired", people.photo(1, 2), consent=Consent("door", now - 100, now - 10))
    gallery.enrol("withdrawn", people.photo(2, 2), consent=Consent("door", now))
    gallery.withdraw_consent("withdrawn")
    assert gallery.identify(people.photo(0)).identity == "kept"
    for i in (1, 2):
        result = gallery.identify(people.photo(i))
        assert result.identity is None
        assert all(c.identity in ("kept",) for c in result.candidates)
    denied = gallery.verify("expired", people.photo(1))
    assert not denied.granted and "consent expired" in denied.reasons[0]
    receipts = gallery.purge_expired()
    assert sorted(r.templates_removed for r in receipts) == [2, 2]
    assert [r.name for r in gallery.list()] == ["kept"]


def test_verify_grants_and_denies_with_reasons(gallery, people):
    gallery.enrol("a", people.photo(0, 3))
    gallery.enrol("b", people.photo(1, 3))
    ok = gallery.verify("a", people.photo(0))
    assert ok.granted and ok.reasons[0].startswith("match") and ok.score <= ok.threshold
    no = gallery.verify("a", people.photo(1))
    assert not no.granted and no.reasons[0].startswith("no match")
    with pytest.raises(NotFoundError):
        gallery.verify("nobody", people.photo(0))


def test_remove_erases_and_the_receipt_is_in_the_journal(gallery, people):
    enrol_people(gallery, people, n=5, photos=2)
    receipt = gallery.remove("person2")
    assert receipt.templates_removed == 2 and receipt.index_entries_removed == 2 and receipt.identity_removed
    assert len(receipt.digest) == 64 and receipt.steps
    assert "person2" not in gallery and len(gallery) == 4
    assert all(c.identity != "person2" for c in gallery.identify(people.photo(2)).candidates)
    with pytest.raises(NotFoundError):
        gallery.remove("person2")
    line = [e for e in gallery.journal() if e.action == "receipt"][-1]
    assert line.details["digest"] == receipt.digest and line.seq == receipt.journal_seq
    assert line.subject == receipt.subject and "person2" not in str(gallery.journal())


def test_journal_records_every_operation_and_verifies(gallery, people):
    gallery.enrol("a", people.photo(0))
    gallery.identify(people.photo(0))
    gallery.verify("a", people.photo(0))
    gallery.export("a")
    gallery.remove("a")
    actions = [e.action for e in gallery.journal()]
    assert actions == ["create", "enrol", "identify", "verify", "export", "remove", "receipt"]
    assert all(e.actor == "test" for e in gallery.journal())
    check = gallery.verify_journal()
    assert check.ok and check.entries == 7, check.problems


def test_export_holds_everything_about_one_person(gallery, people):
    photos = people.photo(0, 2)
    gallery.enrol("a", photos, {"badge": "17"}, Consent("door", time.time()))
    gallery.enrol("b", people.photo(1))
    doc = gallery.export("a")
    assert doc["identity"]["metadata"] == {"badge": "17"} and doc["identity"]["consent"]["purpose"] == "door"
    assert np.allclose([t["vector"] for t in doc["templates"]], photos.vectors, atol=1e-5)
    assert {e["action"] for e in doc["journal"]} == {"enrol"}


def test_a_second_handle_sees_writes_at_once(store_url, gallery_name, people):
    """Two processes (here two stores on one URL) share a gallery without reopening."""
    first = open_gallery(store_url, gallery_name, key=KEY)
    second = open_gallery(store_url, gallery_name, key=KEY)
    first.enrol("a", people.photo(0))
    assert second.identify(people.photo(0)).identity == "a"
    second.enrol("b", people.photo(1))
    first.remove("a")
    assert second.identify(people.photo(0)).identity is None
    assert first.identify(people.photo(1)).identity == "b"
    first.close()
    second.close()


def test_bad_input_changes_nothing(gallery, people):
    gallery.enrol("a", people.photo(0))
    before = gallery.journal()
    with pytest.raises(InputError):
        gallery.enrol("", people.photo(1))
    with pytest.raises(InputError):
        gallery.enrol("b", [])
    with pytest.raises(InputError):
        gallery.identify(people.photo(0, 2))
    with pytest.raises(InputError):
        gallery.identify(people.photo(0), k=0)
    with pytest.raises(InputError):
        gallery.identify(people.photo(0), fpir=1.5)
    assert gallery.journal() == before and [r.name for r in gallery.list()] == ["a"]


def test_bulk_enrolment(gallery, people):
    items = [(f"p{i}", people.photo(i, 2), None) for i in range(30)]
    assert gallery.enrol_many(items) == 60
    assert len(gallery) == 30 and gallery.identify(people.photo(11)).identity == "p11"


def test_empty_gallery_answers_unknown(gallery, people):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gallery.identify(people.photo(0))
    assert result.decision == "unknown" and result.templates == 0 and result.note == "the gallery is empty"


def test_out_of_range_offsets_are_input_errors_on_every_store(gallery, people):
    gallery.enrol("a", people.photo(0))
    for call in (lambda: gallery.journal(2**70), lambda: gallery.journal(-1), lambda: gallery.list(2**64),
                 lambda: gallery.list(0, -5)):
        with pytest.raises(InputError):
            call()
    assert [e.action for e in gallery.journal(1)] == ["enrol"] and len(gallery.list()) == 1


def test_rekey_revokes_the_old_key_and_keeps_the_journal(store_url, gallery_name, people):
    g = open_gallery(store_url, gallery_name, key=KEY)
    stale = open_gallery(store_url, gallery_name, key=KEY)
    enrol_people(g, people, n=6, photos=2)
    before = g.identify(people.photo(3))
    new_key = bytes(range(100, 132))
    info = g.rekey(new_key)
    assert info.epoch == 1 and info.protected
    after = g.identify(people.photo(3))
    assert after.identity == before.identity == "person3"
    with pytest.raises(TemplateKeyError):
        open_gallery(store_url, gallery_name, key=KEY)
    with pytest.raises(StorageError, match="open it again"):
        stale.identify(people.photo(3))
    reopened = open_gallery(store_url, gallery_name, key=new_key)
    assert reopened.identify(people.photo(5)).identity == "person5" and len(reopened) == 6
    check = reopened.verify_journal()
    assert check.ok, check.problems
    assert "rekey" in [e.action for e in reopened.journal()]
    for handle in (g, stale, reopened):
        handle.close()
