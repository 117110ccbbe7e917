"""TF.js -> ONNX: converted models against TensorFlow's outputs on real faces, and error paths."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from mien.convert import tfjs
from mien.errors import ConversionError
from mien.models.runtime import onnx_session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "golden"))
import golden  # noqa: E402

TOLERANCE = 1e-4  # max |onnx - tensorflow| / max(1, max |tensorflow|)


@pytest.mark.parametrize("name", sorted(golden.TFJS_CASES))
def test_converted_model_matches_tensorflow_on_real_faces(name):
    errors = golden.max_errors(name)
    assert errors and max(errors.values()) < TOLERANCE, errors


def test_inputs_keep_the_placeholder_name_with_a_dynamic_batch():
    session = onnx_session("faceres")
    (inp,) = session.get_inputs()
    assert inp.name == "input_1"
    assert inp.shape[1:] == [224, 224, 3] and not isinstance(inp.shape[0], int)
    names = {o.name for o in session.get_outputs()}
    assert names == {"gender_pred/Sigmoid", "global_pooling/Mean", "age_pred/Softmax"}
    one = session.run(None, {"input_1": np.zeros((1, 224, 224, 3), np.float32)})
    three = session.run(None, {"input_1": np.zeros((3, 224, 224, 3), np.float32)})
    assert [o.shape[0] for o in one] == [1, 1, 1] and [o.shape[0] for o in three] == [3, 3, 3]


def _write_model(folder: Path, nodes: list[dict], weights: list[dict], blob: bytes) -> Path:
    spec = {
        "format": "graph-model",
        "modelTopology": {"node": nodes},
        "weightsManifest": [{"paths": ["tiny.bin"], "weights": weights}],
    }
    (folder / "tiny.bin").write_bytes(blob)
    path = folder / "tiny.json"
    path.write_text(json.dumps(spec))
    return path


_INPUT = {"name": "x", "op": "Placeholder",
          "attr": {"shape": {"shape": {"dim": [{"size": "-1"}, {"size": "4"}]}}, "dtype": {"type": "DT_FLOAT"}}}


def test_unknown_op_names_the_op_and_the_node(tmp_path):
    nodes = [_INPUT, {"name": "weird/node", "op": "Erfinv", "input": ["x"]}]
    src = _write_model(tmp_path, nodes, [], b"")
    with pytest.raises(ConversionError, match=r"'Erfinv'.*'weird/node'"):
        tfjs.convert(src, tmp_path / "out.onnx")


def test_quantised_uint8_and_float16_weights_are_dequantised(tmp_path):
    import onnxruntime as ort

    q = np.array([0, 1, 2, 255], np.uint8)
    h = np.array([0.5, -2.0, 3.25, 1e-3], np.float16)
    weights = [
        {"name": "a", "shape": [4], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
        {"name": "b", "shape": [4], "dtype": "float32", "quantization": {"dtype": "float16"}},
    ]
    nodes = [
        _INPUT,
        {"name": "a", "op": "Const"},
        {"name": "b", "op": "Const"},
        {"name": "mul", "op": "Mul", "input": ["x", "a"]},
        {"name": "out", "op": "AddV2", "input": ["mul", "b"]},
    ]
    src = _write_model(tmp_path, nodes, weights, q.tobytes() + h.tobytes())
    tfjs.convert(src, tmp_path / "out.onnx")
    session = ort.InferenceSession(str(tmp_path / "out.onnx"), providers=["CPUExecutionProvider"])
    x = np.ones((2, 4), np.float32)
    (y,) = session.run(None, {"x": x})
    np.testing.assert_allclose(y, x * (q * 0.5 - 1.0) + h.astype(np.float32), rtol=1e-6)


def test_truncated_weights_are_a_conversion_error(tmp_path):
    nodes = [_INPUT, {"name": "a", "op": "Const"}, {"name": "out", "op": "Mul", "input": ["x", "a"]}]
    src = _write_model(tmp_path, nodes, [{"name": "a", "shape": [4], "dtype": "float32"}], b"\0" * 8)
    with pytest.raises(ConversionError, match="runs past the end"):
        tfjs.convert(src, tmp_path / "out.onnx")
