"""The metadata half of provenance: a record naming mien, the model and the operation.

The record travels three ways, all read back by :func:`read_record`:

- PNG: an iTXt chunk ``mien:provenance`` holding the JSON record, plus an XMP packet
  (iTXt ``XML:com.adobe.xmp``);
- JPEG and WebP: the XMP packet (JPEG also gets the JSON as its COM comment);
- on request, a JSON sidecar next to the image: ``<image>.provenance.json``.

The XMP packet carries the IPTC digital source type (``trainedAlgorithmicMedia`` for
generated images, ``compositeWithTrainedAlgorithmicMedia`` for edits) so other tools
recognise synthetic media, and the mien record as JSON in ``mien:Record``.
Metadata is easily stripped; the watermark (``mien.provenance.watermark``) is the part
that survives re-encoding.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import ImageError, InputError

# Operation codes carried by the watermark payload (8 bits). Add new operations here.
OPERATIONS = {"generate": 1, "edit": 2, "anonymize": 3, "swap": 4, "restore": 5, "other": 255}
CHUNK_KEY = "mien:provenance"
SIDECAR_SUFFIX = ".provenance.json"
_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def operation_code(operation: str) -> int:
    try:
        return OPERATIONS[operation]
    except KeyError:
        raise InputError(f"unknown operation {operation!r}; known: {', '.join(OPERATIONS)}") from None


def operation_name(code: int) -> str:
    return next((name for name, c in OPERATIONS.items() if c == code), f"unknown({code})")


@dataclass(frozen=True)
class ProvenanceRecord:
    """Who made an image and how: mien, its version, the model, the operation and its settings."""

    operation: str
    model: str
    software: str = "mien"
    version: str = __version__
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    watermark: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    licence: str = ""

    def __post_init__(self) -> None:
        operation_code(self.operation)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ProvenanceRecord":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "operation" not in known or "model" not in known:
            raise InputError("provenance record lacks 'operation' or 'model'")
        return cls(**known)

    @property
    def digital_source_type(self) -> str:
        kind = "trainedAlgorithmicMedia" if self.operation == "generate" else "compositeWithTrainedAlgorithmicMedia"
        return _IPTC + kind

    def to_xmp(self) -> str:
        return (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
            ' xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:mien="https://mien.invalid/ns/provenance/1.0/"'
            f' Iptc4xmpExt:DigitalSourceType="{self.digital_source_type}"'
            f' xmp:CreatorTool="{html.escape(self.software)} {html.escape(self.version)}"'
            f' mien:Record="{html.escape(self.to_json(), quote=True)}"/>'
            '</rdf:RDF></x:xmpmeta><?xpacket end="r"?>'
        )


def _from_xmp(xmp: bytes | str) -> ProvenanceRecord | None:
    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    match = re.search(r'mien:Record="([^"]*)"', text)
    return ProvenanceRecord.from_dict(json.loads(html.unescape(match.group(1)))) if match else None


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".gif": "GIF"}
RECORD_FORMATS = frozenset(_FORMATS.values())  # Pillow formats that can carry a record


def record_save_options(record: ProvenanceRecord, fmt: str) -> dict[str, Any]:
    """Pillow ``save`` keyword arguments that embed ``record`` in a file of format ``fmt``
    (Pillow's name: PNG, JPEG, WEBP, GIF); {} for formats that cannot carry it (TIFF, BMP)."""
    from PIL import PngImagePlugin

    xmp = record.to_xmp()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt(CHUNK_KEY, record.to_json())
        info.add_itxt("XML:com.adobe.xmp", xmp)
        return {"pnginfo": info}
    if fmt == "JPEG":
        return {"xmp": xmp.encode("utf-8"), "comment": record.to_json().encode("utf-8")}
    if fmt == "WEBP":
        return {"xmp": xmp.encode("utf-8")}
    if fmt == "GIF":
        return {"comment": record.to_json().encode("utf-8")}
    return {}


def save_with_record(image: Any, path: str | Path, record: ProvenanceRecord, *, sidecar: bool = False, quality: int = 92) -> Path:
    """Write an RGB uint8 array (or PIL image) with the record embedded; PNG, JPEG, WebP or GIF."""
    from PIL import Image

    path = Path(path)
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise InputError(f"cannot embed provenance in {suffix or 'extension-less'} files; use .png, .jpg or .webp")
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = _FORMATS[suffix]
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    pil.save(path, **options, **record_save_options(record, fmt))
    if sidecar:
        sidecar_path(path).write_text(json.dumps(record.to_dict(), indent=2, sort_keys=True) + "\n")
    return path


def read_record(path: str | Path) -> tuple[ProvenanceRecord | None, str | None]:
    """The record and where it was found ('png-text', 'xmp', 'comment', 'sidecar'), or (None, None)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            info = dict(im.info)
    except (OSError, UnidentifiedImageError) as exc:
        raise ImageError(f"{path}: cannot read image metadata: {exc}") from exc
    found: list[tuple[str, Any]] = []
    if CHUNK_KEY in info:
        found.append(("png-text", lambda: ProvenanceRecord.from_dict(json.loads(info[CHUNK_KEY]))))
    if info.get("xmp"):
        found.append(("xmp", lambda: _from_xmp(info["xmp"])))
    if info.get("comment"):
        found.append(("comment", lambda: ProvenanceRecord.from_dict(json.loads(info["comment"]))))
    return _first_record(found, path)


def read_video_record(path: str | Path, comment: str | None) -> tuple[ProvenanceRecord | None, str | None]:
    """Like :func:`read_record` for a video whose container comment tag is ``comment``
    ('container-comment', else 'sidecar')."""
    found: list[tuple[str, Any]] = []
    if comment:
        found.append(("container-comment", lambda: ProvenanceRecord.from_dict(json.loads(comment))))
    return _first_record(found, Path(path))


def _first_record(found: list[tuple[str, Any]], path: Path) -> tuple[ProvenanceRecord | None, str | None]:
    """The first candidate (then the sidecar) that parses as a mien record."""
    side = sidecar_path(path)
    if side.is_file():
        found = found + [("sidecar", lambda: ProvenanceRecord.from_dict(json.loads(side.read_text())))]
    for where, parse in found:
        try:
            record = parse()
        except (ValueError, TypeError, InputError):
            continue  # a foreign comment or XMP packet: not ours
        if record is not None:
            return record, where
    return None, None
