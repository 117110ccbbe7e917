"""Face generation with mien's own conditional GAN (trained by ``mien.generate.train``).

    >>> from mien.generate import FaceGenerator, finish
    >>> samples = FaceGenerator().sample(16, age="30-39", gender="female", seed=7, truncation=0.7)
    >>> images = finish(samples.images)      # 256 px, watermarked (operation "generate")

Faces that match a training identity are drawn again (``guard``, mien.generate.guard).
Inference runs on onnxruntime; torch is needed only to train. The weights are trained on
UTKFace and are for non-commercial research only.
"""

from .data import AGE_BANDS, GENDERS
from .gan import FaceGenerator, Samples, finish, grid, latents, save_gif

__all__ = ["AGE_BANDS", "GENDERS", "FaceGenerator", "Samples", "finish", "grid", "latents", "save_gif"]
