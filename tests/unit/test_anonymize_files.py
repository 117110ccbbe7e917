"""Photo files without weights: EXIF allow-list, format kept, input/output planning, bad input."""

import io

import numpy as np
import pytest
from PIL import Image

from mien.anonymize import anonymize_file, anonymize_image, clean_exif
from mien.anonymize.exempt import EmbeddingExemption, Exemption, check_exempt
from mien.anonymize.photo import encode_like, plan
from mien.errors import ImageError, InputError, ShapeError
from mien.types import Faces

GPS, EXIF_IFD = 0x8825, 0x8769


def photo_with_metadata(tmp_path, orientation=1):
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS R5"
    exif[0x013B] = "Jane Doe"  # Artist
    exif[0x010E] = "Jane at the beach"  # ImageDescription
    exif[0x0112] = orientation
    exif[GPS] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 5.0)}
    exif[EXIF_IFD] = {0x829A: 0.008, 0x9003: "2024:06:01 10:00:00", 0xA431: "BODY-123456",
                      0xA430: "Jane Doe", 0x927C: b"maker note with face data", 0x9286: b"ASCII\0\0\0hello"}
    path = tmp_path / "holiday.jpg"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(
        path, exif=exif, quality=80, icc_profile=b"fake-icc-profile" * 4)
    return path


def test_clean_exif_keeps_camera_settings_and_drops_identifying_tags(tmp_path):
    with Image.open(photo_with_metadata(tmp_path, orientation=6)) as src:
        written = clean_exif(src.getexif()).tobytes()
    clean = Image.Exif()
    clean.load(written)
    assert clean[0x010F] == "Canon" and clean[0x0110] == "EOS R5"
    assert clean[0x0112] == 1, "pixels are written upright"
    for tag in (0x013B, 0x010E, GPS):
        assert tag not in clean
    sub = clean.get_ifd(EXIF_IFD)
    assert sub[0x9003] == "2024:06:01 10:00:00" and abs(float(sub[0x829A]) - 0.008) < 1e-6
    assert not {0xA431, 0xA430, 0x927C, 0x9286} & set(sub)


def test_encoded_jpeg_keeps_quality_tables_profile_and_no_gps(tmp_path):
    path = photo_with_metadata(tmp_path)
    with Image.open(path) as src:
        tables = src.quantization
        data, fmt = encode_like(np.asarray(src.convert("RGB")), src)
    assert fmt == "JPEG"
    out = Image.open(io.BytesIO(data))
    assert out.format == "JPEG" and out.quantization == tables
    assert out.info.get("icc_profile") == b"fake-icc-profile" * 4
    assert not out.getexif().get_ifd(GPS) and 0x013B not in out.getexif()
    assert b"BODY-123456" not in data and b"Jane" not in data and b"maker note" not in data


def test_strip_exif_drops_it_all(tmp_path):
    with Image.open(photo_with_metadata(tmp_path)) as src:
        data, _ = encode_like(np.asarray(src.convert("RGB")), src, keep_exif=False)
    assert not len(Image.open(io.BytesIO(data)).getexif()) and b"Canon" not in data


@pytest.mark.parametrize("mode,fmt", [("L", "PNG"), ("RGBA", "PNG"), ("RGB", "WEBP"), ("RGB", "TIFF"), ("RGB", "BMP")])
def test_format_and_mode_are_kept(tmp_path, mode, fmt):
    rng = np.random.default_rng(2)
    src_img = Image.fromarray(rng.integers(0, 255, (40, 50, 4), dtype=np.uint8), "RGBA").convert(mode)
    path = tmp_path / f"x.{fmt.lower()}"
    src_img.save(path, format=fmt)
    with Image.open(path) as src:
        data, out_fmt = encode_like(np.zeros((40, 50, 3), np.uint8), src)
    out = Image.open(io.BytesIO(data))
    assert out_fmt == fmt and out.format == fmt and out.size == (50, 40)
    assert out.mode == {"L": "L", "RGBA": "RGBA"}.get(mode, "RGB")
    if mode == "RGBA":
        assert np.array_equal(np.asarray(out)[:, :, 3], np.asarray(src_img)[:, :, 3]), "alpha is kept"


def test_animated_images_are_refused_and_gif_stays_gif(tmp_path):
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "still.gif")
    with Image.open(tmp_path / "anim.gif") as src, pytest.raises(ImageError, match="animated"):
        encode_like(np.zeros((20, 20, 3), np.uint8), src)
    with Image.open(tmp_path / "still.gif") as src:
        data, fmt = encode_like(np.zeros((20, 20, 3), np.uint8), src)
    assert fmt == "GIF" and Image.open(io.BytesIO(data)).format == "GIF"


def test_plan_mirrors_folders_and_refuses_to_overwrite(tmp_path):
    (tmp_path / "in" / "a" / "b").mkdir(parents=True)
    for name in ("a/one.jpg", "a/b/two.PNG", "a/b/clip.mp4", "a/notes.txt", "a/.hidden.jpg"):
        (tmp_path / "in" / name).write_bytes(b"x")
    jobs = plan([tmp_path / "in"], tmp_path / "out")
    assert [(j.dst.relative_to(tmp_path / "out").as_posix(), j.kind) for j in jobs] == [
        ("a/b/clip.mp4", "video"), ("a/b/two.PNG", "image"), ("a/one.jpg", "image")]
    with pytest.raises(InputError, match="overwrite"):
        plan([tmp_path / "in" / "a" / "one.jpg"], tmp_path / "in" / "a")
    with pytest.raises(InputError, match="not both"):
        plan([tmp_path / "in"], tmp_path / "out", in_place=True)
    with pytest.raises(InputError, match="-o"):
        plan([tmp_path / "in"], None)
    assert [j.dst for j in plan([tmp_path / "in" / "a" / "one.jpg"], None, in_place=True)] == [tmp_path / "in" / "a" / "one.jpg"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "one.jpg").write_bytes(b"x")
    with pytest.raises(InputError, match="both be written"):
        plan([tmp_path / "in" / "a" / "one.jpg", tmp_path / "other" / "one.jpg"], tmp_path / "out")
    with pytest.raises(InputError, match="no such"):
        plan([tmp_path / "missing.jpg"], tmp_path / "out")


@pytest.mark.parametrize("content", [b"", b"\xff\xd8\xff\xe0 truncated jpeg"])
def test_bad_image_files_raise_image_error_and_write_nothing(tmp_path, content):
    src = tmp_path / "bad.jpg"
    src.write_bytes(content)
    with pytest.raises(ImageError):
        anonymize_file(src, tmp_path / "out" / "bad.jpg")
    assert not (tmp_path / "out" / "bad.jpg").exists()


class BoxList:
    """An exemption by position, as a human reviewer's approvals would be (no model needed)."""

    def __init__(self, keep_left_of: float) -> None:
        self.keep_left_of = keep_left_of

    def is_exempt(self, image, faces):
        return faces.boxes[:, 2] < self.keep_left_of


def test_exemption_hook_leaves_exempt_faces_untouched():
    image = np.random.default_rng(3).integers(0, 255, (100, 200, 3), dtype=np.uint8)
    faces = Faces(np.array([[20, 20, 60, 70], [130, 20, 170, 70]], np.float32), np.ones(2, np.float32))
    assert isinstance(BoxList(100), Exemption)
    result = anonymize_image(image, faces=faces, exemption=BoxList(100))
    assert result.hidden.tolist() == [False, True] and result.n_hidden == 1
    assert np.array_equal(result.image[:, :90], image[:, :90])
    assert not np.array_equal(result.image[20:70, 130:170], image[20:70, 130:170])
    assert [f["masked"] for f in result.to_list()] == [False, True]


def test_exemption_answers_are_checked():
    with pytest.raises(ShapeError):
        check_exempt([1, 0], 2)
    with pytest.raises(ShapeError):
        check_exempt(np.array([True]), 2)


def test_embedding_exemption_threshold_metric_and_small_faces():
    refs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    vectors = {0: [0.99, 0.05, 0.0], 1: [0.0, 0.0, 1.0], 2: [0.05, 0.98, 0.0]}

    def embed(image, faces):  # one fixed vector per face, keyed by the box's x1 / 100
        return np.array([vectors[int(b[0] // 100)] for b in faces.boxes])

    faces = Faces(np.array([[0, 0, 50, 60], [100, 0, 150, 60], [200, 0, 220, 20]], np.float32), np.ones(3, np.float32))
    ex = EmbeddingExemption(embed, refs, threshold=0.05, metric="cosine", min_face=40)
    assert ex.is_exempt(None, faces).tolist() == [True, False, False], "the 20-px face is too small to verify"
    assert EmbeddingExemption(embed, refs, 0.05, min_face=10).is_exempt(None, faces).tolist() == [True, False, True]
    euclid = EmbeddingExemption(embed, refs, threshold=0.1, metric="euclidean", min_face=0)
    assert np.allclose(euclid.distances(np.array([[1.0, 0.0, 0.0]])), [0.0])
    with pytest.raises(ShapeError):
        euclid.distances(np.zeros((1, 5)))
    with pytest.raises(InputError):
        EmbeddingExemption(embed, refs, 0.1, metric="manhattan")
