"""The ONNX-building half shared by the TF.js and TFLite converters.

Both source formats are channels-last (NHWC); ONNX convolutions and pools are
channels-first (NCHW). Rather than wrapping every convolution in a pair of
transposes, each value the converter handles may exist in two forms:

* ``natural``: the source graph's own layout (what TF/TFLite would compute);
* ``cf``: a 4-D value held channels-first (NCHW).

Convolutions and pools produce ``cf`` values. Elementwise ops, activations, pads,
concatenations and reductions over a ``cf`` value stay channels-first (constants are
permuted to match), so a chain of conv -> batch-norm -> activation -> conv runs with
no transpose at all. Any other op (reshape, matmul, slices, graph outputs) asks for
the natural form, and a single Transpose is emitted then (once per value). Graph
inputs and outputs therefore keep the source model's NHWC semantics.

Constants are kept as numpy arrays until an ONNX node needs them, so values used only
as attributes (pad widths, axes, shapes) never become initializers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..errors import ConversionError

OPSET = 17
IR_VERSION = 8  # readable by every onnxruntime mien supports (>= 1.17)

TO_CF = (0, 3, 1, 2)  # NHWC -> NCHW
TO_NATURAL = (0, 2, 3, 1)  # NCHW -> NHWC

ONNX_DTYPES = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float16): TensorProto.FLOAT16,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.bool_): TensorProto.BOOL,
}


@dataclass
class Value:
    """One tensor of the source graph, in whichever ONNX forms exist so far."""

    rank: int | None
    natural: str | None = None  # ONNX name, source (channels-last) layout
    cf: str | None = None  # ONNX name, channels-first layout (4-D only)
    const: np.ndarray | None = None  # a constant, source layout

    @property
    def is_const(self) -> bool:
        return self.const is not None


def cf_axis(axis: int) -> int:
    """Position of a natural (NHWC) axis in the channels-first (NCHW) form."""
    return TO_NATURAL[axis % 4]


def conv_weight_from_hwio(w: np.ndarray) -> np.ndarray:
    """TF Conv2D kernel (H, W, I, O) -> ONNX (O, I, H, W)."""
    return np.ascontiguousarray(w.transpose(3, 2, 0, 1))


def conv_weight_from_ohwi(w: np.ndarray) -> np.ndarray:
    """TFLite CONV_2D kernel (O, H, W, I) -> ONNX (O, I, H, W)."""
    return np.ascontiguousarray(w.transpose(0, 3, 1, 2))


def depthwise_weight_from_hwcm(w: np.ndarray) -> np.ndarray:
    """TF depthwise kernel (H, W, C, M) -> ONNX grouped (C*M, 1, H, W); group = C."""
    h, wd, c, m = w.shape
    return np.ascontiguousarray(w.transpose(2, 3, 0, 1).reshape(c * m, 1, h, wd))


def depthwise_weight_from_tflite(w: np.ndarray, channels: int) -> np.ndarray:
    """TFLite depthwise kernel (1, H, W, C*M) -> ONNX grouped (C*M, 1, H, W)."""
    _, h, wd, cm = w.shape
    return depthwise_weight_from_hwcm(w.reshape(h, wd, channels, cm // channels))


class GraphBuilder:
    """Accumulates ONNX nodes and initializers; see the module docstring for layouts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._used: set[str] = set()
        self._reserved: set[str] = set()

    def reserve(self, names: Sequence[str]) -> None:
        """Keep these names free for graph outputs (internal tensors get other names)."""
        self._reserved.update(names)

    # -- names, constants, raw nodes ------------------------------------------------
    def fresh(self, hint: str) -> str:
        base = "".join(c if c.isalnum() or c in "/_.:-" else "_" for c in hint) or "t"
        name, i = base, 1
        while name in self._used or name in self._reserved:
            name = f"{base}__{i}"
            i += 1
        self._used.add(name)
        return name

    def initializer(self, array: np.ndarray, hint: str = "const") -> str:
        array = np.asarray(array)
        if array.dtype not in ONNX_DTYPES:
            raise ConversionError(f"constant {hint!r} has unsupported dtype {array.dtype}")
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op_type: str, inputs: Sequence[str], hint: str, n_out: int = 1, **attrs) -> str | list[str]:
        outs = [self.fresh(hint if i == 0 else f"{hint}:{i}") for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=self.fresh(f"{hint}/{op_type}"), **attrs))
        return outs[0] if n_out == 1 else outs

    def ints(self, values: Sequence[int], hint: str) -> str:
        return self.initializer(np.asarray(values, np.int64), hint)

    # -- values and their forms --------------------------------------------------
    def constant(self, array: np.ndarray) -> Value:
        array = np.asarray(array)
        return Value(rank=array.ndim, const=array)

    def add_input(self, name: str, shape: Sequence[int | None], dtype: int = TensorProto.FLOAT) -> Value:
        dims = ["batch" if (d is None or d < 0) and i == 0 else (None if d is None or d < 0 else int(d))
                for i, d in enumerate(shape)]
        self._used.add(name)
        self.inputs.append(helper.make_tensor_value_info(name, dtype, dims))
        return Value(rank=len(shape), natural=name)

    def natural(self, v: Value, hint: str = "v") -> str:
        if v.natural is None:
            if v.const is not None:
                v.natural = self.initializer(v.const, hint)
            else:
                v.natural = self.node("Transpose", [v.cf], f"{hint}/nhwc", perm=list(TO_NATURAL))
        return v.natural

    def channels_first(self, v: Value, hint: str = "v") -> str:
        if v.rank != 4:
            raise ConversionError(f"{hint}: a channels-first form needs a 4-D tensor, got rank {v.rank}")
        if v.cf is None:
            if v.const is not None:
                v.cf = self.initializer(v.const.transpose(TO_CF), f"{hint}/nchw")
            else:
                v.cf = self.node("Transpose", [v.natural], f"{hint}/nchw", perm=list(TO_CF))
        return v.cf

    def add_output(self, v: Value, name: str) -> None:
        src = self.natural(v, name)
        if name in self._reserved and name not in self._used:
            out = name
            self._used.add(name)
        else:
            out = self.fresh(name)
        self.nodes.append(helper.make_node("Identity", [src], [out], name=self.fresh(f"{out}/Identity")))
        self.outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, None))

    # -- layout-aware ops --------------------------------------------------------------
    def _cf_const(self, array: np.ndarray, hint: str) -> str:
        """A constant operand of an elementwise op on a channels-first value."""
        if array.ndim > 4:
            raise ConversionError(f"{hint}: cannot broadcast a rank-{array.ndim} constant over NHWC")
        if array.size == 1:
            return self.initializer(array.reshape(()), hint)
        full = array.reshape((1,) * (4 - array.ndim) + array.shape)
        return self.initializer(np.ascontiguousarray(full.transpose(TO_CF)), hint)

    def elementwise(self, op_type: str, operands: Sequence[Value], hint: str, rank: int | None = None, **attrs) -> Value:
        """Unary or n-ary elementwise op with numpy broadcasting; stays channels-first when it can."""
        ranks = [v.rank for v in operands if v.rank is not None]
        out_rank = rank if rank is not None else (max(ranks) if ranks else None)
        variables = [v for v in operands if not v.is_const]
        use_cf = (
            out_rank == 4
            and any(v.cf is not None for v in variables)
            and all(v.rank == 4 and (v.cf is not None or v.natural is not None) for v in variables)
            and all(v.rank <= 4 for v in operands if v.is_const)
        )
        if use_cf:
            names = [self._cf_const(v.const, f"{hint}/c") if v.is_const else self.channels_first(v, hint)
                     for v in operands]
            return Value(out_rank, cf=self.node(op_type, names, hint, **attrs))
        names = [self.natural(v, f"{hint}/c") for v in operands]
        return Value(out_rank, natural=self.node(op_type, names, hint, **attrs))

    def activation(self, kind: str, x: Value, hint: str, alpha: np.ndarray | float | None = None) -> Value:
        """Activations by their TF names (Relu, Relu6, Elu, LeakyRelu, Prelu, Sigmoid, Tanh, ...)."""
        if kind in ("Relu", "Sigmoid", "Tanh", "Elu", "Exp", "Neg", "Abs", "Sqrt", "Log", "Reciprocal", "Floor"):
            return self.elementwise(kind, [x], hint)
        if kind == "Relu6":
            return self.elementwise("Clip", [x, self.constant(np.float32(0)), self.constant(np.float32(6))], hint, rank=x.rank)
        if kind == "ReluN1To1":
            return self.elementwise("Clip", [x, self.constant(np.float32(-1)), self.constant(np.float32(1))], hint, rank=x.rank)
        if kind == "LeakyRelu":
            return self.elementwise("LeakyRelu", [x], hint, alpha=float(alpha if alpha is not None else 0.2))
        if kind == "Prelu":
            return self.elementwise("PRelu", [x, self.constant(np.asarray(alpha, np.float32))], hint, rank=x.rank)
        if kind == "Rsqrt":
            return self.elementwise("Reciprocal", [self.elementwise("Sqrt", [x], hint + "/sqrt")], hint)
        if kind == "Square":
            return self.elementwise("Mul", [x, x], hint)
        raise ConversionError(f"{hint}: unsupported activation {kind!r}")

    def conv(self, x: Value, weight_oihw: np.ndarray, bias: np.ndarray | None, hint: str, *,
             strides: Sequence[int], dilations: Sequence[int] = (1, 1), padding: str = "VALID",
             pads: Sequence[int] | None = None, group: int = 1) -> Value:
        """2-D convolution; ``padding`` is SAME, VALID or EXPLICIT (then ``pads`` = top, left, bottom, right)."""
        inputs = [self.channels_first(x, hint), self.initializer(weight_oihw.astype(np.float32), f"{hint}/w")]
        if bias is not None:
            inputs.append(self.initializer(np.asarray(bias, np.float32).reshape(-1), f"{hint}/b"))
        attrs = dict(strides=list(strides), dilations=list(dilations), group=int(group),
                     kernel_shape=list(weight_oihw.shape[2:]))
        attrs.update(self._padding(padding, pads, hint))
        return Value(4, cf=self.node("Conv", inputs, hint, **attrs))

    def pool(self, kind: str, x: Value, hint: str, *, kernel: Sequence[int], strides: Sequence[int],
             padding: str = "VALID") -> Value:
        """MaxPool or AvgPool (average excludes padding, as TF does)."""
        attrs = dict(kernel_shape=list(kernel), strides=list(strides), **self._padding(padding, None, hint))
        if kind == "AvgPool":
            return Value(4, cf=self.node("AveragePool", [self.channels_first(x, hint)], hint, count_include_pad=0, **attrs))
        if kind == "MaxPool":
            return Value(4, cf=self.node("MaxPool", [self.channels_first(x, hint)], hint, **attrs))
        raise ConversionError(f"{hint}: unsupported pool {kind!r}")

    @staticmethod
    def _padding(padding: str, pads: Sequence[int] | None, hint: str) -> dict:
        padding = padding.upper()
        if padding == "SAME":
            return {"auto_pad": "SAME_UPPER"}
        if padding == "VALID":
            return {"auto_pad": "VALID"}
        if padding == "EXPLICIT" and pads is not None:
            return {"pads": [int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])]}
        raise ConversionError(f"{hint}: unsupported padding {padding!r}")

    def pad(self, x: Value, widths: np.ndarray, hint: str, mode: str = "constant", value: float = 0.0) -> Value:
        """TF-style pad: ``widths`` is (rank, 2) of (before, after) in natural axis order."""
        widths = np.asarray(widths, np.int64).reshape(-1, 2)
        cf = x.rank == 4 and x.cf is not None
        if cf:
            widths = widths[list(TO_CF)]
        src = self.channels_first(x, hint) if cf else self.natural(x, hint)
        pads = self.ints(np.concatenate([widths[:, 0], widths[:, 1]]), f"{hint}/pads")
        inputs = [src, pads]
        if mode == "constant":
            inputs.append(self.initializer(np.asarray(value, np.float32), f"{hint}/value"))
        out = self.node("Pad", inputs, hint, mode=mode)
        return Value(x.rank, cf=out) if cf else Value(x.rank, natural=out)

    def concat(self, values: Sequence[Value], axis: int, hint: str) -> Value:
        rank = values[0].rank
        axis = axis % rank if rank else axis
        if rank == 4 and any(v.cf is not None for v in values):
            names = [self.channels_first(v, hint) for v in values]
            return Value(4, cf=self.node("Concat", names, hint, axis=cf_axis(axis)))
        names = [self.natural(v, hint) for v in values]
        return Value(rank, natural=self.node("Concat", names, hint, axis=axis))

    def reduce(self, op_type: str, x: Value, axes: Sequence[int], keepdims: bool, hint: str) -> Value:
        """ReduceMean / ReduceMax / ReduceSum / ... over natural axes."""
        axes = sorted(int(a) % x.rank for a in axes)
        out_rank = x.rank if keepdims else x.rank - len(axes)
        src, cf = self.natural(x, hint), False
        if x.rank == 4 and x.cf is not None:
            kept = [cf_axis(a) for a in range(4) if a not in axes]
            if keepdims or kept == sorted(kept):  # result's axis order unchanged by the layout
                src, cf, axes = x.cf, keepdims, sorted(cf_axis(a) for a in axes)
        if op_type == "ReduceSum":  # axes is an input from opset 13 on
            out = self.node(op_type, [src, self.ints(axes, f"{hint}/axes")], hint, keepdims=int(keepdims))
        else:
            out = self.node(op_type, [src], hint, axes=list(axes), keepdims=int(keepdims))
        return Value(out_rank, cf=out) if cf else Value(out_rank, natural=out)

    def op(self, op_type: str, inputs: Sequence[Value | str], hint: str, rank: int | None, **attrs) -> Value:
        """Any other op, computed in the natural layout."""
        names = [i if isinstance(i, str) else self.natural(i, f"{hint}/in") for i in inputs]
        return Value(rank, natural=self.node(op_type, names, hint, **attrs))

    # -- output -----------------------------------------------------------------------
    def model(self, doc: str = "") -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.initializers)
        model = helper.make_model(graph, producer_name="mien.convert", opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        model.doc_string = doc
        _prune(model)
        try:
            model = onnx.shape_inference.infer_shapes(model)  # fills the outputs' shapes
            del model.graph.value_info[:]
            onnx.checker.check_model(model)
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
            raise ConversionError(f"{self.name}: the converted graph is not valid ONNX: {exc}") from exc
        return model

    def save(self, path: Path, doc: str = "") -> None:
        model = self.model(doc)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        onnx.save_model(model, str(tmp))
        tmp.replace(path)


def _prune(model: onnx.ModelProto) -> None:
    """Drop nodes and initializers that no graph output depends on."""
    graph = model.graph
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    inits = [t for t in graph.initializer if t.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(inits)
