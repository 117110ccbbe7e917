"""The gallery on real photos through the real models: enrol, identify, verify, refuse, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mien.errors import InputError, MultipleFacesError, NoFaceError, QualityError
from mien.gallery import open_gallery

KEY = bytes(range(32))
BLAIR = ["Tony_Blair_0018", "Tony_Blair_0032", "Tony_Blair_0048"]
WEN = ["Wen_Jiabao_0001", "Wen_Jiabao_0002", "Wen_Jiabao_0003"]
CHRETIEN = ["Jean_Chretien_0002", "Jean_Chretien_0006"]


def lfw(data_dir, name):
    return str(data_dir / "lfw" / "images" / f"{name}.jpg")


@pytest.fixture(scope="module")
def filled(tmp_path_factory, data_dir):
    url = f"sqlite://{tmp_path_factory.mktemp('gallery') / 'store'}"
    g = open_gallery(url, "photos", key=KEY, actor="test")
    g.enrol("blair", [lfw(data_dir, n) for n in BLAIR[:2]], force=True)
    g.enrol("wen", [lfw(data_dir, n) for n in WEN[:2]], force=True)
    return g


def test_identifies_enrolled_people_and_not_strangers(filled, data_dir):
    blair = filled.identify(lfw(data_dir, BLAIR[2]))
    assert blair.identity == "blair" and blair.face is not None and blair.model == "dlib-resnet"
    wen = filled.identify(lfw(data_dir, WEN[2]))
    assert wen.identity == "wen"
    stranger = filled.identify(lfw(data_dir, CHRETIEN[0]))
    assert stranger.decision == "unknown" and stranger.candidates[0].score > stranger.threshold


def test_access_decisions_on_photos(filled, data_dir):
    ok = filled.verify("wen", lfw(data_dir, WEN[2]))
    assert ok.granted and ok.quality is not None and ok.face is not None
    impostor = filled.verify("wen", lfw(data_dir, BLAIR[2]), liveness=True)
    assert not impostor.granted and impostor.reasons[0].startswith("no match")
    assert any(r.startswith("liveness (experimental)") for r in impostor.reasons) and impostor.liveness


def test_enrolment_refuses_failing_faces_and_says_which_check(filled, data_dir, tmp_path):
    tiny = tmp_path / "tiny.png"
    Image.open(lfw(data_dir, CHRETIEN[0])).resize((60, 60)).resize((150, 150), Image.NEAREST).save(tiny)
    before = filled.get("blair").templates
    with pytest.raises(QualityError) as caught:
        filled.enrol("blair", [lfw(data_dir, BLAIR[2]), str(tiny)])
    assert caught.value.failed and "needs" in str(caught.value) and "force" in str(caught.value)
    assert filled.get("blair").templates == before  # neither photo was stored


def test_no_face_and_several_faces(filled, tmp_path, group_photo):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    with pytest.raises(NoFaceError):
        filled.identify(str(blank))
    with pytest.raises(MultipleFacesError):
        filled.identify(group_photo)
    assert len(filled.identify_faces(group_photo)) == 6


def test_kept_crops_are_sealed(tmp_path, data_dir):
    g = open_gallery(f"sqlite://{tmp_path / 'store'}", "crops", key=KEY, keep_crops=True)
    g.enrol("wen", lfw(data_dir, WEN[0]), force=True)
    (template,) = g.store.templates("crops", "wen")
    assert template.crop is not None and b"PNG" not in template.crop
    assert g.protector.open(template.crop, "wen")[4:].find(b"PNG") > 0
    assert g.remove("wen").crops_removed == 1


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "mien", *args], capture_output=True, text=True, env=env)


def test_cli_enrol_identify_verify_remove(tmp_path, data_dir):
    store = ["--store", f"sqlite://{tmp_path / 'store'}"]
    made = run("gallery", "enroll", "wen", lfw(data_dir, WEN[0]), lfw(data_dir, WEN[1]), "--force",
               "--consent", "door", "--expires", "2099-01-01", "--meta", "badge=7", "--json", *store)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["added"] == 2 and "lie unencrypted" in made.stderr
    refused = run("gallery", "enroll", "blair", lfw(data_dir, BLAIR[0]), *store)
    assert refused.returncode == 2 and "fails the enrolment quality checks" in refused.stderr
    found = run("gallery", "identify", lfw(data_dir, WEN[2]), "--json", *store)
    assert found.returncode == 0 and json.loads(found.stdout)["identity"] == "wen"
    unknown = run("gallery", "identify", lfw(data_dir, BLAIR[2]), *store)
    assert unknown.returncode == 0 and ": unknown; nearest 'wen'" in unknown.stdout
    granted = run("gallery", "verify", "wen", lfw(data_dir, WEN[2]), *store)
    assert granted.returncode == 0 and granted.stdout.startswith("GRANTED wen: match")
    denied = run("gallery", "verify", "wen", lfw(data_dir, BLAIR[2]), *store)
    assert denied.returncode == 1 and denied.stdout.startswith("DENIED wen: no match")
    missing = run("gallery", "identify", str(tmp_path / "nope.jpg"), *store)
    assert missing.returncode == 2 and missing.stderr.startswith("mien: error:")
    listed = json.loads(run("gallery", "list", "--json", *store).stdout)
    assert listed["identities"][0]["metadata"] == {"badge": "7"} and listed["identities"][0]["consent"]["state"] == "active"
    removed = run("gallery", "remove", "wen", *store)
    assert removed.returncode == 0 and "erased 'wen'" in removed.stdout and "receipt" in removed.stdout
    assert run("gallery", "journal", "--verify", *store).returncode == 0


def frames_of(photo, n, size=(320, 240)):
    """A face drifting across a grey frame: ``n`` frames."""
    import cv2

    face = cv2.resize(photo, (150, 150))
    for i in range(n):
        frame = np.full((size[1], size[0], 3), 90, np.uint8)
        x = 10 + int(i * (size[0] - 170) / max(n - 1, 1))
        frame[45:195, x:x + 150] = face
        yield frame


def test_watch_names_people_once_per_track(filled, data_dir, tmp_path):
    from mien.gallery.watch import watch
    from mien.image import load_image
    from mien.video.io import probe, write_video

    src = tmp_path / "walk.mp4"
    frames = list(frames_of(load_image(lfw(data_dir, WEN[2])), 20)) + [np.full((240, 320, 3), 90, np.uint8)] * 5 \
        + list(frames_of(load_image(lfw(data_dir, CHRETIEN[1])), 20))
    write_video(src, frames, fps=10)
    before = len(filled.journal())
    result = watch(filled, src, tmp_path / "named.mp4")
    people = [(e.identity, e.decision) for e in result.events if e.searches]
    assert ("wen", "match") in people and (None, "unknown") in people, people
    wen = next(e for e in result.events if e.identity == "wen")
    assert wen.searches == 1 and wen.first_seen < 2.0 <= wen.last_seen + 0.2
    searches = sum(e.searches for e in result.events)
    assert searches <= 6 and len(filled.journal()) - before == searches  # per track, not per frame (45 frames)
    assert probe(tmp_path / "named.mp4").frames in (0, 45)
    empty = tmp_path / "empty.mp4"
    write_video(empty, [np.full((240, 320, 3), 90, np.uint8)] * 5, fps=10)
    assert watch(filled, empty).events == ()


def test_reembed_moves_a_gallery_to_another_model_from_kept_crops(tmp_path, data_dir):
    from mien.errors import EmbeddingMismatchError

    g = open_gallery(f"sqlite://{tmp_path / 'store'}", "move", key=KEY, keep_crops=True)
    g.enrol("wen", [lfw(data_dir, n) for n in WEN[:2]], force=True)
    g.enrol("blair", lfw(data_dir, BLAIR[0]), force=True)
    assert g.identify(lfw(data_dir, WEN[2])).identity == "wen"
    info = g.reembed("faceres")
    assert info.model == "faceres" and info.dim == 1024 and info.metric == "cosine" and info.epoch == 1
    moved = g.identify(lfw(data_dir, WEN[2]))
    assert moved.identity == "wen" and moved.model == "faceres"
    assert g.get("wen").templates == 2 and g.verify_journal().ok
    with pytest.raises(EmbeddingMismatchError):
        open_gallery(f"sqlite://{tmp_path / 'store'}", "move", key=KEY, model="dlib-resnet")
    plain = open_gallery(f"sqlite://{tmp_path / 'store'}", "plain", key=KEY)
    plain.enrol("wen", lfw(data_dir, WEN[0]), force=True)
    with pytest.raises(InputError, match="kept no face crops"):
        plain.reembed("faceres")
