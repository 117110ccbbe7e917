"""Age and gender heads mien fitted on UTKFace, shipped inside the package (Source "bundled").

The heads are tiny numpy models on CC0 features (dlib-age, dlib-gender, dlib-resnet), but
they were trained on UTKFace, whose licence is non-commercial research: so are they.
Model card: mien/attributes/heads/MODEL_CARD.md; made by benchmarks/attributes_heads.py --fit.
"""

from ..._version import __version__
from ..registry import ModelSpec, Source

SPECS = [
    ModelSpec(
        name="utk-heads",
        task="age+gender",
        source=Source("bundled", "mien", __version__, "attributes/heads/utk_heads.npz"),
        sha256="f6c6dd5391d5f707a9c9d5faa3bc3da509c205c3eccbc42fac56d118a3da093a",
        license="trained by mien on UTKFace: non-commercial research only",
        commercial=False,
        format="npz",
        size_bytes=122382,
        normalization={"features": "dlib-age pool/probabilities, dlib-gender hidden/logit, dlib-resnet 128-D; "
                                   "chip and mirror averaged; standardised by the file's mean/scale"},
        description="UTKFace-trained age (regression) and gender (logistic) heads on CC0 face features "
                    "(attribute models utk-age, utk-gender); see mien/attributes/heads/MODEL_CARD.md.",
        notes="Needs dlib-age, dlib-gender, dlib-resnet-onnx and dlib-shape5 installed (mien models pull).",
    ),
]
