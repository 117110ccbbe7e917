"""Face swap on LFW photos of different people, and on a short video."""

from __future__ import annotations

import numpy as np
import pytest

from mien.api import detect
from mien.edit.face import find_face
from mien.edit.swap import FaceSwapper, repose, swap_face, swapped_geometry, unpose
from mien.edit.video import PointSmoother
from mien.errors import ConsentError, MultipleFacesError, NoFaceError, PoseError
from mien.landmarks.pose import rotation
from mien.provenance import check

PAIRS = [("Aaron_Eckhart_0001", "AJ_Lamas_0001"), ("Angelina_Jolie_0001", "Colin_Powell_0040"),
         ("Colin_Powell_0040", "Tony_Blair_0018"), ("Abel_Pacheco_0001", "Aaron_Guiel_0001")]


@pytest.fixture(scope="module")
def embed():
    from mien.embed import get_embedder

    model = get_embedder("dlib-resnet")

    def run(image):
        faces = detect(image)
        assert len(faces) == 1, f"{len(faces)} faces"
        return model.embed_faces(image, faces).vectors[0]

    return run


def test_refuses_without_consent(photo):
    a, b = photo("Aaron_Eckhart_0001"), photo("AJ_Lamas_0001")
    with pytest.raises(ConsentError, match="consent"):
        swap_face(a, b)
    with pytest.raises(ConsentError):
        swap_face(a, b, consent="yes")  # only True counts


@pytest.mark.parametrize("source,target", PAIRS)
def test_swap_carries_the_source_identity(photo, embed, source, target):
    a, b = photo(source), photo(target)
    result = swap_face(a, b, consent=True)
    ea, eb, es = embed(a), embed(b), embed(result.image)  # mien's detector finds exactly one face
    d_source, d_target = np.linalg.norm(es - ea), np.linalg.norm(es - eb)
    assert d_source < d_target
    assert d_source < 0.6  # dlib's same-person distance
    # outside the face the target is untouched
    h, w = b.shape[:2]
    border = np.ones((h, w), bool)
    border[int(result.target.box[1]):int(result.target.box[3]), int(result.target.box[0]):int(result.target.box[2])] = False
    assert np.abs(result.image[border].astype(int) - b[border]).mean() < 1.0


def test_pose_round_trip_and_geometry_follows_the_target_pose(photo):
    a = photo("Aaron_Eckhart_0001")
    geo = find_face(a)
    np.testing.assert_allclose(repose(unpose(geo.points, geo.pose), geo.pose), geo.points, atol=1e-6)
    new = swapped_geometry(geo, geo)
    np.testing.assert_allclose(new, geo.points, atol=1e-6)  # a face swapped onto itself keeps its shape
    b = photo("AJ_Lamas_0001")
    target = find_face(b)
    moved = swapped_geometry(geo, target)
    # the face oval stays the target's; inside, the shape moves towards the source's
    from mien.landmarks.regions import FACE_OVAL

    assert np.abs(moved[list(FACE_OVAL), :2] - target.xy[list(FACE_OVAL)]).max() < 1e-6
    assert np.abs(moved[:, :2] - target.xy).max() > 1.0


def test_turned_source_fills_its_hidden_half_from_the_mirror(photo):
    a = photo("Aaron_Eckhart_0001")
    geo = find_face(a)
    from dataclasses import replace

    from mien.landmarks.pose import head_pose

    # the same face turned 40 degrees: rotate its own canonical shape and project it
    canon = unpose(geo.points, geo.pose)
    pose = replace(geo.pose, rotation=rotation(40, 0, 0) @ geo.pose.rotation)
    turned = repose(canon, pose)
    turned_geo = replace(geo, points=turned, pose=head_pose(turned))
    frontal = FaceSwapper(a, geo)
    side = FaceSwapper(a, turned_geo)
    assert frontal.use_mirror.mean() < 0.02
    assert side.use_mirror.mean() > 0.05
    # the mirrored triangles are on the side turned away (yaw > 0 turns the face to the viewer's right,
    # so the person's left cheek, on the image's right, turns away)
    from mien.landmarks.regions import face_triangles

    centre_x = turned[:, 0].mean()
    xs = turned[face_triangles()[side.use_mirror]][:, :, 0].mean(1)
    assert (xs > centre_x).mean() > 0.8


def test_bad_inputs_are_typed(photo, group_photo):
    a = photo("Aaron_Eckhart_0001")
    blank = np.full((200, 200, 3), 120, np.uint8)
    with pytest.raises(NoFaceError):
        swap_face(blank, a, consent=True)
    with pytest.raises(NoFaceError):
        swap_face(a, blank, consent=True)
    with pytest.raises(MultipleFacesError, match="largest"):
        swap_face(a, group_photo, consent=True)
    result = swap_face(a, group_photo, consent=True, largest=True)
    assert result.image.shape == group_photo.shape


def test_too_steep_a_profile_is_refused(photo, monkeypatch):
    import mien.edit.face as face_mod

    monkeypatch.setattr(face_mod, "MAX_YAW", 5.0)
    b = photo("AJ_Lamas_0001")  # yaw about 10 degrees
    geo = find_face(b)
    with pytest.raises(PoseError, match="turned too far"):
        face_mod.check_pose(geo, "b", max_yaw=5.0)


def test_cli_swap_refuses_without_consent_and_records_it_with(cli, lfw, tmp_path):
    a, b = lfw / "Aaron_Eckhart_0001.jpg", lfw / "AJ_Lamas_0001.jpg"
    out = tmp_path / "swap.png"
    code, _, err = cli("swap", a, b, "-o", out)
    assert code == 2 and "consent" in err and not out.exists()
    code, doc, _ = cli("swap", a, b, "-o", out, "--consent", "--json")
    assert code == 0 and doc["consent"] is True and doc["provenance"]["operation"] == "swap"
    report = check(out)
    assert report.watermark.detected and report.operation == "swap"
    assert report.record.params["consent"] is True and report.record.params["source"] == a.name
    code, _, err = cli("swap", a, tmp_path / "missing.jpg", "-o", out, "--consent")
    assert code == 2 and "no such file" in err


def test_point_smoother_removes_jitter_but_follows_motion():
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 100, (468, 3))
    smooth = PointSmoother()
    still = [smooth(base + rng.normal(0, 0.5, base.shape)) for _ in range(30)]
    jitter_in = 0.5 * np.sqrt(2)
    jitter_out = np.median([np.linalg.norm(b[:, :2] - a[:, :2], axis=1).mean() for a, b in zip(still[10:], still[11:])])
    assert jitter_out < 0.6 * jitter_in
    moved = smooth(base + [10, 0, 0])  # a fast move is followed at once
    assert np.abs(moved[:, 0] - base[:, 0] - 10).mean() < 1.0


def test_video_swap_keeps_audio_and_frames(photo, tmp_path, lfw):
    import cv2

    from mien.edit import swap_video
    from mien.video.io import probe, read_frames, write_video

    face = cv2.resize(photo("AJ_Lamas_0001"), (300, 300))
    frames = []
    for k in range(12):
        canvas = np.full((480, 640, 3), 90, np.uint8)
        dx = int(10 * np.sin(k / 3))
        canvas[90:390, 170 + dx:470 + dx] = face
        frames.append(canvas)
    src = tmp_path / "in.mp4"
    sr = 16000
    t = np.arange(int(sr * 12 / 25)) / sr
    write_video(src, frames, fps=25, audio=(0.2 * np.sin(2 * np.pi * 440 * t), sr))
    out = tmp_path / "out.mp4"
    with pytest.raises(ConsentError):
        swap_video(lfw / "Aaron_Eckhart_0001.jpg", src, out)
    doc = swap_video(lfw / "Aaron_Eckhart_0001.jpg", src, out, consent=True)
    assert doc["frames"] == 12 and doc["edited"] == 12 and doc["audio"] in ("copied", "re-encoded")
    info = probe(out)
    assert info.audio_codec is not None and (info.width, info.height) == (640, 480)
    report = check(out)
    assert report.watermark.detected and report.record.operation == "swap" and report.record.params["consent"]
    swapped = read_frames(out, limit=12)
    assert np.abs(swapped[6].astype(int) - frames[6]).mean() > 2  # the face changed


def test_colour_transfer_moves_each_region_towards_the_target():
    from mien.edit.colour_match import apply_transfer, fit_transfer
    from mien.landmarks.geometry import canonical_face

    # a synthetic "face": canonical mesh points scaled into a 200x200 frame
    v = canonical_face().vertices[:, :2].astype(np.float64)
    pts = (v - v.min(0)) / np.ptp(v, 0) * 160 + 20
    pts[:, 1] = 200 - pts[:, 1]
    rng = np.random.default_rng(0)
    pasted = rng.normal([60, 10, 15], [5, 2, 2], (200, 200, 3)).astype(np.float32)
    target = rng.normal([50, 15, 20], [8, 2, 2], (200, 200, 3)).astype(np.float32)
    target[:, 100:, 0] += 20  # lit from the image's right
    mask = np.ones((200, 200), bool)
    out = apply_transfer(pasted, fit_transfer(pasted, target, mask, pts, sigma=40), (0, 0, 200, 200))
    for side in (slice(0, 80), slice(120, 200)):
        before = abs(pasted[:, side].mean((0, 1)) - target[:, side].mean((0, 1))).max()
        after = abs(out[:, side].mean((0, 1)) - target[:, side].mean((0, 1))).max()
        assert after < 0.6 * before  # smooth blending between regions leaves part of a sharp step
    # the one-sided light becomes a gradient: the right half ends up brighter than the left
    assert out[:, 150:, 0].mean() - out[:, :50, 0].mean() > 10


def test_video_with_two_faces_needs_largest_and_leaves_nothing_half_written(photo, tmp_path, lfw):
    import cv2

    from mien.edit import swap_video
    from mien.video.io import write_video

    face = cv2.resize(photo("AJ_Lamas_0001"), (220, 220))
    canvas = np.full((480, 640, 3), 90, np.uint8)
    canvas[130:350, 60:280] = face
    canvas[130:350, 360:580] = face
    src = tmp_path / "two.mp4"
    write_video(src, [canvas] * 4, fps=25)
    out = tmp_path / "out.mp4"
    with pytest.raises(MultipleFacesError, match="frame 0"):
        swap_video(lfw / "Aaron_Eckhart_0001.jpg", src, out, consent=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.mp4"]  # no output, no partial file
    doc = swap_video(lfw / "Aaron_Eckhart_0001.jpg", src, out, consent=True, largest=True)
    assert doc["edited"] == 4
