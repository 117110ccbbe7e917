"""TF.js graph model (``model.json`` + ``.bin`` shards) -> ONNX, in pure Python.

``model.json`` holds a TensorFlow GraphDef as JSON (``modelTopology.node``: name, op,
input, attr) and a ``weightsManifest`` that says how the shards concatenate and split
into named constants (float32, int32, or quantised to uint8/uint16/float16 with the
dequantisation parameters beside them). Each TF op maps to ONNX nodes through
:class:`mien.convert.onnx_graph.GraphBuilder`, which keeps NHWC semantics at the graph's
inputs and outputs and runs convolutions channels-first inside.

The ONNX graph keeps the placeholder names as input names, with a dynamic batch
dimension; outputs are named after the signature's output keys (or the graph's sink
nodes when there is no signature).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import ConversionError
from .onnx_graph import (
    GraphBuilder,
    Value,
    conv_weight_from_hwio,
    depthwise_weight_from_hwcm,
)

_DTYPES = {
    "float32": np.float32, "int32": np.int32, "bool": np.bool_, "uint8": np.uint8,
    "uint16": np.uint16, "float16": np.float16, "int64": np.int64,
}
_TF_DTYPES = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_INT64": np.int64, "DT_BOOL": np.bool_,
              "DT_UINT8": np.uint8, "DT_HALF": np.float16}
_ONNX_CAST = {np.float32: 1, np.uint8: 2, np.int32: 6, np.int64: 7, np.bool_: 9, np.float16: 10}
_INT_MAX = np.iinfo(np.int64).max


def convert(src_json: Path, dst_onnx: Path) -> None:
    """Convert ``src_json`` (with its ``.bin`` shards beside it) to an ONNX file."""
    src_json = Path(src_json)
    try:
        spec = json.loads(src_json.read_text())
        topology = spec["modelTopology"]
        nodes = topology["node"]
        manifest = spec["weightsManifest"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConversionError(f"{src_json.name}: not a TF.js graph model ({exc})") from exc
    if spec.get("format", "graph-model") != "graph-model":
        raise ConversionError(f"{src_json.name}: format {spec.get('format')!r} is not a TF.js graph model")
    weights = load_weights(manifest, src_json.parent)
    converter = _Converter(src_json.stem, nodes, weights, spec.get("signature") or {})
    converter.run()
    converter.builder.save(Path(dst_onnx), doc=f"converted by mien from TF.js {src_json.name} ({spec.get('generatedBy', '')})")


# -- weights ------------------------------------------------------------------------------
def load_weights(manifest: list[dict[str, Any]], folder: Path) -> dict[str, np.ndarray]:
    """Read every shard group and split it into named, dequantised numpy arrays."""
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        try:
            blob = b"".join((folder / p).read_bytes() for p in group["paths"])
        except OSError as exc:
            raise ConversionError(f"cannot read TF.js weight shard: {exc}") from exc
        offset = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = w.get("quantization")
            stored = _DTYPES.get((quant or w)["dtype"])
            if stored is None:
                raise ConversionError(f"weight {w['name']!r}: unsupported dtype {(quant or w)['dtype']!r}")
            nbytes = count * np.dtype(stored).itemsize
            if offset + nbytes > len(blob):
                raise ConversionError(f"weight {w['name']!r} runs past the end of its shards")
            raw = np.frombuffer(blob, dtype=stored, count=count, offset=offset)
            offset += nbytes
            out[w["name"]] = _dequantise(raw, quant, _DTYPES[w["dtype"]], w["name"]).reshape(shape)
    return out


def _dequantise(raw: np.ndarray, quant: dict | None, dtype: Any, name: str) -> np.ndarray:
    if quant is None:
        return raw.copy()
    if quant["dtype"] == "float16":
        return raw.astype(np.float32).astype(dtype)
    if quant["dtype"] in ("uint8", "uint16"):
        if "scale" in quant:
            values = raw.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant.get("min", 0.0))
        elif "min" in quant:
            values = raw.astype(np.float32) + np.float32(quant["min"])
        else:
            raise ConversionError(f"weight {name!r}: quantisation without scale")
        return np.round(values).astype(dtype) if np.issubdtype(dtype, np.integer) else values.astype(dtype)
    raise ConversionError(f"weight {name!r}: unsupported quantisation {quant['dtype']!r}")


# -- attributes -----------------------------------------------------------------------------
def _attr(node: dict, key: str, default: Any = None) -> Any:
    a = node.get("attr", {}).get(key)
    if a is None:
        return default
    if "s" in a:
        return base64.b64decode(a["s"]).decode()
    if "i" in a:
        return int(a["i"])
    if "f" in a:
        return float(a["f"])
    if "b" in a:
        return bool(a["b"])
    if "type" in a:
        return a["type"]
    if "list" in a:
        lst = a["list"]
        if "i" in lst:
            return [int(v) for v in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(v).decode() for v in lst["s"]]
        if "f" in lst:
            return [float(v) for v in lst["f"]]
        return []
    return default


def _ref(inp: str) -> tuple[str, int]:
    name, _, index = inp.partition(":")
    return name, int(index) if index else 0


class _Converter:
    def __init__(self, name: str, nodes: list[dict], weights: dict[str, np.ndarray], signature: dict) -> None:
        self.builder = GraphBuilder(name)
        self.nodes = {n["name"]: n for n in nodes}
        self.order = [n["name"] for n in nodes]
        self.weights = weights
        self.signature = signature
        self.values: dict[str, Value] = {}

    # -- driving -------------------------------------------------------------------
    def outputs(self) -> list[tuple[str, str]]:
        """(output name, tensor reference) pairs."""
        sig = self.signature.get("outputs") or {}
        if sig:
            return [(key.split(":")[0], info.get("name", key)) for key, info in sig.items()]
        consumed = {_ref(i)[0] for n in self.nodes.values() for i in n.get("input", []) if not i.startswith("^")}
        return [(n, n) for n in self.order
                if n not in consumed and self.nodes[n]["op"] not in ("Const", "Placeholder", "NoOp")]

    def run(self) -> None:
        outputs = self.outputs()
        if not outputs:
            raise ConversionError(f"{self.builder.name}: graph has no outputs")
        self.builder.reserve([name for name, _ in outputs])
        for _, ref in outputs:
            self._visit(_ref(ref)[0])
        for out_name, ref in outputs:
            self.builder.add_output(self.value(ref), out_name)

    def _visit(self, root: str) -> None:
        """Convert ``root`` and its inputs, depth-first without recursion."""
        stack = [(root, False)]
        while stack:
            name, ready = stack.pop()
            if name in self.values:
                continue
            node = self.nodes.get(name)
            if node is None:
                raise ConversionError(f"{self.builder.name}: input {name!r} names no node")
            if ready:
                self._convert_node(node)
                continue
            stack.append((name, True))
            for inp in node.get("input", []):
                if not inp.startswith("^") and _ref(inp)[0] not in self.values:
                    stack.append((_ref(inp)[0], False))

    def value(self, ref: str) -> Value:
        name, index = _ref(ref)
        if index:
            raise ConversionError(f"{self.builder.name}: output {index} of node {name!r} is not supported")
        return self.values[name]

    def const(self, ref: str, what: str, node: dict) -> np.ndarray:
        v = self.value(ref)
        if v.const is None:
            raise ConversionError(f"{node['op']} node {node['name']!r}: {what} must be a constant")
        return v.const

    def _convert_node(self, node: dict) -> None:
        op = node["op"]
        handler = _HANDLERS.get(op)
        if handler is None:
            raise ConversionError(f"unsupported TF op {op!r} in node {node['name']!r} of {self.builder.name}")
        inputs = [i for i in node.get("input", []) if not i.startswith("^")]
        try:
            self.values[node["name"]] = handler(self, node, inputs)
        except ConversionError:
            raise
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            raise ConversionError(f"cannot convert {op} node {node['name']!r}: {exc}") from exc


# -- op handlers ---------------------------------------------------------------------------
Handler = Callable[[_Converter, dict, list], Value]
_HANDLERS: dict[str, Handler] = {}


def _handles(*ops: str):
    def register(fn: Handler) -> Handler:
        for op in ops:
            _HANDLERS[op] = fn
        return fn
    return register


@_handles("Const")
def _const(c: _Converter, node: dict, inputs: list) -> Value:
    name = node["name"]
    if name in c.weights:
        return c.builder.constant(c.weights[name])
    tensor = node.get("attr", {}).get("value", {}).get("tensor", {})
    dtype = _TF_DTYPES.get(tensor.get("dtype", ""), np.float32)
    shape = [int(d.get("size", 0)) for d in tensor.get("tensorShape", {}).get("dim", [])]
    if shape and int(np.prod(shape)) == 0:  # an empty tensor carries no weights
        return c.builder.constant(np.zeros(shape, dtype))
    raise ConversionError(f"Const node {name!r} has no value in the weights manifest")


@_handles("Placeholder")
def _placeholder(c: _Converter, node: dict, inputs: list) -> Value:
    shape_attr = node.get("attr", {}).get("shape", {}).get("shape", {})
    dims = [int(d.get("size", -1)) for d in shape_attr.get("dim", [])]
    if shape_attr.get("unknownRank") or not dims:
        raise ConversionError(f"Placeholder {node['name']!r} has no static rank")
    dtype = _TF_DTYPES.get(_attr(node, "dtype", "DT_FLOAT"), np.float32)
    return c.builder.add_input(node["name"], dims, _ONNX_CAST[dtype])


@_handles("Identity", "StopGradient", "Snapshot")
def _identity(c: _Converter, node: dict, inputs: list) -> Value:
    return c.value(inputs[0])


_BINARY = {"Add": "Add", "AddV2": "Add", "BiasAdd": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
           "Div": "Div", "Maximum": "Max", "Minimum": "Min", "Pow": "Pow"}
_NUMPY_BINARY = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Max": np.maximum,
                 "Min": np.minimum, "Pow": np.power}


@_handles(*_BINARY)
def _binary(c: _Converter, node: dict, inputs: list) -> Value:
    onnx_op = _BINARY[node["op"]]
    a, b = c.value(inputs[0]), c.value(inputs[1])
    if a.is_const and b.is_const:
        result = _NUMPY_BINARY[onnx_op](a.const, b.const)
        return c.builder.constant(result.astype(np.result_type(a.const, b.const)))
    return c.builder.elementwise(onnx_op, [a, b], node["name"])


@_handles("AddN")
def _add_n(c: _Converter, node: dict, inputs: list) -> Value:
    return c.builder.elementwise("Sum", [c.value(i) for i in inputs], node["name"])


@_handles("SquaredDifference")
def _squared_difference(c: _Converter, node: dict, inputs: list) -> Value:
    diff = c.builder.elementwise("Sub", [c.value(inputs[0]), c.value(inputs[1])], node["name"] + "/sub")
    return c.builder.elementwise("Mul", [diff, diff], node["name"])


@_handles("Relu", "Relu6", "Elu", "Sigmoid", "Tanh", "Rsqrt", "Square", "Sqrt", "Exp", "Log", "Neg", "Abs",
          "Reciprocal", "Floor")
def _unary(c: _Converter, node: dict, inputs: list) -> Value:
    return c.builder.activation(node["op"], c.value(inputs[0]), node["name"])


@_handles("LeakyRelu")
def _leaky_relu(c: _Converter, node: dict, inputs: list) -> Value:
    return c.builder.activation("LeakyRelu", c.value(inputs[0]), node["name"], alpha=_attr(node, "alpha", 0.2))


@_handles("Prelu")
def _prelu(c: _Converter, node: dict, inputs: list) -> Value:
    alpha = c.const(inputs[1], "alpha", node)
    return c.builder.activation("Prelu", c.value(inputs[0]), node["name"], alpha=alpha)


def _check_nhwc(node: dict) -> None:
    fmt = _attr(node, "data_format", "NHWC")
    if fmt != "NHWC":
        raise ConversionError(f"{node['op']} node {node['name']!r}: data_format {fmt} is not supported (NHWC only)")


def _conv_common(c: _Converter, node: dict, inputs: list, depthwise: bool) -> Value:
    _check_nhwc(node)
    kernel = c.const(inputs[1], "the filter", node).astype(np.float32)
    weight = depthwise_weight_from_hwcm(kernel) if depthwise else conv_weight_from_hwio(kernel)
    strides = _attr(node, "strides", [1, 1, 1, 1])
    dilations = _attr(node, "dilations", [1, 1, 1, 1])
    padding = _attr(node, "padding", "VALID")
    explicit = _attr(node, "explicit_paddings", [])
    pads = None
    if padding == "EXPLICIT":
        p = np.asarray(explicit).reshape(4, 2)
        pads = (p[1, 0], p[2, 0], p[1, 1], p[2, 1])
    # Fused ops: BiasAdd (1 argument) or FusedBatchNorm (4), then at most one activation,
    # whose own argument (PReLU's alpha) follows.
    fused = _attr(node, "fused_ops", []) if node["op"] not in ("Conv2D", "DepthwiseConv2dNative") else []
    args = [c.value(i) for i in inputs[2:]]
    bias = None
    if fused and fused[0] == "BiasAdd":
        bias = _arg_const(args, 0, node)
        fused, args = fused[1:], args[1:]
    elif fused and fused[0] == "FusedBatchNorm":
        scale, offset, mean, var = (_arg_const(args, i, node) for i in range(4))
        k = scale / np.sqrt(var + np.float32(_attr(node, "epsilon", 1e-3)))
        weight = weight * k.reshape(-1, 1, 1, 1).astype(np.float32)
        bias = offset - mean * k
        fused, args = fused[1:], args[4:]
    group = kernel.shape[2] if depthwise else 1
    out = c.builder.conv(c.value(inputs[0]), weight, bias, node["name"], strides=strides[1:3],
                         dilations=dilations[1:3], padding=padding, pads=pads, group=group)
    return _fused_activation(c, node, out, fused, args)


def _arg_const(args: list[Value], index: int, node: dict) -> np.ndarray:
    if index >= len(args) or args[index].const is None:
        raise ConversionError(f"{node['op']} node {node['name']!r}: fused argument {index} must be a constant")
    return args[index].const.astype(np.float32)


def _fused_activation(c: _Converter, node: dict, x: Value, fused: list[str], extra: list[Value]) -> Value:
    if not fused:
        return x
    if len(fused) > 1:
        raise ConversionError(f"{node['op']} node {node['name']!r}: unsupported fused ops {fused}")
    kind = fused[0]
    alpha = None
    if kind == "Prelu":
        alpha = _arg_const(extra, 0, node)
    elif kind == "LeakyRelu":
        alpha = _attr(node, "leakyrelu_alpha", 0.2)
    elif kind not in ("Relu", "Relu6", "Elu", "Sigmoid", "Tanh"):
        raise ConversionError(f"{node['op']} node {node['name']!r}: unsupported fused op {kind!r}")
    return c.builder.activation(kind, x, node["name"] + "/" + kind, alpha=alpha)


@_handles("Conv2D", "_FusedConv2D")
def _conv2d(c: _Converter, node: dict, inputs: list) -> Value:
    return _conv_common(c, node, inputs, depthwise=False)


@_handles("Conv2DBackpropInput")
def _conv_transpose(c: _Converter, node: dict, inputs: list) -> Value:
    """Transposed convolution (Keras Conv2DTranspose): inputs are the output size (implied here by the
    padding: input x stride for SAME), the filter (H, W, O, I) and x."""
    _check_nhwc(node)
    kernel = c.const(inputs[1], "the filter", node).astype(np.float32)
    strides = list(_attr(node, "strides", [1, 1, 1, 1]))[1:3]
    if list(_attr(node, "dilations", [1, 1, 1, 1]))[1:3] != [1, 1]:
        raise ConversionError(f"{node['op']} node {node['name']!r}: dilated transposed convolution is not supported")
    padding = _attr(node, "padding", "VALID")
    kh, kw = kernel.shape[:2]
    pads = [0, 0, 0, 0]
    if padding == "SAME":  # TF: output = input * stride; the total padding k - stride, the extra at the end
        th, tw = max(0, kh - strides[0]), max(0, kw - strides[1])
        pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
    elif padding != "VALID":
        raise ConversionError(f"{node['op']} node {node['name']!r}: padding {padding} is not supported")
    weight = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))  # (I, O, H, W), as ONNX wants
    b = c.builder
    x = b.channels_first(c.value(inputs[2]), node["name"])
    w = b.initializer(weight, f"{node['name']}/w")
    out = b.node("ConvTranspose", [x, w], node["name"], strides=strides, kernel_shape=[int(kh), int(kw)], pads=pads)
    return Value(4, cf=out)


@_handles("DepthwiseConv2dNative", "FusedDepthwiseConv2dNative")
def _depthwise(c: _Converter, node: dict, inputs: list) -> Value:
    return _conv_common(c, node, inputs, depthwise=True)


@_handles("MatMul", "_FusedMatMul")
def _matmul(c: _Converter, node: dict, inputs: list) -> Value:
    a, b = c.value(inputs[0]), c.value(inputs[1])
    b_name = None
    if _attr(node, "transpose_b", False):
        b = c.builder.constant(b.const.T) if b.is_const else c.builder.op("Transpose", [b], node["name"] + "/bt", 2, perm=[1, 0])
    if _attr(node, "transpose_a", False):
        a = c.builder.op("Transpose", [a], node["name"] + "/at", 2, perm=[1, 0])
    if b.is_const:
        b_name = c.builder.initializer(b.const.astype(np.float32), node["name"] + "/w")
    out = c.builder.op("MatMul", [a, b_name or b], node["name"], 2)
    fused = _attr(node, "fused_ops", []) if node["op"] == "_FusedMatMul" else []
    args = [c.value(i) for i in inputs[2:]]
    if fused and fused[0] == "BiasAdd":
        out = c.builder.elementwise("Add", [out, args[0]], node["name"] + "/bias")
        fused, args = fused[1:], args[1:]
    return _fused_activation(c, node, out, fused, args)


@_handles("MaxPool", "AvgPool")
def _pool(c: _Converter, node: dict, inputs: list) -> Value:
    _check_nhwc(node)
    ksize, strides = _attr(node, "ksize"), _attr(node, "strides")
    return c.builder.pool(node["op"], c.value(inputs[0]), node["name"], kernel=ksize[1:3], strides=strides[1:3],
                          padding=_attr(node, "padding", "VALID"))


@_handles("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3")
def _batch_norm(c: _Converter, node: dict, inputs: list) -> Value:
    _check_nhwc(node)
    scale, offset, mean, var = (c.const(i, "batch-norm parameters", node).astype(np.float32) for i in inputs[1:5])
    k = scale / np.sqrt(var + np.float32(_attr(node, "epsilon", 1e-3)))
    x = c.value(inputs[0])
    scaled = c.builder.elementwise("Mul", [x, c.builder.constant(k)], node["name"] + "/mul")
    return c.builder.elementwise("Add", [scaled, c.builder.constant(offset - mean * k)], node["name"])


_REDUCE = {"Mean": "ReduceMean", "Sum": "ReduceSum", "Max": "ReduceMax", "Min": "ReduceMin", "Prod": "ReduceProd"}


@_handles(*_REDUCE)
def _reduce(c: _Converter, node: dict, inputs: list) -> Value:
    axes = np.atleast_1d(c.const(inputs[1], "reduction axes", node)).astype(int).tolist()
    keep = bool(_attr(node, "keep_dims", False))
    return c.builder.reduce(_REDUCE[node["op"]], c.value(inputs[0]), axes, keep, node["name"])


@_handles("Reshape")
def _reshape(c: _Converter, node: dict, inputs: list) -> Value:
    shape = c.const(inputs[1], "the shape", node).astype(np.int64).reshape(-1)
    x = c.value(inputs[0])
    if x.is_const:
        return c.builder.constant(x.const.reshape(shape))
    return c.builder.op("Reshape", [x, c.builder.ints(shape, node["name"] + "/shape")], node["name"], len(shape))


@_handles("Squeeze")
def _squeeze(c: _Converter, node: dict, inputs: list) -> Value:
    x = c.value(inputs[0])
    dims = _attr(node, "squeeze_dims", None) or _attr(node, "axis", None)
    if not dims:
        raise ConversionError(f"Squeeze node {node['name']!r} without explicit axes is not supported")
    dims = sorted(d % x.rank for d in dims)
    return c.builder.op("Squeeze", [x, c.builder.ints(dims, node["name"] + "/axes")], node["name"], x.rank - len(dims))


@_handles("ExpandDims")
def _expand_dims(c: _Converter, node: dict, inputs: list) -> Value:
    x = c.value(inputs[0])
    axis = int(np.asarray(c.const(inputs[1], "the axis", node)).reshape(-1)[0])
    axis = axis % (x.rank + 1)
    if x.is_const:
        return c.builder.constant(np.expand_dims(x.const, axis))
    return c.builder.op("Unsqueeze", [x, c.builder.ints([axis], node["name"] + "/axes")], node["name"], x.rank + 1)


@_handles("ConcatV2")
def _concat(c: _Converter, node: dict, inputs: list) -> Value:
    axis = int(c.const(inputs[-1], "the axis", node))
    values = [c.value(i) for i in inputs[:-1]]
    if all(v.is_const for v in values):
        return c.builder.constant(np.concatenate([v.const for v in values], axis=axis))
    return c.builder.concat(values, axis, node["name"])


@_handles("Pack")
def _pack(c: _Converter, node: dict, inputs: list) -> Value:
    values = [c.value(i) for i in inputs]
    axis = _attr(node, "axis", 0) % (values[0].rank + 1)
    if all(v.is_const for v in values):
        return c.builder.constant(np.stack([v.const for v in values], axis=axis))
    axes = c.builder.ints([axis], node["name"] + "/axes")
    parts = [c.builder.op("Unsqueeze", [v, axes], node["name"] + "/u", v.rank + 1) for v in values]
    return c.builder.op("Concat", parts, node["name"], values[0].rank + 1, axis=axis)


@_handles("Pad", "PadV2", "MirrorPad")
def _pad(c: _Converter, node: dict, inputs: list) -> Value:
    widths = c.const(inputs[1], "the paddings", node)
    value = float(c.const(inputs[2], "the pad value", node)) if node["op"] == "PadV2" else 0.0
    mode = "constant"
    if node["op"] == "MirrorPad":
        if _attr(node, "mode") != "REFLECT":
            raise ConversionError(f"MirrorPad node {node['name']!r}: mode {_attr(node, 'mode')} is not supported")
        mode = "reflect"
    return c.builder.pad(c.value(inputs[0]), widths, node["name"], mode=mode, value=value)


@_handles("Softmax")
def _softmax(c: _Converter, node: dict, inputs: list) -> Value:
    x = c.value(inputs[0])
    return c.builder.op("Softmax", [x], node["name"], x.rank, axis=-1)


@_handles("Transpose")
def _transpose(c: _Converter, node: dict, inputs: list) -> Value:
    perm = c.const(inputs[1], "the permutation", node).astype(int).tolist()
    return c.builder.op("Transpose", [c.value(inputs[0])], node["name"], len(perm), perm=perm)


@_handles("Shape")
def _shape(c: _Converter, node: dict, inputs: list) -> Value:
    shape = c.builder.op("Shape", [c.value(inputs[0])], node["name"] + "/i64", 1)
    return c.builder.op("Cast", [shape], node["name"], 1, to=_ONNX_CAST[np.int32])


@_handles("Cast")
def _cast(c: _Converter, node: dict, inputs: list) -> Value:
    dtype = _TF_DTYPES.get(_attr(node, "DstT", "DT_FLOAT"))
    if dtype is None:
        raise ConversionError(f"Cast node {node['name']!r}: unsupported type {_attr(node, 'DstT')}")
    x = c.value(inputs[0])
    if x.is_const:
        return c.builder.constant(x.const.astype(dtype))
    return c.builder.elementwise("Cast", [x], node["name"], to=_ONNX_CAST[dtype])


@_handles("StridedSlice")
def _strided_slice(c: _Converter, node: dict, inputs: list) -> Value:
    x = c.value(inputs[0])
    begin, end, strides = (c.const(i, "slice bounds", node).astype(np.int64).reshape(-1) for i in inputs[1:4])
    if _attr(node, "ellipsis_mask", 0) or _attr(node, "new_axis_mask", 0):
        raise ConversionError(f"StridedSlice node {node['name']!r}: ellipsis/new-axis masks are not supported")
    bmask, emask, smask = (_attr(node, k, 0) for k in ("begin_mask", "end_mask", "shrink_axis_mask"))
    starts, ends, steps, shrink = [], [], [], []
    for i in range(len(begin)):
        step = int(strides[i])
        if smask >> i & 1:
            b = int(begin[i])
            starts.append(b)
            ends.append(b + 1 if b != -1 else _INT_MAX)
            steps.append(1)
            shrink.append(i)
            continue
        starts.append((0 if step > 0 else _INT_MAX) if bmask >> i & 1 else int(begin[i]))
        ends.append((_INT_MAX if step > 0 else -_INT_MAX) if emask >> i & 1 else int(end[i]))
        steps.append(step)
    axes = list(range(len(begin)))
    if x.is_const:
        arr = x.const[tuple(slice(s, e, st) for s, e, st in zip(starts, ends, steps))]
        return c.builder.constant(arr.squeeze(axis=tuple(shrink)) if shrink else arr)
    b = c.builder
    name = node["name"]
    out = b.op("Slice", [x, b.ints(starts, name + "/starts"), b.ints(ends, name + "/ends"),
                         b.ints(axes, name + "/axes"), b.ints(steps, name + "/steps")], name, x.rank)
    if shrink:
        out = b.op("Squeeze", [out, b.ints(shrink, name + "/shrink")], name + "/squeeze", x.rank - len(shrink))
    return out


@_handles("ResizeBilinear", "ResizeNearestNeighbor")
def _resize(c: _Converter, node: dict, inputs: list) -> Value:
    size = c.const(inputs[1], "the output size", node).astype(np.int64).reshape(2)
    x = c.value(inputs[0])
    b, name = c.builder, node["name"]
    if _attr(node, "align_corners", False):
        mode = "align_corners"
    elif _attr(node, "half_pixel_centers", False):
        mode = "half_pixel" if node["op"] == "ResizeBilinear" else "tf_half_pixel_for_nn"
    else:
        mode = "asymmetric"
    src = b.channels_first(x, name)
    head = b.node("Slice", [b.node("Shape", [src], name + "/shape"), b.ints([0], name + "/s0"),
                            b.ints([2], name + "/s1")], name + "/nc")
    sizes = b.node("Concat", [head, b.ints(size, name + "/hw")], name + "/sizes", axis=0)
    attrs = dict(coordinate_transformation_mode=mode,
                 mode="linear" if node["op"] == "ResizeBilinear" else "nearest")
    if node["op"] == "ResizeNearestNeighbor":
        attrs["nearest_mode"] = "round_prefer_ceil" if mode == "align_corners" else "floor"
    return Value(4, cf=b.node("Resize", [src, "", "", sizes], name, **attrs))
