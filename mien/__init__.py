"""mien: face models that run offline, calibrated and measured.

Importing mien loads no model and fetches nothing; public names resolve lazily.

    >>> import mien
    >>> image = mien.load_image("group.jpg")
    >>> faces = mien.detect(image)            # Faces: boxes, scores, 5-point landmarks
    >>> aligned = mien.align(image, faces)    # 112x112 crops + affine matrices
"""

from __future__ import annotations

from ._lazy import lazy_exports

from ._version import __version__

_LAZY = {
    "MienError": "mien.errors",
    "InputError": "mien.errors",
    "ImageError": "mien.errors",
    "NoFaceError": "mien.errors",
    "MultipleFacesError": "mien.errors",
    "ModelError": "mien.errors",
    "ModelNotInstalledError": "mien.errors",
    "Faces": "mien.types",
    "AlignedFaces": "mien.types",
    "load_image": "mien.image",
    "save_image": "mien.image",
    "get_detector": "mien.detect",
    "detect": "mien.api",
    "align": "mien.api",
    "draw_faces": "mien.draw",
    "analyze": "mien.analyze",
    "Analyzer": "mien.analyze",
    "get_embedder": "mien.embed",
    "embed_image": "mien.match",
    "verify": "mien.match",
    "verify_images": "mien.match",
    "anonymize_image": "mien.anonymize",
    "anonymize_video": "mien.anonymize",
}

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
