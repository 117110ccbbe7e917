"""What every route does with an upload and a result."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from fastapi import Request, UploadFile

from ...errors import ImageError, TooLargeError, VideoError
from ..app import State


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

    try:
        return load_image(data, limit=max_pixels)
    except ImageError as exc:
        raise ImageError(re.sub(r"<\d+ bytes>", name, str(exc))) from None


async def read_image(request: Request, upload: UploadFile) -> tuple[np.ndarray, str]:
    st = state(request)
    data = await read_bytes(upload, st.config.max_body_bytes)
    name = upload.filename or "upload"
    return await st.work.run(decode, data, name, st.config.max_pixels), name


def with_notices(document: dict[str, Any]) -> dict[str, Any]:
    """The result as the CLI prints it: models not cleared for commercial use are named."""
    from ...cli.common import non_commercial_models

    notices = non_commercial_models(document)
    if notices:
        document["non_commercial_models"] = notices
    return document
