import io

import numpy as np
import pytest
from PIL import Image

from mien.errors import ImageError
from mien.image import image_size, load_image


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture
def rgb():
    arr = np.zeros((40, 60, 3), np.uint8)
    arr[:, :30] = (200, 10, 10)
    arr[:, 30:] = (10, 200, 10)
    return arr


def test_path_bytes_file_array_and_pil_agree(tmp_path, rgb):
    png = encode(Image.fromarray(rgb), "PNG")
    path = tmp_path / "x.png"
    path.write_bytes(png)
    for source in (path, str(path), png, io.BytesIO(png), rgb, Image.fromarray(rgb)):
        out = load_image(source)
        assert out.dtype == np.uint8 and out.shape == (40, 60, 3)
        np.testing.assert_array_equal(out, rgb)


def test_exif_orientation_is_applied(rgb):
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 CW on display
    out = load_image(encode(img, "JPEG", exif=exif, quality=95))
    assert out.shape == (60, 40, 3)


def test_grey_rgba_palette_cmyk_and_16bit(rgb):
    assert load_image(encode(Image.fromarray(rgb[:, :, 0]), "PNG")).shape == (40, 60, 3)
    rgba = np.dstack([rgb, np.full((40, 60), 0, np.uint8)])
    # Fully transparent pixels become white, not the hidden colour.
    assert (load_image(encode(Image.fromarray(rgba, "RGBA"), "PNG")) == 255).all()
    pal = Image.fromarray(rgb).convert("P")
    assert load_image(encode(pal, "PNG")).shape == (40, 60, 3)
    cmyk = load_image(encode(Image.fromarray(rgb).convert("CMYK"), "JPEG", quality=95))
    assert cmyk.shape == (40, 60, 3) and abs(int(cmyk[5, 5, 0]) - 200) < 20
    deep = Image.fromarray((np.arange(40 * 60).reshape(40, 60) * 27).astype(np.uint16))
    out = load_image(encode(deep, "PNG"))
    assert out.shape == (40, 60, 3) and out.max() > 200


def test_bad_inputs_raise_typed_errors(tmp_path, rgb):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.jpg")
    (tmp_path / "zero.jpg").write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        load_image(tmp_path / "zero.jpg")
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(b"this is not an image at all")
    jpeg = encode(Image.fromarray(rgb), "JPEG")
    with pytest.raises(ImageError, match="not a readable image"):
        load_image(jpeg[: len(jpeg) // 2])
    with pytest.raises(ImageError, match="is a directory"):
        load_image(tmp_path)
    with pytest.raises(ImageError, match="NaN"):
        load_image(np.full((4, 4, 3), np.nan, np.float32))


def test_decompression_bomb_is_refused():
    # A 20000x20000 PNG compresses to a few hundred kB but would decode to 1.2 GB.
    big = Image.new("L", (20000, 20000))
    data = encode(big, "PNG")
    with pytest.raises(ImageError, match="too large"):
        load_image(data)


def test_float_and_uint16_arrays():
    out = load_image(np.full((2, 2, 3), 0.5, np.float32))
    assert out.dtype == np.uint8 and out[0, 0, 0] == 128
    out = load_image(np.full((2, 2), 65535, np.uint16))
    assert out.shape == (2, 2, 3) and out.max() == 255


def test_image_size_reads_the_header_and_keeps_load_images_checks(rgb):
    data = encode(Image.fromarray(rgb), "PNG")
    assert image_size(data) == (60, 40)
    with pytest.raises(ImageError, match="too large"):
        image_size(data, limit=60 * 40 - 1)
    with pytest.raises(ImageError, match="empty"):
        image_size(b"")
    with pytest.raises(ImageError, match="not a readable image"):
        image_size(b"not an image")
    truncated = data[:len(data) // 2]  # IHDR whole, IDAT cut
    assert image_size(truncated) == (60, 40)  # the header is whole: a truncated body is load_image's to find
    with pytest.raises(ImageError):
        load_image(truncated)
