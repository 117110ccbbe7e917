"""Age and gender heads mien fitted on UTKFace, shipped inside the package (Source "bundled").

The heads are tiny numpy models on CC0 features (dlib-age, dlib-gender, dlib-resnet) and on
faceres's outputs (trained on VGGFace2: research only), and they were trained on UTKFace,
whose licence is non-commercial research: so are they.
Model card: mien/attributes/heads/MODEL_CARD.md; made by benchmarks/attributes_heads.py --fit.
"""

from ..._version import __version__
from ..registry import ModelSpec, Source

SPECS = [
    ModelSpec(
        name="utk-heads",
        task="age+gender",
        source=Source("bundled", "mien", __version__, "attributes/heads/utk_heads.npz"),
        sha256="72189afbb5458d15230c94bd88217ed605118f0a8c3f078f2830dd66c18779b0",
        license="trained by mien on UTKFace, partly on faceres (VGGFace2) outputs: non-commercial research only",
        commercial=False,
        format="npz",
        size_bytes=78190,
        normalization={"features": "dlib-age pool/probabilities, dlib-gender hidden/logit, dlib-resnet 128-D "
                                   "(chip and mirror averaged); faceres age probabilities and male log-odds; "
                                   "standardised by the file's mean/scale"},
        description="UTKFace-trained age (regression) and gender (logistic) heads on dlib and faceres features "
                    "(attribute models utk-age, utk-gender); see mien/attributes/heads/MODEL_CARD.md.",
        notes="Needs dlib-age, dlib-gender, dlib-resnet-onnx, dlib-shape5 and faceres installed (mien models pull).",
    ),
]
