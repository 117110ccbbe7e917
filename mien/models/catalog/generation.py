"""Weights mien trained itself and ships inside the package (Source registry "bundled")."""

from ..registry import ModelSpec, Source
from ..._version import __version__

SPECS = [
    ModelSpec(
        name="gan128",
        task="generation",
        source=Source("bundled", "mien", __version__, "generate/weights/gan128.onnx"),
        sha256="1c0d6146eeebc5eb711d9a2e5ec187a42e18914ffd1c791e357231cbda1398e6",
        license="trained by mien on UTKFace: non-commercial research only",
        commercial=False,
        format="onnx",
        size_bytes=9314172,
        input_size=(128, 128),
        normalization={"output": "tanh, [-1, 1] -> (x + 1) * 127.5", "z": "128-D standard normal"},
        description="Conditional ResNet face GAN (age band x gender), 128x128 output, the default; "
                    "see mien/generate/weights/MODEL_CARD.md.",
    ),
    ModelSpec(
        name="gan128-guard",
        task="generation-guard",
        source=Source("bundled", "mien", __version__, "generate/weights/gan128_guard.npz"),
        sha256="3e651271880e48dc60d1162790f5cb4acccc96424ebad54f186684e01951a6a6",
        license="dlib-resnet templates of UTKFace training faces: non-commercial research only",
        commercial=False,
        format="npz",
        size_bytes=4389732,
        thresholds={"gallery_1_to_n": 0.3748, "ages_0_9": 0.2276},
        normalization={"templates": "dlib-resnet 128-D of the largest CenterFace face on the 256 px bicubic upscale, "
                                    "float16, rows shuffled"},
        description="Memorisation guard of gan128: the 17,142 training faces' templates and the 1:N same-person "
                    "bar (LFW per-pair FMR 5.9e-7; for ages 0-9, which dlib cannot separate, the 5th percentile of "
                    "unseen children's nearest distances); faces nearer are drawn again. See mien/generate/guard.py.",
        notes="Made by benchmarks/generation.py --part guard; needs centerface and dlib-resnet-onnx.",
    ),
    ModelSpec(
        name="gan64",
        task="generation",
        source=Source("bundled", "mien", __version__, "generate/weights/gan64.onnx"),
        sha256="bb24e5deadd9575cf821f42fd98dc716c197fe57f389c47e0081b513f6e084c4",
        license="trained by mien on UTKFace: non-commercial research only",
        commercial=False,
        format="onnx",
        size_bytes=4137070,
        input_size=(64, 64),
        normalization={"output": "tanh, [-1, 1] -> (x + 1) * 127.5", "z": "128-D standard normal"},
        description="Older conditional DCGAN (age band x gender), 64x64 output, trained on CPU; "
                    "see mien/generate/weights/MODEL_CARD.md.",
    ),
]
