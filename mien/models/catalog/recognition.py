"""Recognition models that mien builds at pull time from shipped weights."""

from ..registry import ModelSpec
from .dlib import SPECS as _DLIB

_RESNET = next(s for s in _DLIB if s.name == "dlib-resnet")

SPECS = [
    ModelSpec(
        name="dlib-resnet-onnx",
        task="embedding",
        source=_RESNET.source,
        sha256=_RESNET.sha256,
        license=_RESNET.license,
        commercial=_RESNET.commercial,
        format="onnx",
        size_bytes=22437747,
        convert="dlib",
        input_size=(150, 150),
        normalization={"layout": "NHWC", "range": "0-255 RGB", "mean_rgb": [122.782, 117.001, 104.298], "scale": 1 / 256},
        description="dlib's ResNet face descriptor (128-D) rebuilt as ONNX from the .dat by mien's converter; "
        "equal to dlib's output within 1e-6, batched on onnxruntime.",
    ),
]
