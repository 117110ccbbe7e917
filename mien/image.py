"""One image loader for every input mien accepts.

``load_image`` takes a path, bytes, a binary file object, a numpy array or a PIL image
and returns an RGB uint8 array (H, W, 3) with EXIF orientation applied. Grey, grey+alpha,
palette, RGBA (composited on white), CMYK and 16-bit images are converted. A pixel limit
guards against decompression bombs; truncated, empty or non-image input raises
``ImageError`` naming the source.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any, BinaryIO, Union

import numpy as np

from .errors import ImageError

ImageInput = Union[str, os.PathLike, bytes, bytearray, BinaryIO, np.ndarray, Any]

# 100 megapixels: a 10000x10000 photo loads, a 20000x20000 bomb does not. MIEN_MAX_PIXELS overrides.
DEFAULT_MAX_PIXELS = 100_000_000


def max_pixels() -> int:
    return int(os.environ.get("MIEN_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def describe(source: ImageInput) -> str:
    """A short name for a source, for error messages."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray)):
        return f"<{len(source)} bytes>"
    if isinstance(source, np.ndarray):
        return f"<array {source.shape} {source.dtype}>"
    return f"<{type(source).__name__}>"


def load_image(source: ImageInput, limit: int | None = None) -> np.ndarray:
    """Decode ``source`` into an RGB uint8 array of shape (H, W, 3)."""
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source, describe(source))
    from PIL import Image

    if isinstance(source, Image.Image):
        return _pil_to_rgb(source, "<PIL image>", limit)
    return _from_encoded(source, limit, decode=True)


def image_size(source: ImageInput, limit: int | None = None) -> tuple[int, int]:
    """Width and height of an encoded image (path, bytes, file) from its header alone.

    The same checks as ``load_image`` before it decodes (unreadable, empty, over the pixel
    limit), without decoding: a service refuses a 20000x20000 upload before any work.
    """
    return _from_encoded(source, limit, decode=False)


def _from_encoded(source: ImageInput, limit: int | None, decode: bool) -> Any:
    from PIL import Image

    name = describe(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise ImageError(f"{name}: no such file")
        if path.is_dir():
            raise ImageError(f"{name}: is a directory, not an image")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageError(f"{name}: cannot read ({exc.strerror or exc})") from exc
    elif isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise ImageError(f"{name}: file object must be opened in binary mode")
    else:
        raise ImageError(f"cannot load an image from {type(source).__name__}")
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if not decode:
                _check_size(img, name, limit)
                return img.size
            return _pil_to_rgb(img, name, limit)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{name}: image too large ({exc})") from exc
    except Exception as exc:  # PIL raises many types for bad data; all mean "not a readable image"
        raise ImageError(f"{name}: not a readable image ({type(exc).__name__}: {exc})") from exc


def _check_size(img: Any, name: str, limit: int | None) -> None:
    cap = limit or max_pixels()
    w, h = img.size
    if w * h > cap:
        raise ImageError(f"{name}: image too large ({w}x{h} = {w * h} pixels; the limit is {cap}, set MIEN_MAX_PIXELS to raise it)")
    if w == 0 or h == 0:
        raise ImageError(f"{name}: image has no pixels")


def _pil_to_rgb(img: Any, name: str, limit: int | None) -> np.ndarray:
    from PIL import Image, ImageOps

    _check_size(img, name, limit)
    img.load()  # forces a full decode so truncated files fail here
    img = ImageOps.exif_transpose(img)
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        grey = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    # CMYK JPEGs from Photoshop store inverted values; PIL's convert handles the Adobe marker.
    return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))


def _array_to_rgb(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.size == 0:
        raise ImageError(f"{name}: empty array")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ImageError(f"{name}: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)")
    if arr.dtype == np.uint16:
        arr = (arr.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ImageError(f"{name}: array has NaN or infinite values")
        scale = 255.0 if arr.max() <= 1.0 else 1.0
        arr = np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8)
    elif arr.dtype != np.uint8:
        raise ImageError(f"{name}: unsupported dtype {arr.dtype}")
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        arr = (arr[:, :, :3] * alpha + 255.0 * (1 - alpha) + 0.5).astype(np.uint8)
    return np.ascontiguousarray(arr)


def save_image(image: np.ndarray, path: str | os.PathLike, quality: int = 92) -> None:
    """Write an RGB uint8 array; format from the file extension."""
    from PIL import Image

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, quality=quality) if str(path).lower().endswith((".jpg", ".jpeg")) else Image.fromarray(image).save(path)
