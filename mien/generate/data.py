"""The UTKFace conditions and the fixed train / held-out split (no torch here).

Training (``mien.generate.train``) and the benchmark read the same split, so the
held-out faces are never seen by the GAN. A face is held out when the SHA-1 of its
path (relative to the UTKFace folder) falls in the last tenth: stable across
machines, Python versions and file orders.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

AGE_BANDS = ("0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+")
GENDERS = ("male", "female")
HELD_OUT_TENTHS = 1  # 10% of UTKFace never reaches training


def age_band_index(age: int) -> int:
    """Index into AGE_BANDS for an age in years."""
    return min(int(age) // 10, len(AGE_BANDS) - 1)


def parse_age_band(text: str) -> int:
    """'30-39', '30s', '35' or '70+' -> index into AGE_BANDS."""
    value = text.strip().lower()
    if value in AGE_BANDS:
        return AGE_BANDS.index(value)
    if value.endswith("s") and value[:-1].isdigit():
        value = value[:-1]
    if value.isdigit() and int(value) <= 120:
        return age_band_index(int(value))
    raise InputError(f"unknown age band {text!r}; use one of {', '.join(AGE_BANDS)} or an age in years")


def parse_gender(text: str) -> int:
    value = text.strip().lower()
    aliases = {"m": "male", "man": "male", "f": "female", "woman": "female"}
    value = aliases.get(value, value)
    if value not in GENDERS:
        raise InputError(f"unknown gender {text!r}; use one of {', '.join(GENDERS)}")
    return GENDERS.index(value)


def is_held_out(relpath: str) -> bool:
    digest = hashlib.sha1(relpath.encode("utf-8")).digest()
    return digest[0] * 10 // 256 >= 10 - HELD_OUT_TENTHS


@dataclass(frozen=True)
class Record:
    path: Path
    age: int
    gender: int  # index into GENDERS

    @property
    def band(self) -> int:
        return age_band_index(self.age)


def utkface_dir() -> Path:
    """``$MIEN_DATA/utkface`` or ``../shared/data/utkface`` next to the repository."""
    root = os.environ.get("MIEN_DATA")
    if root:
        return Path(root) / "utkface"
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "utkface"


def load_records(split: str, folder: Path | None = None) -> list[Record]:
    """Records of the 'train' or 'heldout' part of UTKFace, in file order."""
    if split not in {"train", "heldout"}:
        raise InputError(f"split must be 'train' or 'heldout', not {split!r}")
    folder = Path(folder) if folder else utkface_dir()
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise InputError(f"no UTKFace labels at {labels}; set MIEN_DATA to the folder holding utkface/")
    out = []
    with open(labels, newline="") as fh:
        for row in csv.DictReader(fh):
            if is_held_out(row["path"]) == (split == "heldout"):
                out.append(Record(folder / row["path"], int(row["age"]), GENDERS.index(row["gender"])))
    return out


def load_pixels(records: list[Record], size: int = 64) -> np.ndarray:
    """(N, size, size, 3) uint8 faces, resized with a box filter."""
    from PIL import Image

    out = np.empty((len(records), size, size, 3), np.uint8)
    for i, rec in enumerate(records):
        with Image.open(rec.path) as im:
            out[i] = np.asarray(im.convert("RGB").resize((size, size), Image.BOX))
    return out


def pack_records(records: list[Record], path: Path, quality: int = 87, size: int | None = None) -> Path:
    """Write faces as one file of WebP images plus labels (``.npz``): small enough to carry
    the training split to a GPU machine (UTKFace's 17k training faces, 128 px: 25 MB at
    quality 70; the first pack, quality 87 with WebP method 4, was 42 MB). ``size`` stores
    them already resized (box filter, as :func:`load_pack` would), for a smaller model."""
    import io

    from PIL import Image

    blobs = []
    for rec in records:
        buf = io.BytesIO()
        with Image.open(rec.path) as im:
            im = im.convert("RGB")
            if size is not None and im.size != (size, size):
                im = im.resize((size, size), Image.BOX)
            im.save(buf, "WEBP", quality=quality, method=6)
        blobs.append(np.frombuffer(buf.getvalue(), np.uint8))
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, blob=np.concatenate(blobs), offsets=offsets,
                 age=np.array([r.age for r in records], np.int64),
                 gender=np.array([r.gender for r in records], np.int64))
    tmp.replace(path)
    return path


def load_pack(path: Path, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pixels (N, size, size, 3) uint8, age bands, genders) from a :func:`pack_records` file."""
    import io

    from PIL import Image

    d = np.load(path)
    blob, offsets = d["blob"], d["offsets"]
    out = np.empty((len(offsets) - 1, size, size, 3), np.uint8)
    for i in range(len(out)):
        with Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes())) as im:
            im = im.convert("RGB")
            out[i] = np.asarray(im if im.size == (size, size) else im.resize((size, size), Image.BOX))
    bands = np.array([age_band_index(age) for age in d["age"]], np.int64)
    return out, bands, d["gender"]
