"""Converters that turn shipped weights into ONNX at pull time, in pure Python.

Each converter is a function ``convert(src: Path, dst: Path) -> None`` that reads the
shipped file (and its siblings, such as TF.js weight shards) and writes an ONNX file.
No TensorFlow is needed at pull time or run time.
"""

from __future__ import annotations

from pathlib import Path

from .._lazy import resolve

CONVERTERS: dict[str, str] = {
    "tfjs": "mien.convert.tfjs:convert",
    "tflite": "mien.convert.tflite:convert",
    "dlib": "mien.convert.dlib_resnet:convert",
    "keras": "mien.convert.keras_h5:convert",
}


def convert_file(kind: str, src: Path, dst: Path) -> None:
    resolve(CONVERTERS, kind, "converter")(Path(src), Path(dst))
