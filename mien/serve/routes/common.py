"""What every route does with an upload and a result."""

from __future__ import annotations

import re
from typing import Any, Callable, TypeVar

import numpy as np
from fastapi import Request, UploadFile
from fastapi.routing import APIRoute

from ...errors import ImageError, TooLargeError, VideoError
from ..app import State


T = TypeVar("T")


class ResultRoute(APIRoute):
    """A route whose answer is the library's ``to_dict()`` as it is: fields the result leaves out stay out,
    instead of coming back as nulls from the response model, so the CLI's JSON and the API's are one shape."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        super().__init__(*args, **kwargs)


def state(request: Request) -> State:
    return request.app.state.mien


async def read_bytes(upload: UploadFile, cap: int, what: str = "image") -> bytes:
    data = await upload.read(cap + 1)
    if len(data) > cap:
        raise TooLargeError(f"{upload.filename or what}: over the limit of {cap} bytes")
    if not data:
        error = ImageError if what == "image" else VideoError
        raise error(f"{upload.filename or what}: empty file (0 bytes)")
    return data


def decode(data: bytes, name: str, max_pixels: int) -> np.ndarray:
    """Pixels of an upload; the pixel limit is checked from the header, before decoding."""
    from ...image import load_image

    return _naming_upload(load_image, data, name, max_pixels)


def check_size(data: bytes, name: str, max_pixels: int) -> tuple[int, int]:
    """An upload's width and height from its header, within the pixel limit; nothing decoded."""
    from ...image import image_size

    return _naming_upload(image_size, data, name, max_pixels)


def _naming_upload(call: Any, data: bytes, name: str, max_pixels: int) -> Any:
    try:
        return call(data, limit=max_pixels)
    except ImageError as exc:  # the upload's name, not "<N bytes>"
        raise ImageError(re.sub(r"<\d+ bytes>", name, str(exc))) from None


async def read_image(request: Request, upload: UploadFile) -> tuple[np.ndarray, str]:
    st = state(request)
    data = await read_bytes(upload, st.config.max_body_bytes)
    name = upload.filename or "upload"
    pixels = await st.work.run(decode, data, name, st.config.max_pixels)
    _remember_upload(request, pixels, name)
    return pixels, name


async def on_image(request: Request, upload: UploadFile, work: Callable[[np.ndarray], T]) -> T:
    """``work(pixels)`` for one uploaded photo, decoded in the same worker call: one hop to a worker
    thread per request instead of two (the hop and its GIL hand-offs showed in the load benchmark)."""
    st = state(request)
    data = await read_bytes(upload, st.config.max_body_bytes)
    name = upload.filename or "upload"

    def decoded_then_work() -> T:
        pixels = decode(data, name, st.config.max_pixels)
        _remember_upload(request, pixels, name)
        return work(pixels)

    return await st.work.run(decoded_then_work)


def _remember_upload(request: Request, pixels: np.ndarray, name: str) -> None:
    """Which upload an array came from, so an error the library raises about "<array (H, W, 3) uint8>"
    names the file instead (two uploads of one size are named together)."""
    from ...image import describe

    uploads = request.state.uploads if hasattr(request.state, "uploads") else {}
    described = describe(pixels)
    known = uploads.get(described)
    uploads[described] = name if known in (None, name) else f"{known} or {name}"
    request.state.uploads = uploads
