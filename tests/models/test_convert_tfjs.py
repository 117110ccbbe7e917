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


def test_fused_batch_norm_prelu_conv_then_channel_pad_and_mean(tmp_path):
    """A small graph through the channels-first path, checked against numpy."""
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    w = rng.normal(size=(1, 1, 3, 5)).astype(np.float32)
    scale, offset, mean = (rng.normal(size=5).astype(np.float32) for _ in range(3))
    var = rng.uniform(0.5, 2.0, size=5).astype(np.float32)
    alpha = rng.uniform(0.1, 0.3, size=(1, 1, 5)).astype(np.float32)
    paddings = np.array([[0, 0], [0, 0], [0, 0], [0, 3]], np.int32)
    axes = np.array([1, 2], np.int32)
    arrays = {"w": w, "scale": scale, "offset": offset, "mean": mean, "var": var, "alpha": alpha,
              "paddings": paddings, "axes": axes}
    weights = [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()]
    blob = b"".join(v.tobytes() for v in arrays.values())

    def attr_s(text: str) -> dict:
        import base64

        return {"s": base64.b64encode(text.encode()).decode()}

    x_node = dict(_INPUT, attr={"shape": {"shape": {"dim": [{"size": "-1"}, {"size": "4"}, {"size": "4"},
                                                            {"size": "3"}]}}, "dtype": {"type": "DT_FLOAT"}})
    fused_ops = {"list": {"s": [attr_s("FusedBatchNorm")["s"], attr_s("Prelu")["s"]]}}
    nodes = [x_node, *({"name": k, "op": "Const"} for k in arrays),
             {"name": "conv", "op": "_FusedConv2D", "input": ["x", "w", "scale", "offset", "mean", "var", "alpha"],
              "attr": {"strides": {"list": {"i": ["1", "1", "1", "1"]}}, "padding": attr_s("SAME"),
                       "fused_ops": fused_ops, "epsilon": {"f": 0.001}, "num_args": {"i": "5"}}},
             {"name": "pad", "op": "Pad", "input": ["conv", "paddings"]},
             {"name": "out", "op": "Mean", "input": ["pad", "axes"], "attr": {"keep_dims": {"b": False}}}]
    src = _write_model(tmp_path, nodes, weights, blob)
    tfjs.convert(src, tmp_path / "out.onnx")
    session = ort.InferenceSession(str(tmp_path / "out.onnx"), providers=["CPUExecutionProvider"])
    x = rng.normal(size=(2, 4, 4, 3)).astype(np.float32)
    (got,) = session.run(None, {"x": x})

    y = np.einsum("nhwc,cd->nhwd", x, w[0, 0])
    y = (y - mean) * scale / np.sqrt(var + 0.001) + offset
    y = np.where(y > 0, y, alpha * y)
    want = np.concatenate([y.mean(axis=(1, 2)), np.zeros((2, 3), np.float32)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
