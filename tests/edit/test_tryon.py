"""Glasses and make-up on LFW photos: placement, colour, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mien.api import detect
from mien.edit.colour import parse_colour
from mien.edit.colour_match import to_lab
from mien.edit.glasses import GLASSES_STYLES, drawn_frame, placement
from mien.edit.tryon import try_on
from mien.errors import ColourError, ImageError, InputError, MultipleFacesError, NoFaceError, PoseError, UnknownModelError
from mien.landmarks.regions import LIPS_INNER, LIPS_OUTER, polygon_mask
from mien.provenance import check

NAMES = ("AJ_Lamas_0001", "Angelina_Jolie_0001", "Colin_Powell_0040", "Abel_Pacheco_0001", "Aaron_Eckhart_0001")


@pytest.mark.parametrize("text,rgb", [("red", (190, 20, 40)), ("#fab", (255, 170, 187)), ("#C0305A", (192, 48, 90)),
                                      ("rgb(10, 20, 30)", (10, 20, 30)), ("1,2,3", (1, 2, 3)), ("  Coral ", (240, 110, 90))])
def test_colours_parse(text, rgb):
    assert parse_colour(text).rgb == rgb


@pytest.mark.parametrize("text", ["blurple", "#12", "rgb(300, 0, 0)", "", "#ggg"])
def test_bad_colours_list_the_allowed_forms(text):
    with pytest.raises(ColourError, match="#rrggbb") as err:
        parse_colour(text)
    assert "coral" in str(err.value)


@pytest.mark.parametrize("name", NAMES)
def test_lens_centres_land_on_the_pupils(photo, name):
    result = try_on(photo(name), glasses="round")
    # the rendered lenses (their centroids, measured in the output) sit on the irises
    assert result.lens_error < 0.03, result.to_dict()
    # and on the nose bridge: the bridge's midpoint is near mesh point 168's column
    m = placement(result.face)
    bridge = m[:, 2]
    assert abs(bridge[0] - result.face.xy[168, 0]) < 0.08 * result.face.iod
    # the face is still found by mien's detector, once
    assert len(detect(result.image)) == 1


@pytest.mark.parametrize("style", GLASSES_STYLES)
def test_every_style_draws_a_frame_with_two_lenses(style):
    frame = drawn_frame(style)
    assert frame.rgba.shape[2] == 4 and (frame.rgba[..., 3] > 200).mean() > 0.02
    import cv2

    count, _ = cv2.connectedComponents((frame.lens_mask > 0).astype(np.uint8))
    assert count - 1 == 2


def test_glasses_follow_the_head_roll(photo):
    img = photo("AJ_Lamas_0001")
    import cv2

    h, w = img.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), 15, 1.0)  # counter-clockwise in the image
    turned = cv2.warpAffine(img, rot, (w, h), borderMode=cv2.BORDER_REPLICATE)
    a, b = try_on(img, glasses="rectangle"), try_on(turned, glasses="rectangle")
    angle = lambda r: np.degrees(np.arctan2(*(r.glasses.lens_centres[1] - r.glasses.lens_centres[0])[::-1]))  # noqa: E731
    assert angle(a) - angle(b) == pytest.approx(15, abs=3)
    assert b.lens_error < 0.03


def test_lipstick_colours_the_lips_only_and_keeps_texture(photo):
    img = photo("Aaron_Eckhart_0001")
    result = try_on(img, lipstick="#1040d0", strength=0.8)  # a blue nobody's lips are
    xy = result.face.xy
    lips = (polygon_mask(img.shape, xy, LIPS_OUTER) > 200) & (polygon_mask(img.shape, xy, LIPS_INNER) == 0)
    lab_in, lab_out = to_lab(img), to_lab(result.image)
    # b (yellow-blue) drops on the lips, barely moves away from them
    assert (lab_out[..., 2][lips] - lab_in[..., 2][lips]).mean() < -15
    far = np.ones(img.shape[:2], bool)
    far[int(xy[:, 1].min()):, :] = False  # above the face top
    assert np.abs(result.image[far].astype(int) - img[far]).max() == 0
    # texture: the lips' lightness still varies as before (not a flat fill)
    assert lab_out[..., 0][lips].std() > 0.6 * lab_in[..., 0][lips].std()


def test_bad_inputs_are_typed(photo, group_photo, tmp_path):
    img = photo("AJ_Lamas_0001")
    with pytest.raises(InputError, match="nothing to try on"):
        try_on(img)
    with pytest.raises(UnknownModelError, match="round"):
        drawn_frame("monocle")
    with pytest.raises(InputError, match="style"):
        try_on(img, glasses="monocle")
    opaque = tmp_path / "frame.png"
    Image.new("RGB", (300, 100), (0, 0, 0)).save(opaque)
    with pytest.raises(ImageError, match="transparency"):
        try_on(img, glasses=opaque)
    with pytest.raises(NoFaceError):
        try_on(np.full((200, 200, 3), 100, np.uint8), lipstick="red")
    with pytest.raises(MultipleFacesError):
        try_on(group_photo, lipstick="red")
    assert try_on(group_photo, lipstick="red", largest=True).image.shape == group_photo.shape


def test_too_turned_for_glasses(photo, monkeypatch):
    import mien.edit.tryon as tryon

    monkeypatch.setattr(tryon, "MAX_YAW_GLASSES", 5.0)
    with pytest.raises(PoseError):
        try_on(photo("AJ_Lamas_0001"), glasses="round")  # yaw about 10


def test_user_png_frame_is_seated_by_its_lens_holes(photo, tmp_path):
    import cv2

    rgba = np.zeros((120, 360, 4), np.uint8)
    for cx in (95, 265):
        cv2.circle(rgba, (cx, 60), 55, (150, 20, 20, 255), 10)
    cv2.line(rgba, (150, 50), (210, 50), (150, 20, 20, 255), 8)
    path = tmp_path / "red-frame.png"
    Image.fromarray(rgba, "RGBA").save(path)
    result = try_on(photo("AJ_Lamas_0001"), glasses=path)
    assert result.lens_error < 0.04
    assert result.to_dict()["glasses"]["frame"] == "red-frame.png"


def test_cli_tryon_writes_provenance_and_exit_2_on_bad_colour(cli, lfw, tmp_path):
    src = lfw / "AJ_Lamas_0001.jpg"
    out = tmp_path / "tryon.jpg"
    code, doc, _ = cli("tryon", src, "--glasses", "aviator", "--lipstick", "coral", "-o", out, "--json")
    assert code == 0 and doc["glasses"]["lens_error_iod"] < 0.05 and doc["lipstick"]["hex"] == "#f06e5a"
    report = check(out)
    assert report.watermark.detected and report.record.params["edit"] == "try-on"
    code, _, err = cli("tryon", src, "--lipstick", "blurple", "-o", tmp_path / "x.png")
    assert code == 2 and "#rrggbb" in err and not (tmp_path / "x.png").exists()
    code, _, err = cli("tryon", src, "-o", tmp_path / "x.png")
    assert code == 2 and "nothing to try on" in err


def test_tryon_video(photo, tmp_path):
    import cv2

    from mien.edit import tryon_video
    from mien.video.io import write_video

    face = cv2.resize(photo("AJ_Lamas_0001"), (300, 300))
    frames = []
    for k in range(8):
        canvas = np.full((480, 640, 3), 90, np.uint8)
        canvas[90:390, 170 + 2 * k:470 + 2 * k] = face
        frames.append(canvas)
    src, out = tmp_path / "in.mp4", tmp_path / "out.mp4"
    write_video(src, frames, fps=25)
    doc = tryon_video(src, out, glasses="round", lipstick="red")
    assert doc["frames"] == 8 and doc["edited"] == 8 and doc["glasses"].startswith("round")
    assert check(out).watermark.detected


def test_eye_makeup_and_foundation_stay_in_their_regions(photo):
    from mien.landmarks.regions import EYE_LEFT, FACE_OVAL

    img = photo("Angelina_Jolie_0001")
    result = try_on(img, eyeliner="black", eyeshadow="#2050e0", foundation="nude", strength=0.8)
    assert set(result.to_dict()) >= {"eyeliner", "eyeshadow", "foundation"}
    xy = result.face.xy
    lab_in, lab_out = to_lab(img), to_lab(result.image)
    # eyeshadow: the upper lid (between the eye and the brow) turns bluer
    lid = (xy[159] + xy[105]) / 2
    x, y = int(lid[0]), int(lid[1])
    assert (lab_out[y - 1:y + 2, x - 1:x + 2, 2] - lab_in[y - 1:y + 2, x - 1:x + 2, 2]).mean() < -5
    # nothing outside the face oval changes, beyond the soft edge
    import cv2

    oval = cv2.dilate(polygon_mask(img.shape, xy, FACE_OVAL), np.ones((9, 9), np.uint8)) > 0
    assert np.abs(result.image[~oval].astype(int) - img[~oval]).max() <= 2
    # the eyes themselves (inside the contour, below the lid line) keep their colour
    eye = polygon_mask(img.shape, xy, EYE_LEFT) > 200
    assert np.abs(lab_out[..., 1:][eye] - lab_in[..., 1:][eye]).mean() < 6


def test_unknown_makeup_is_refused(photo):
    with pytest.raises(InputError, match="known: .*foundation"):
        try_on(photo("AJ_Lamas_0001"), mascara="black")
