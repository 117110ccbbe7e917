"""TFLite flatbuffer -> ONNX, in pure Python.

A small flatbuffer reader (below) walks the TFLite schema's tables directly, so no
generated schema package is needed. Float16 weights (stored as FLOAT16 constants that
feed DEQUANTIZE) are folded to float32 at conversion time. Each TFLite builtin op maps
to ONNX nodes through :class:`mien.convert.onnx_graph.GraphBuilder`, which keeps NHWC
semantics at the graph's inputs and outputs. Quantised (uint8/int8 activation) models
are not supported.

Only the first subgraph is converted; input and output names are the TFLite tensor names.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ConversionError
from .onnx_graph import (
    GraphBuilder,
    Value,
    conv_weight_from_ohwi,
    depthwise_weight_from_tflite,
)

# TensorType enum of the TFLite schema.
_TENSOR_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16,
                 9: np.int8}
_PADDING = {0: "SAME", 1: "VALID"}
_ACTIVATIONS = {0: None, 1: "Relu", 2: "ReluN1To1", 3: "Relu6", 4: "Tanh"}

# BuiltinOperator codes of the TFLite schema that mien converts.
ADD, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D = 0, 1, 2, 3, 4
DEQUANTIZE, FULLY_CONNECTED, LOGISTIC, MAX_POOL_2D, MUL = 6, 9, 14, 17, 18
RELU, RELU_N1_TO_1, RELU6, RESHAPE, RESIZE_BILINEAR, SOFTMAX, TANH = 19, 20, 21, 22, 23, 25, 28
PAD, TRANSPOSE, MEAN, SUB, DIV, SQUEEZE, STRIDED_SLICE, EXP = 34, 39, 40, 41, 42, 43, 45, 47
PRELU, MAXIMUM, MINIMUM, NEG, PADV2, LEAKY_RELU, HARD_SWISH = 54, 55, 57, 59, 60, 98, 117
_OP_NAMES = {v: k for k, v in dict(globals()).items() if k.isupper() and isinstance(v, int) and not k.startswith("_")}


def convert(src: Path, dst: Path) -> None:
    """Convert the TFLite model at ``src`` to an ONNX file at ``dst``."""
    src = Path(src)
    try:
        buf = src.read_bytes()
    except OSError as exc:
        raise ConversionError(f"cannot read {src}: {exc}") from exc
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ConversionError(f"{src.name}: not a TFLite flatbuffer (no TFL3 identifier)")
    try:
        converter = _Converter(src.stem, _Table.root(buf))
        converter.run()
    except (struct.error, IndexError, ValueError) as exc:
        raise ConversionError(f"{src.name}: malformed TFLite file ({exc})") from exc
    converter.builder.save(Path(dst), doc=f"converted by mien from TFLite {src.name}")


# -- a minimal flatbuffer reader -------------------------------------------------------------
class _Table:
    """One flatbuffer table: fields by index, as in the schema's declaration order."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf, self.pos = buf, pos

    @classmethod
    def root(cls, buf: bytes) -> "_Table":
        return cls(buf, struct.unpack_from("<I", buf, 0)[0])

    def _offset(self, field: int) -> int:
        vtable = self.pos - struct.unpack_from("<i", self.buf, self.pos)[0]
        vsize = struct.unpack_from("<H", self.buf, vtable)[0]
        entry = 4 + 2 * field
        return struct.unpack_from("<H", self.buf, vtable + entry)[0] if entry < vsize else 0

    def scalar(self, field: int, fmt: str, default=0):
        off = self._offset(field)
        return struct.unpack_from("<" + fmt, self.buf, self.pos + off)[0] if off else default

    def _target(self, field: int) -> int | None:
        off = self._offset(field)
        if not off:
            return None
        p = self.pos + off
        return p + struct.unpack_from("<I", self.buf, p)[0]

    def table(self, field: int) -> "_Table | None":
        p = self._target(field)
        return None if p is None else _Table(self.buf, p)

    def _vector(self, field: int) -> tuple[int, int]:
        p = self._target(field)
        if p is None:
            return 0, 0
        return p + 4, struct.unpack_from("<I", self.buf, p)[0]

    def tables(self, field: int) -> list["_Table"]:
        start, n = self._vector(field)
        return [_Table(self.buf, e + struct.unpack_from("<I", self.buf, e)[0]) for e in range(start, start + 4 * n, 4)]

    def array(self, field: int, dtype) -> np.ndarray:
        start, n = self._vector(field)
        return np.frombuffer(self.buf, dtype=dtype, count=n, offset=start) if n else np.zeros(0, dtype)

    def string(self, field: int) -> str:
        start, n = self._vector(field)
        return self.buf[start:start + n].decode("utf-8", "replace")


# -- conversion -------------------------------------------------------------------------------
class _Converter:
    def __init__(self, name: str, model: _Table) -> None:
        self.builder = GraphBuilder(name)
        self.model = model
        self.buffers = model.tables(4)
        self.codes = [max(c.scalar(0, "b", 0), c.scalar(3, "i", 0)) for c in model.tables(1)]
        subgraphs = model.tables(2)
        if not subgraphs:
            raise ConversionError(f"{name}: TFLite model has no subgraph")
        self.graph = subgraphs[0]
        self.tensors = self.graph.tables(0)
        self.values: dict[int, Value] = {}

    def tensor_name(self, index: int) -> str:
        return self.tensors[index].string(3) or f"t{index}"

    def shape(self, index: int) -> list[int]:
        return self.tensors[index].array(0, np.int32).tolist()

    def dtype(self, index: int):
        code = self.tensors[index].scalar(1, "b", 0)
        if code not in _TENSOR_TYPES:
            raise ConversionError(f"tensor {self.tensor_name(index)!r}: unsupported TFLite type {code}")
        return _TENSOR_TYPES[code]

    def const_data(self, index: int) -> np.ndarray | None:
        t = self.tensors[index]
        buf_index = t.scalar(2, "I", 0)
        if buf_index == 0 or buf_index >= len(self.buffers):
            return None
        data = self.buffers[buf_index].array(0, np.uint8)
        if data.size == 0:
            return None
        return np.frombuffer(data.tobytes(), dtype=self.dtype(index)).reshape(self.shape(index))

    def value(self, index: int) -> Value:
        if index not in self.values:
            data = self.const_data(index)
            if data is None:
                raise ConversionError(f"tensor {self.tensor_name(index)!r} is used before it is computed")
            self.values[index] = self.builder.constant(data)
        return self.values[index]

    def const(self, index: int, what: str) -> np.ndarray:
        v = self.value(index)
        if v.const is None:
            raise ConversionError(f"{what} ({self.tensor_name(index)!r}) must be a constant")
        return v.const

    def run(self) -> None:
        inputs = self.graph.array(1, np.int32).tolist()
        outputs = self.graph.array(2, np.int32).tolist()
        self.builder.reserve([self.tensor_name(i) for i in outputs])
        for i in inputs:
            if self.dtype(i) != np.float32:
                raise ConversionError(f"input {self.tensor_name(i)!r}: only float32 inputs are supported")
            shape = self.tensors[i].array(7, np.int32).tolist() or self.shape(i)
            self.values[i] = self.builder.add_input(self.tensor_name(i), shape)
        for op in self.graph.tables(3):
            code = self.codes[op.scalar(0, "I", 0)]
            op_in = [int(i) for i in op.array(1, np.int32)]
            op_out = [int(i) for i in op.array(2, np.int32)]
            handler = _HANDLERS.get(code)
            label = _OP_NAMES.get(code, f"builtin {code}")
            out_name = self.tensor_name(op_out[0]) if op_out else "?"
            if handler is None:
                raise ConversionError(f"unsupported TFLite op {label} producing {out_name!r} in {self.builder.name}")
            if any(self.dtype(i) in (np.uint8, np.int8) for i in op_out):
                raise ConversionError(f"{label} producing {out_name!r}: quantised models are not supported")
            result = handler(self, code, op_in, op_out, op.table(4), out_name)
            self.values[op_out[0]] = result
        for i in outputs:
            self.builder.add_output(self.value(i), self.tensor_name(i))


Handler = Callable[[_Converter, int, list, list, "_Table | None", str], Value]
_HANDLERS: dict[int, Handler] = {}


def _handles(*codes: int):
    def register(fn: Handler) -> Handler:
        for code in codes:
            _HANDLERS[code] = fn
        return fn
    return register


def _opt(options: _Table | None, field: int, fmt: str, default):
    return options.scalar(field, fmt, default) if options is not None else default


def _activate(c: _Converter, x: Value, code: int, name: str) -> Value:
    kind = _ACTIVATIONS.get(code, "?")
    if kind == "?":
        raise ConversionError(f"{name}: unsupported fused activation {code}")
    return x if kind is None else c.builder.activation(kind, x, f"{name}/{kind}")


@_handles(DEQUANTIZE)
def _dequantize(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    data = c.const(ins[0], "DEQUANTIZE input")
    q = c.tensors[ins[0]].table(4)
    if data.dtype == np.float16:
        return c.builder.constant(data.astype(np.float32))
    scale = q.array(2, np.float32) if q is not None else np.zeros(0, np.float32)
    if scale.size == 0:
        raise ConversionError(f"DEQUANTIZE producing {name!r}: no quantisation scale")
    zero = q.array(3, np.int64)
    axis = q.scalar(6, "i", 0)
    shape = [1] * data.ndim
    if scale.size > 1:
        shape[axis] = -1
    zp = zero.reshape(shape) if zero.size else 0
    return c.builder.constant(((data.astype(np.float32) - zp) * scale.reshape(shape)).astype(np.float32))


@_handles(CONV_2D, DEPTHWISE_CONV_2D)
def _conv(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    kernel = c.const(ins[1], "convolution weights").astype(np.float32)
    x = c.value(ins[0])
    depthwise = code == DEPTHWISE_CONV_2D
    bias = c.const(ins[2], "convolution bias").astype(np.float32) if len(ins) > 2 and ins[2] >= 0 else None
    if depthwise:
        channels = c.shape(ins[0])[3]
        weight = depthwise_weight_from_tflite(kernel, channels)
        fields = dict(stride_w=1, stride_h=2, act=4, dil_w=5, dil_h=6)
        group = channels
    else:
        weight = conv_weight_from_ohwi(kernel)
        fields = dict(stride_w=1, stride_h=2, act=3, dil_w=4, dil_h=5)
        group = 1
    strides = (_opt(options, fields["stride_h"], "i", 1), _opt(options, fields["stride_w"], "i", 1))
    dilations = (_opt(options, fields["dil_h"], "i", 1), _opt(options, fields["dil_w"], "i", 1))
    padding = _PADDING[_opt(options, 0, "b", 0)]
    out = c.builder.conv(x, weight, bias, name, strides=strides, dilations=dilations, padding=padding, group=group)
    return _activate(c, out, _opt(options, fields["act"], "b", 0), name)


@_handles(MAX_POOL_2D, AVERAGE_POOL_2D)
def _pool(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    kind = "MaxPool" if code == MAX_POOL_2D else "AvgPool"
    kernel = (_opt(options, 4, "i", 1), _opt(options, 3, "i", 1))
    strides = (_opt(options, 2, "i", 1), _opt(options, 1, "i", 1))
    out = c.builder.pool(kind, c.value(ins[0]), name, kernel=kernel, strides=strides,
                         padding=_PADDING[_opt(options, 0, "b", 0)])
    return _activate(c, out, _opt(options, 5, "b", 0), name)


_BINARY = {ADD: "Add", SUB: "Sub", MUL: "Mul", DIV: "Div", MAXIMUM: "Max", MINIMUM: "Min"}


@_handles(*_BINARY)
def _binary(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    out = c.builder.elementwise(_BINARY[code], [c.value(ins[0]), c.value(ins[1])], name)
    if code in (MAXIMUM, MINIMUM):
        return out
    return _activate(c, out, _opt(options, 0, "b", 0), name)


_UNARY = {RELU: "Relu", RELU6: "Relu6", RELU_N1_TO_1: "ReluN1To1", LOGISTIC: "Sigmoid", TANH: "Tanh", EXP: "Exp",
          NEG: "Neg"}


@_handles(*_UNARY)
def _unary(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    return c.builder.activation(_UNARY[code], c.value(ins[0]), name)


@_handles(LEAKY_RELU)
def _leaky(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    return c.builder.activation("LeakyRelu", c.value(ins[0]), name, alpha=_opt(options, 0, "f", 0.2))


@_handles(HARD_SWISH)
def _hard_swish(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    return c.builder.elementwise("HardSwish", [c.value(ins[0])], name)


@_handles(PRELU)
def _prelu(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    return c.builder.activation("Prelu", c.value(ins[0]), name, alpha=c.const(ins[1], "PRELU alpha"))


@_handles(PAD, PADV2)
def _pad(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    value = float(c.const(ins[2], "pad value").reshape(-1)[0]) if len(ins) > 2 else 0.0
    return c.builder.pad(c.value(ins[0]), c.const(ins[1], "paddings"), name, value=value)


@_handles(CONCATENATION)
def _concat(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    out = c.builder.concat([c.value(i) for i in ins], _opt(options, 0, "i", 0), name)
    return _activate(c, out, _opt(options, 1, "b", 0), name)


@_handles(RESHAPE, SQUEEZE)
def _reshape(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    shape = c.shape(outs[0])
    sig = c.tensors[outs[0]].array(7, np.int32).tolist()
    if sig and len(sig) == len(shape):
        shape = [-1 if s < 0 else d for s, d in zip(sig, shape)]
    x = c.value(ins[0])
    if x.is_const:
        return c.builder.constant(x.const.reshape(shape))
    return c.builder.op("Reshape", [x, c.builder.ints(shape, name + "/shape")], name, len(shape))


@_handles(FULLY_CONNECTED)
def _fully_connected(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    weight = c.const(ins[1], "FULLY_CONNECTED weights").astype(np.float32)  # (out, in)
    x = c.value(ins[0])
    if x.rank != 2:
        x = c.builder.op("Reshape", [x, c.builder.ints([-1, weight.shape[1]], name + "/flat")], name + "/flat", 2)
    inputs = [x, c.builder.constant(weight.T.copy())]
    out = c.builder.op("MatMul", inputs, name, 2)
    if len(ins) > 2 and ins[2] >= 0:
        out = c.builder.elementwise("Add", [out, c.value(ins[2])], name + "/bias")
    return _activate(c, out, _opt(options, 0, "b", 0), name)


@_handles(SOFTMAX)
def _softmax(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    x = c.value(ins[0])
    beta = _opt(options, 0, "f", 1.0)
    if beta != 1.0:
        x = c.builder.elementwise("Mul", [x, c.builder.constant(np.float32(beta))], name + "/beta")
    return c.builder.op("Softmax", [x], name, x.rank, axis=-1)


@_handles(MEAN)
def _mean(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    axes = np.atleast_1d(c.const(ins[1], "MEAN axes")).astype(int).tolist()
    return c.builder.reduce("ReduceMean", c.value(ins[0]), axes, bool(_opt(options, 0, "b", 0)), name)


@_handles(TRANSPOSE)
def _transpose(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    perm = c.const(ins[1], "TRANSPOSE permutation").astype(int).tolist()
    return c.builder.op("Transpose", [c.value(ins[0])], name, len(perm), perm=perm)


@_handles(RESIZE_BILINEAR)
def _resize(c: _Converter, code: int, ins: list, outs: list, options, name: str) -> Value:
    size = c.const(ins[1], "RESIZE_BILINEAR size").astype(np.int64).reshape(2)
    n, _, _, ch = c.shape(ins[0])
    if _opt(options, 2, "b", 0):
        mode = "align_corners"
    elif _opt(options, 3, "b", 0):
        mode = "half_pixel"
    else:
        mode = "asymmetric"
    src = c.builder.channels_first(c.value(ins[0]), name)
    sizes = c.builder.ints([max(n, 1), ch, int(size[0]), int(size[1])], name + "/sizes")
    return Value(4, cf=c.builder.node("Resize", [src, "", "", sizes], name, mode="linear",
                                      coordinate_transformation_mode=mode))
