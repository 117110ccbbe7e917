"""Contact sheets: one image per person, a grid of their faces, representative faces first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import MienError, StorageError
from .types import FaceRecord

TILE = 112
COLUMNS = 6
MARGIN = 0.35  # of the box size, around each face


def contact_sheet(faces: Sequence[FaceRecord], path: str | Path, title: str, total: int | None = None) -> Path:
    """Write ``faces`` as a grid (a face whose image cannot be read any more is a grey tile) under a title bar."""
    target = Path(path)
    try:
        from ..atomic import write_atomic

        write_atomic(target, sheet_bytes(faces, title, total))
    except OSError as exc:
        raise StorageError(f"cannot write the contact sheet {target}: {exc}") from exc
    return target


def sheet_bytes(faces: Sequence[FaceRecord], title: str, total: int | None = None) -> bytes:
    """The contact sheet as JPEG bytes."""
    import io

    from PIL import Image, ImageDraw

    rows = max(1, -(-len(faces) // COLUMNS))
    bar = 24
    sheet = Image.new("RGB", (COLUMNS * TILE, bar + rows * TILE), (32, 32, 32))
    draw = ImageDraw.Draw(sheet)
    shown = f"person {title}: {total if total is not None else len(faces)} faces"
    draw.text((6, 6), shown, fill=(235, 235, 235))
    cache: dict[str, np.ndarray | None] = {}
    for i, face in enumerate(faces):
        tile = _tile(face, cache)
        sheet.paste(tile, ((i % COLUMNS) * TILE, bar + (i // COLUMNS) * TILE))
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def _tile(face: FaceRecord, cache: dict[str, np.ndarray | None]):
    from PIL import Image

    if face.path not in cache:
        try:
            from ..image import load_image
            from .sources import read_bytes

            cache[face.path] = load_image(read_bytes(face.path)) if face.path else None
        except (MienError, OSError):  # moved or changed since indexing: a grey tile says so
            cache[face.path] = None
    pixels = cache[face.path]
    if pixels is None:
        return Image.new("RGB", (TILE, TILE), (90, 90, 90))
    x1, y1, x2, y2 = face.box
    side = max(x2 - x1, y2 - y1) * (1 + 2 * MARGIN)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(pixels.shape[1], cx + side / 2)), int(min(pixels.shape[0], cy + side / 2))
    crop = pixels[top:bottom, left:right]
    if crop.size == 0:
        return Image.new("RGB", (TILE, TILE), (90, 90, 90))
    return Image.fromarray(crop).resize((TILE, TILE), Image.LANCZOS)
