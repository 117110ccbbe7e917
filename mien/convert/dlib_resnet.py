"""dlib's ResNet face descriptor (``dlib_face_recognition_resnet_model_v1.dat``) to ONNX.

The .dat file is dlib's own binary serialisation of the network type used in dlib's
``dnn_face_recognition_ex.cpp`` (a 29-layer ResNet ending in ``fc_no_bias<128>`` under a
``loss_metric``). This module reads it in pure Python and rebuilds the same network as
an ONNX graph with a dynamic batch dimension, so it runs on onnxruntime in batches.

dlib's serialisation, as far as this file needs it:

* integers: one control byte (low nibble: number of little-endian bytes that follow;
  high bit: negative), then the bytes;
* strings: an integer length, then the characters; booleans: the characters ``'0'``/``'1'``;
* scalar floats: an integer mantissa and an integer exponent (value = m * 2**e);
* tensors: version 2, num_samples, k, nr, nc as integers, then the values as raw
  little-endian float32; alias tensors (views into a layer's ``params``): 5 integers;
* a network is serialised outside in: every layer writes its version, then its
  sub-network, then its own details (a type string such as ``con_4`` and its fields)
  and some training state (three flags, three tensors, usually empty). Tag and skip
  layers write only a version. The innermost layer also writes the input layer first
  (``input_rgb_image_sized`` with the per-channel means and the chip size) and ends with
  the sample expansion factor.

The rebuilt graph takes ``input``: float32 (N, 150, 150, 3) RGB pixel values 0-255 (a
dlib face chip) and returns ``embedding``: float32 (N, 128). The mean subtraction and
the 1/256 scale of dlib's input layer are inside the graph; each ``affine_`` layer
(batch norm frozen into a per-channel scale and shift) is folded into the convolution
before it. When two branches of a residual block differ in size, dlib adds them with
zero padding at the end of each axis; the graph pads the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConversionError

# -- the network type, outside in ------------------------------------------------------
# Tokens: "fc", "avg_pool", "max_pool", "relu", "con", "affine", "add_prev<n>",
# "tag<n>", "skip<n>". Tag and skip layers carry nothing but a version in the file.


def _block() -> list[str]:
    # BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
    return ["affine", "con", "relu", "affine", "con"]


def _ares() -> list[str]:
    # relu<add_prev1<block<N,affine,1,tag1<SUBNET>>>>
    return ["relu", "add_prev1", *_block(), "tag1"]


def _ares_down() -> list[str]:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<SUBNET>>>>>>>
    return ["relu", "add_prev2", "avg_pool", "skip1", "tag2", *_block(), "tag1"]


def network_layout() -> list[str]:
    """Layer tokens of dlib's face recognition ResNet, from the output to the input."""
    level0 = _ares_down()
    level1 = _ares() * 2 + _ares_down()
    level2 = _ares() * 2 + _ares_down()
    level3 = _ares() * 3 + _ares_down()
    level4 = _ares() * 3
    return ["fc", "avg_pool", *level0, *level1, *level2, *level3, *level4, "max_pool", "relu", "affine", "con"]


# -- reading dlib's serialisation ------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ConversionError(f"dlib file ends early at byte {self.pos} (wanted {n} more)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def int(self) -> int:
        control = self._take(1)[0]
        size = control & 0x0F
        if size > 8:
            raise ConversionError(f"bad integer control byte {control:#x} at byte {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little") if size else 0
        return -value if control & 0x80 else value

    def string(self) -> str:
        n = self.int()
        if not 0 <= n < 256:
            raise ConversionError(f"implausible string length {n} at byte {self.pos}")
        return self._take(n).decode("ascii", errors="replace")

    def expect(self, *names: str) -> str:
        at = self.pos
        got = self.string()
        if got not in names:
            raise ConversionError(f"expected {' or '.join(names)} at byte {at}, found {got!r}")
        return got

    def bool(self) -> bool:
        char = self._take(1)
        if char not in (b"0", b"1"):
            raise ConversionError(f"bad boolean {char!r} at byte {self.pos - 1}")
        return char == b"1"

    def float(self) -> float:
        mantissa = self.int()
        exponent = self.int()
        return float(mantissa) * 2.0**exponent if mantissa else 0.0

    def tensor(self) -> np.ndarray:
        version = self.int()
        if version != 2:
            raise ConversionError(f"unsupported dlib tensor version {version} at byte {self.pos}")
        shape = tuple(self.int() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32)
        return values.reshape(shape)

    def alias(self) -> tuple[int, ...]:
        return tuple(self.int() for _ in range(5))


@dataclass
class Layer:
    """One parsed layer: its token and the fields the ONNX graph needs."""

    kind: str
    params: dict = field(default_factory=dict)


def _read_training_state(r: _Reader) -> None:
    for _ in range(3):
        r.bool()
    for _ in range(3):
        r.tensor()


def _read_details(r: _Reader, kind: str) -> Layer:
    if kind == "con":
        r.expect("con_4", "con_5")
        params = r.tensor().ravel()
        n, nr, nc, sy, sx, py, px = (r.int() for _ in range(7))
        filters = r.alias()
        r.alias()  # biases
        for _ in range(4):
            r.float()  # learning-rate and weight-decay multipliers
        k = filters[2]  # (version, num_filters, k, nr, nc)
        w_size = n * k * nr * nc
        if params.size != w_size + n:
            raise ConversionError(f"con_ layer with {params.size} parameters, expected {w_size + n}")
        return Layer("con", {
            "weight": params[:w_size].reshape(n, k, nr, nc), "bias": params[w_size:],
            "stride": (sy, sx), "pad": (py, px),
        })
    if kind == "affine":
        r.expect("affine_", "affine_2")
        params = r.tensor().ravel()
        r.alias()
        r.alias()
        mode = r.int()
        if mode != 0:
            raise ConversionError(f"affine_ layer in mode {mode}; only per-channel (conv) mode is supported")
        half = params.size // 2
        return Layer("affine", {"gamma": params[:half], "beta": params[half:]})
    if kind in ("max_pool", "avg_pool"):
        r.expect(f"{kind}_2")
        nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
        return Layer(kind, {"size": (nr, nc), "stride": (sy, sx), "pad": (py, px)})
    if kind == "relu":
        r.expect("relu_")
        return Layer("relu")
    if kind.startswith("add_prev"):
        r.expect("add_prev_")
        return Layer(kind)
    if kind == "fc":
        r.expect("fc_2")
        n_out, n_in = r.int(), r.int()
        params = r.tensor().ravel()
        r.alias()
        r.alias()
        bias_mode = r.int()
        for _ in range(4):
            r.float()
        if bias_mode != 1 or params.size != n_in * n_out:
            raise ConversionError(f"fc_ layer with bias mode {bias_mode} and {params.size} parameters; expected fc_no_bias")
        return Layer("fc", {"weight": params.reshape(n_in, n_out)})
    raise ConversionError(f"no reader for dlib layer {kind!r}")


@dataclass
class DlibNet:
    mean_rgb: tuple[float, float, float]
    chip_size: tuple[int, int]
    layers: list[Layer]  # input side first


def parse(data: bytes) -> DlibNet:
    """Parse a serialised ``loss_metric`` ResNet into layers, input side first."""
    r = _Reader(data)
    version = r.int()
    if version != 1:
        raise ConversionError(f"not a dlib network file (loss layer version {version})")
    r.expect("loss_metric_2", "loss_metric")
    r.float()  # margin
    r.float()  # distance threshold
    layout = network_layout()
    for i, kind in enumerate(layout):
        want = (1,) if kind.startswith(("tag", "skip")) else (3,) if i == len(layout) - 1 else (2,)
        got = r.int()
        if got not in want:
            raise ConversionError(
                f"layer {i} ({kind}): version {got}, expected {want[0]}; this is not dlib's face ResNet"
            )
    r.expect("input_rgb_image_sized")
    mean = (r.float(), r.float(), r.float())
    size = (r.int(), r.int())
    layers: list[Layer] = []
    for i, kind in enumerate(reversed(layout)):
        if kind.startswith(("tag", "skip")):
            layers.append(Layer(kind))
            continue
        layers.append(_read_details(r, kind))
        _read_training_state(r)
        if i == 0:
            r.int()  # sample expansion factor of the input layer
    if r.pos != len(data):
        raise ConversionError(f"{len(data) - r.pos} unread bytes after the network")
    return DlibNet(mean, size, layers)


# -- building the ONNX graph ----------------------------------------------------------------


def _pool_out(n: int, size: int, stride: int, pad: int) -> int:
    return 1 + (n + 2 * pad - size) // stride


def build_onnx(net: DlibNet):
    """The ONNX model for a parsed network (input NHWC RGB 0-255, output N x 128)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits: list = []
    counter = [0]

    def name(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(prefix: str, value: np.ndarray) -> str:
        n = name(prefix)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), n))
        return n

    def node(op: str, inputs: list[str], **attrs) -> str:
        out = name(op.lower())
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    width, height = net.chip_size
    mean = np.asarray(net.mean_rgb, np.float32).reshape(1, 3, 1, 1)
    x = node("Transpose", ["input"], perm=[0, 3, 1, 2])
    x = node("Sub", [x, const("mean", mean)])
    x = node("Div", [x, const("scale", np.asarray(256.0, np.float32))])
    shape = (3, height, width)  # (C, H, W) of the current tensor
    tags: dict[str, tuple[str, tuple[int, int, int]]] = {}

    layers = net.layers
    i = 0
    while i < len(layers):
        layer = layers[i]
        p = layer.params
        if layer.kind == "con":
            w, b = p["weight"].astype(np.float64), p["bias"].astype(np.float64)
            if i + 1 < len(layers) and layers[i + 1].kind == "affine":
                gamma = layers[i + 1].params["gamma"].astype(np.float64)
                beta = layers[i + 1].params["beta"].astype(np.float64)
                w = w * gamma[:, None, None, None]
                b = b * gamma + beta
                i += 1
            (sy, sx), (py, px) = p["stride"], p["pad"]
            x = node("Conv", [x, const("w", w.astype(np.float32)), const("b", b.astype(np.float32))],
                     kernel_shape=list(w.shape[2:]), strides=[sy, sx], pads=[py, px, py, px])
            shape = (w.shape[0], _pool_out(shape[1], w.shape[2], sy, py), _pool_out(shape[2], w.shape[3], sx, px))
        elif layer.kind == "affine":
            c = len(p["gamma"])
            x = node("Mul", [x, const("gamma", p["gamma"].reshape(1, c, 1, 1))])
            x = node("Add", [x, const("beta", p["beta"].reshape(1, c, 1, 1))])
        elif layer.kind == "relu":
            x = node("Relu", [x])
        elif layer.kind in ("max_pool", "avg_pool"):
            (kh, kw), (sy, sx), (py, px) = p["size"], p["stride"], p["pad"]
            if kh == 0 and kw == 0:
                x = node("GlobalAveragePool", [x])
                shape = (shape[0], 1, 1)
            else:
                if layer.kind == "avg_pool" and (py or px):
                    raise ConversionError("padded avg_pool is not supported")
                op = "MaxPool" if layer.kind == "max_pool" else "AveragePool"
                x = node(op, [x], kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
                shape = (shape[0], _pool_out(shape[1], kh, sy, py), _pool_out(shape[2], kw, sx, px))
        elif layer.kind.startswith("tag"):
            tags[layer.kind[3:]] = (x, shape)
        elif layer.kind.startswith("skip"):
            x, shape = tags[layer.kind[4:]]
        elif layer.kind.startswith("add_prev"):
            other, other_shape = tags[layer.kind[8:]]
            out_shape = tuple(max(a, b) for a, b in zip(shape, other_shape))
            x = node("Add", [_pad_to(node, const, x, shape, out_shape), _pad_to(node, const, other, other_shape, out_shape)])
            shape = out_shape
        elif layer.kind == "fc":
            x = node("Flatten", [x], axis=1)
            x = node("MatMul", [x, const("fc", p["weight"])])
        else:  # pragma: no cover - network_layout() lists every kind
            raise ConversionError(f"no ONNX translation for {layer.kind!r}")
        i += 1

    nodes[-1].output[0] = "embedding"
    graph = helper.make_graph(
        nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", height, width, 3])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", int(net.layers[-1].params["weight"].shape[1])])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="mien.convert.dlib_resnet")
    model.ir_version = 8
    return model


def _pad_to(node, const, x: str, shape: tuple[int, int, int], target: tuple[int, int, int]) -> str:
    if shape == target:
        return x
    ends = [0] + [t - s for s, t in zip(shape, target)]
    pads = np.asarray([0, 0, 0, 0] + ends, np.int64)
    return node("Pad", [x, const("pads", pads)])


def convert(src: Path, dst: Path) -> None:
    """Read dlib's .dat network at ``src`` and write the equivalent ONNX model to ``dst``."""
    import onnx

    net = parse(Path(src).read_bytes())
    model = build_onnx(net)
    onnx.checker.check_model(model)
    Path(dst).write_bytes(model.SerializeToString())
