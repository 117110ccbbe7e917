"""Triangle warps, morphs and the mean face on LFW photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mien.edit.face import find_face
from mien.edit.morph import align_to_layout, ease, key_points, layout, mean_face, morph_faces
from mien.edit.warp import frame_points, warp_frame, warp_triangles
from mien.errors import InputError, NoFaceError
from mien.landmarks.regions import FACE_OVAL, face_triangles, hole_triangles, mirror_index, polygon_triangles
from mien.provenance import check


def test_polygon_triangles_cover_a_concave_polygon():
    ring = np.array([[0, 0], [4, 0], [4, 4], [2, 1], [0, 4]], float)  # a notch at the top
    tris = polygon_triangles(ring)
    assert len(tris) == 3
    def area(a, b, c):
        (ux, uy), (vx, vy) = ring[b] - ring[a], ring[c] - ring[a]
        return abs(ux * vy - uy * vx) / 2

    assert sum(area(*t) for t in tris) == pytest.approx(10.0)  # 16 minus the notch's 6


def test_holes_close_mouth_and_eyes_and_mirror_is_an_involution():
    holes = hole_triangles()
    assert set(holes) == {"mouth", "eye_left", "eye_right"}
    assert len(holes["mouth"]) == 18 and len(holes["eye_left"]) == 14
    assert len(face_triangles()) == 898 + 18 + 14 + 14
    m = mirror_index()
    np.testing.assert_array_equal(m[m], np.arange(468))
    assert m[33] == 263 and m[61] == 291 and m[1] == 1


def test_identity_warp_reproduces_the_image():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (64, 80, 3), np.uint8)
    tris = np.array([[[0, 0], [79, 0], [0, 63]], [[79, 0], [79, 63], [0, 63]]], float)
    out, labels = warp_triangles([img], tris, tris, img.shape[:2])
    assert (labels >= 0).mean() > 0.99
    inside = labels >= 0
    assert np.abs(out[inside].astype(int) - img[inside]).max() <= 1


def test_warp_moves_a_dot_with_its_triangle():
    img = np.zeros((100, 100, 3), np.uint8)
    img[30, 30] = 255
    src = np.array([[[10, 10], [60, 10], [10, 60]]], float)
    out, _ = warp_triangles([img], src + [20, 5], src, img.shape[:2])
    ys, xs = np.nonzero(out[:, :, 0] > 100)
    assert (ys.mean(), xs.mean()) == pytest.approx((35, 50), abs=1)


def test_ease_is_gentle_at_both_ends():
    t = ease(np.linspace(0, 1, 101))
    assert t[0] == 0 and t[-1] == 1 and np.all(np.diff(t) >= 0)
    assert t[1] - t[0] < 0.001 and t[51] - t[50] > 0.01


def test_alignment_puts_key_points_on_the_layout(photo):
    img = photo("Colin_Powell_0040")
    face = align_to_layout(img, find_face(img), 256)
    err = np.linalg.norm(key_points(face.points) - layout(256), axis=1)
    assert err.max() < 0.05 * 256


def test_morph_starts_and_ends_on_the_faces_and_passes_between(photo):
    a, b = photo("Aaron_Eckhart_0001"), photo("AJ_Lamas_0001")
    result = morph_faces([a, b], frames=9, size=192, hold=2)
    frames = np.stack(result.frames).astype(np.float32)
    assert len(frames) == 2 + 8 + 3
    start, end, mid = frames[0], frames[-1], frames[2 + 4]
    # the middle frame is nearer the average of the two than either end is to the other
    d_ends = np.abs(start - end).mean()
    assert np.abs(mid - start).mean() < 0.8 * d_ends and np.abs(mid - end).mean() < 0.8 * d_ends
    # eased: the first step changes less than the middle step
    step = [np.abs(frames[i + 1] - frames[i]).mean() for i in range(1, 10)]
    assert step[0] < 0.5 * max(step)
    # the mesh of the middle frame sits between the two faces' meshes (a real face, found again)
    mid_face = find_face(result.frames[6])
    assert mid_face is not None
    assert result.to_dict()["easing"] == "smoothstep"


def test_mean_face_is_a_face_at_the_mean_shape(photo):
    names = ["Aaron_Eckhart_0001", "AJ_Lamas_0001", "Aaron_Guiel_0001", "Abel_Pacheco_0001", "Colin_Powell_0040"]
    images = [photo(n) for n in names]
    result = mean_face(images, names, size=256)
    assert result.used == tuple(names) and not result.skipped
    geo = find_face(result.image)
    # the mean face's landmarks land on the shared layout
    assert np.linalg.norm(key_points(geo.xy) - layout(256), axis=1).max() < 0.06 * 256
    # sharper than a plain pixel average of the aligned crops (the shapes were aligned first)
    plain = np.mean([align_to_layout(i, find_face(i), 256).image for i in images], axis=0).astype(np.uint8)
    import cv2

    sharp = [cv2.Laplacian(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), cv2.CV_64F)[64:192, 64:192].var() for x in (result.image, plain)]
    assert sharp[0] > sharp[1]


def test_mean_face_skips_faceless_images_and_fails_with_none(photo):
    blank = np.full((160, 160, 3), 128, np.uint8)
    result = mean_face([photo("Colin_Powell_0040"), blank], ["colin", "blank"], size=192)
    assert result.used == ("colin",) and result.skipped[0][0] == "blank"
    with pytest.raises(NoFaceError):
        mean_face([blank], ["blank"], size=192)
    with pytest.raises(InputError):
        morph_faces([blank])


def test_frame_points_ring_lies_outside_the_oval(photo):
    img = photo("Colin_Powell_0040")
    pts = frame_points(find_face(img).xy, (150, 150))
    assert pts.shape == (468 + len(FACE_OVAL) + 8, 2)
    out = warp_frame(img, pts, pts, np.concatenate([face_triangles()]))
    assert out.shape == img.shape


def test_cli_morph_gif_and_mean_carry_provenance(cli, lfw, tmp_path):
    a, b = lfw / "Aaron_Eckhart_0001.jpg", lfw / "AJ_Lamas_0001.jpg"
    code, doc, _ = cli("morph", a, b, "-o", tmp_path / "m.gif", "--frames", "4", "--size", "160", "--json")
    assert code == 0 and doc["frames"] == 4 + 3 + 5
    with Image.open(tmp_path / "m.gif") as gif:  # held frames are merged into longer ones
        total = 0
        for i in range(gif.n_frames):
            gif.seek(i)
            total += gif.info["duration"]
        assert 3 <= gif.n_frames and total == pytest.approx(doc["frames"] * 1000 / 12, rel=0.05)
    report = check(tmp_path / "m.gif")
    assert report.watermark.detected and report.record.operation == "edit"
    assert report.record.params["edit"] == "morph"

    folder = tmp_path / "faces"
    folder.mkdir()
    for name in ("Aaron_Eckhart_0001", "AJ_Lamas_0001", "Colin_Powell_0040"):
        (folder / f"{name}.jpg").write_bytes((lfw / f"{name}.jpg").read_bytes())
    (folder / "broken.jpg").write_bytes(b"not an image")
    code, doc, _ = cli("morph", "--mean", folder, "-o", tmp_path / "mean.png", "--size", "192", "--json")
    assert code == 0 and doc["faces"] == 3 and doc["skipped"][0]["image"].endswith("broken.jpg")
    report = check(tmp_path / "mean.png")
    assert report.watermark.detected and report.record.params["edit"] == "mean-face"


def test_cli_morph_bad_input_exit_2(cli, lfw, tmp_path):
    code, _, err = cli("morph", lfw / "Aaron_Eckhart_0001.jpg", lfw / "AJ_Lamas_0001.jpg", "-o", tmp_path / "m.png")
    assert code == 2 and "gif" in err
    blank = tmp_path / "blank.png"
    Image.new("RGB", (160, 160), (128, 128, 128)).save(blank)
    code, _, err = cli("morph", lfw / "Aaron_Eckhart_0001.jpg", blank, "-o", tmp_path / "m.gif")
    assert code == 2 and "no face" in err and not (tmp_path / "m.gif").exists()
