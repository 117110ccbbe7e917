"""TFLite -> ONNX: converted MediaPipe models against tf.lite.Interpreter on real faces."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mien.convert import tflite
from mien.errors import ConversionError
from mien.models.runtime import onnx_session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "golden"))
import golden  # noqa: E402

TOLERANCE = 1e-4  # max |onnx - tflite| / max(1, max |tflite|)


@pytest.mark.parametrize("name", sorted(golden.TFLITE_CASES))
def test_converted_model_matches_the_tflite_interpreter_on_real_faces(name):
    errors = golden.max_errors(name)
    assert errors and max(errors.values()) < TOLERANCE, errors


def test_blazeface_keeps_nhwc_input_and_tflite_names():
    session = onnx_session("blazeface-full-range")
    (inp,) = session.get_inputs()
    assert (inp.name, inp.shape) == ("input", [1, 192, 192, 3])
    outs = {o.name: o.shape for o in session.get_outputs()}
    assert outs == {"reshaped_regressor_face_4": [1, 2304, 16], "reshaped_classifier_face_4": [1, 2304, 1]}


def test_not_a_tflite_file(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(ConversionError, match="not a TFLite flatbuffer"):
        tflite.convert(bad, tmp_path / "out.onnx")


def test_truncated_tflite_file(tmp_path):
    bad = tmp_path / "trunc.tflite"
    bad.write_bytes(b"\x18\x00\x00\x00TFL3" + b"\x00" * 16)  # a root table pointing past the end
    with pytest.raises(ConversionError):
        tflite.convert(bad, tmp_path / "out.onnx")
