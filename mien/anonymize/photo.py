"""Anonymise photos: in memory (``anonymize_image``) and as files (``anonymize_files``).

Files keep their format (JPEG with the source's quantisation tables, so quality is kept;
PNG, WebP, TIFF, BMP, GIF; animated images are refused rather than cut to one frame), their colour profile and the harmless part of their EXIF. Metadata
is copied by an allow-list, so anything not on it goes: GPS, maker notes (which may hold
face-detection data and serial numbers), serial numbers, owner and artist names, user
comments, subject areas, XMP and IPTC (which may name the people in the photo) and the
EXIF thumbnail (which still shows the faces unblurred).

Outputs carry mien's provenance (``mien.provenance``, operation "anonymize"): the invisible
watermark, and a metadata record (PNG text + XMP, JPEG/WebP XMP, GIF comment; TIFF and BMP
get the watermark only) naming mien, the method, the detector and how many faces were
hidden. ``provenance=False`` leaves both out.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..atomic import write_atomic
from ..detect import Detector
from ..errors import ImageError, InputError
from ..image import ImageInput, load_image
from ..types import Faces
from .base import Method
from .detection import anonymize_detector
from .exempt import Exemption, check_exempt
from .methods import DEFAULT_METHOD, get_method

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif")
# Above this the watermark is embedded once, without reading it back (which costs seconds per
# 10 megapixels); the mark's strength is the same, only the check is skipped.
VERIFY_MARK_PIXELS = 16_000_000

# EXIF tags copied to the output (everything else is dropped).
_KEEP_IFD0 = {
    0x010F: "Make", 0x0110: "Model", 0x011A: "XResolution", 0x011B: "YResolution", 0x0128: "ResolutionUnit",
    0x0131: "Software", 0x0132: "DateTime",
}
_KEEP_EXIF = {
    0x829A: "ExposureTime", 0x829D: "FNumber", 0x8822: "ExposureProgram", 0x8827: "ISOSpeedRatings",
    0x9000: "ExifVersion", 0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized", 0x9010: "OffsetTime",
    0x9011: "OffsetTimeOriginal", 0x9012: "OffsetTimeDigitized", 0x9201: "ShutterSpeedValue",
    0x9202: "ApertureValue", 0x9204: "ExposureBiasValue", 0x9205: "MaxApertureValue", 0x9207: "MeteringMode",
    0x9208: "LightSource", 0x9209: "Flash", 0x920A: "FocalLength", 0xA001: "ColorSpace", 0xA402: "ExposureMode",
    0xA403: "WhiteBalance", 0xA404: "DigitalZoomRatio", 0xA405: "FocalLengthIn35mmFilm", 0xA406: "SceneCaptureType",
    0xA408: "Contrast", 0xA409: "Saturation", 0xA40A: "Sharpness", 0xA432: "LensSpecification",
    0xA433: "LensMake", 0xA434: "LensModel",
}
_EXIF_IFD, _ORIENTATION = 0x8769, 0x0112


@dataclass(frozen=True, eq=False)
class AnonymizedImage:
    """The result of ``anonymize_image``: the new image, every face found, which were hidden."""

    image: np.ndarray
    faces: Faces
    hidden: np.ndarray  # (N,) bool; False where an exemption kept the face visible

    @property
    def n_hidden(self) -> int:
        return int(self.hidden.sum())

    def to_list(self) -> list[dict[str, Any]]:
        """The faces as JSON-ready dicts (the ``mien detect`` shape) with ``"masked": bool``."""
        return [{**face, "masked": bool(h)} for face, h in zip(self.faces.to_list(), self.hidden)]


def anonymize_image(
    image: ImageInput,
    faces: Faces | None = None,
    method: str | Method = DEFAULT_METHOD,
    detector: str | Detector | None = None,
    exemption: Exemption | None = None,
    **method_options: Any,
) -> AnonymizedImage:
    """Hide every face in ``image``.

    ``faces``: use these instead of detecting. ``method``: "blur", "pixelate", "fill",
    "ellipse" or a ``Method`` (``method_options`` go to its constructor). ``detector``: a
    name or instance; by default CenterFace at the anonymisation threshold.
    ``exemption``: faces it marks exempt stay visible.
    """
    rgb = load_image(image)
    hider = get_method(method, **method_options)
    if faces is None:
        faces = anonymize_detector(detector).detect(rgb)
    hidden = np.ones(len(faces), bool)
    if exemption is not None and len(faces):
        hidden = ~check_exempt(exemption.is_exempt(rgb, faces), len(faces))
    return AnonymizedImage(hider.apply(rgb, faces[hidden]), faces, hidden)


# -- files ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FileReport:
    """What ``anonymize_file`` did to one file."""

    input: str
    output: str
    faces: list[dict[str, Any]] = field(default_factory=list)
    watermarked: bool = False
    record: bool = False  # a provenance metadata record was embedded

    @property
    def masked(self) -> int:
        return sum(1 for f in self.faces if f.get("masked"))

    def to_dict(self) -> dict[str, Any]:
        return {"image": self.input, "output": self.output, "masked": self.masked, "faces": self.faces,
                "provenance": {"watermark": self.watermarked, "record": self.record}}


def clean_exif(exif: Any) -> Any:
    """A new ``PIL.Image.Exif`` holding only the allow-listed tags, orientation reset to 1."""
    from PIL import Image

    clean = Image.Exif()
    for tag in _KEEP_IFD0:
        if tag in exif:
            clean[tag] = exif[tag]
    sub = {tag: value for tag, value in exif.get_ifd(_EXIF_IFD).items() if tag in _KEEP_EXIF}
    if sub:
        clean[_EXIF_IFD] = sub
    if len(clean):
        clean[_ORIENTATION] = 1  # pixels are written upright
    return clean


def encode_like(image: np.ndarray, source: Any, keep_exif: bool = True,
                record: Any = None) -> tuple[bytes, str]:
    """Encode ``image`` (RGB) in ``source``'s format, mode, colour profile and cleaned EXIF,
    plus ``record`` (a ``ProvenanceRecord``) where the format can carry one."""
    from PIL import Image, JpegImagePlugin

    fmt = source.format or "PNG"
    if getattr(source, "n_frames", 1) > 1:
        raise ImageError(f"{getattr(source, 'filename', '') or 'image'}: animated images ({source.n_frames} frames) "
                         "are not supported; convert to a video first")
    out = Image.fromarray(image)
    if source.mode in ("L", "I;16", "I", "F"):
        out = out.convert("L")
    elif source.mode in ("RGBA", "LA", "PA") or "transparency" in source.info:
        alpha = source.convert("RGBA")
        alpha = np.asarray(_upright(alpha))[:, :, 3]
        if alpha.shape == image.shape[:2]:
            out = Image.fromarray(np.dstack([image, alpha]), "RGBA")
    options: dict[str, Any] = {}
    if source.info.get("icc_profile"):
        options["icc_profile"] = source.info["icc_profile"]
    if keep_exif and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        exif = clean_exif(source.getexif())
        if len(exif):
            options["exif"] = exif
    if fmt == "JPEG":
        if out.mode == "RGBA":
            out = out.convert("RGB")
        sampling = JpegImagePlugin.get_sampling(source) if isinstance(source, JpegImagePlugin.JpegImageFile) else -1
        tables = getattr(source, "quantization", None)
        if tables and out.mode == "RGB" and sampling >= 0 and len(tables) >= 2:
            options.update(qtables=tables, subsampling=sampling)
        elif tables and out.mode == "L":
            options.update(qtables=tables)
        else:
            options["quality"] = 92
    elif fmt == "WEBP":
        options.update(lossless=bool(source.info.get("lossless", False)), quality=92)
    elif fmt == "GIF":
        out = out.convert("RGB").quantize(256)
    elif fmt not in ("PNG", "TIFF", "BMP"):
        raise ImageError(f"cannot write {fmt} images; convert to PNG or JPEG first")
    if record is not None:
        from ..provenance import record_save_options

        options.update(record_save_options(record, fmt))
    buffer = io.BytesIO()
    out.save(buffer, format=fmt, **options)
    return buffer.getvalue(), fmt


def _upright(img: Any) -> Any:
    from PIL import ImageOps

    return ImageOps.exif_transpose(img)


def anonymize_file(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    method: str | Method = DEFAULT_METHOD,
    detector: str | Detector | None = None,
    exemption: Exemption | None = None,
    keep_exif: bool = True,
    provenance: bool = True,
) -> FileReport:
    """Anonymise one image file into ``dst`` (written atomically; ``dst`` may equal ``src``)."""
    from PIL import Image

    from ..provenance import RECORD_FORMATS, ProvenanceRecord, mark
    from ..provenance.watermark import TILE

    src, dst = Path(src), Path(dst)
    rgb = load_image(src)  # typed errors for missing, empty, truncated, non-image files
    hider, det = get_method(method), anonymize_detector(detector)
    result = anonymize_image(rgb, method=hider, detector=det, exemption=exemption)
    image, record = result.image, None
    watermarked = provenance and min(image.shape[:2]) >= TILE
    if provenance:
        if watermarked:
            image = mark(image, "anonymize", verify=image.shape[0] * image.shape[1] <= VERIFY_MARK_PIXELS)
        record = ProvenanceRecord("anonymize", det.name, watermark=watermarked,
                                  params={"method": hider.name, "faces_hidden": result.n_hidden,
                                          "faces_found": len(result.faces)})
    with Image.open(src) as source:
        data, fmt = encode_like(image, source, keep_exif, record)
    try:
        write_atomic(dst, data)
    except OSError as exc:
        raise ImageError(f"{dst}: cannot write ({exc.strerror or exc})") from exc
    return FileReport(str(src), str(dst), result.to_list(), watermarked, record is not None and fmt in RECORD_FORMATS)


# -- planning: which input goes where -------------------------------------------------
@dataclass(frozen=True)
class Job:
    src: Path
    dst: Path
    kind: str  # "image" or "video"


def plan(inputs: Sequence[str | os.PathLike], out_dir: str | os.PathLike | None, in_place: bool = False) -> list[Job]:
    """Map inputs (files, or folders searched recursively) to outputs; refuse to overwrite inputs.

    Files keep their name under ``out_dir``; a folder's files keep their path relative to it.
    """
    from ..video.io import VIDEO_SUFFIXES

    if in_place == (out_dir is not None):
        raise InputError("give an output folder (-o OUTDIR) or --in-place, not both and not neither")
    pairs: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES
                           and not p.name.startswith("."))
            pairs.extend((p, p.relative_to(path)) for p in found)
        elif path.exists():
            pairs.append((path, Path(path.name)))
        else:
            raise InputError(f"{path}: no such file or folder")
    jobs, seen = [], {}
    out = None if out_dir is None else Path(out_dir)
    for src, rel in pairs:
        dst = src if out is None else out / rel
        if out is not None and dst.resolve() == src.resolve():
            raise InputError(f"{src}: output would overwrite the input; choose another -o folder or pass --in-place")
        key = dst.resolve()
        if key in seen:
            raise InputError(f"{seen[key]} and {src} would both be written to {dst}")
        seen[key] = src
        jobs.append(Job(src, dst, "video" if src.suffix.lower() in VIDEO_SUFFIXES else "image"))
    if not jobs:
        raise InputError("no images or videos found in " + ", ".join(str(i) for i in inputs))
    return jobs


def anonymize_files(
    inputs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike | None = None,
    method: str | Method = DEFAULT_METHOD,
    detector: str | Detector | None = None,
    exemption: Exemption | None = None,
    in_place: bool = False,
    keep_exif: bool = True,
    progress: bool = False,
    provenance: bool = True,
) -> list[FileReport]:
    """Anonymise image files and folders of them (videos: see ``anonymize_video``)."""
    from tqdm import tqdm

    jobs = [j for j in plan(inputs, out_dir, in_place) if j.kind == "image"]
    det = anonymize_detector(detector)
    hider = get_method(method)
    reports = []
    for job in tqdm(jobs, unit="image", disable=not progress or len(jobs) < 2):
        reports.append(anonymize_file(job.src, job.dst, hider, det, exemption, keep_exif, provenance))
    return reports
