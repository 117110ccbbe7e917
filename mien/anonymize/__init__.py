"""Face anonymisation for photos and videos.

    >>> from mien.anonymize import anonymize_image, anonymize_video
    >>> result = anonymize_image("group.jpg", method="pixelate")
    >>> result.image, result.faces, result.hidden
    >>> report = anonymize_video("in.mp4", "out.mp4", every=3)

Methods (``Blur``, ``Pixelate``, ``Fill``, ``EllipseMask``) hide the whole head region with
a margin, at a strength relative to the head's size. Consent exemptions plug in through
the ``Exemption`` protocol (``is_exempt(image, faces) -> bool mask``).
"""

from __future__ import annotations

from .._lazy import lazy_exports

_LAZY = {
    "Method": "base", "Margin": "base", "head_boxes": "base",
    "Blur": "blur", "Pixelate": "pixelate", "Fill": "fill", "EllipseMask": "ellipse",
    "METHODS": "methods", "DEFAULT_METHOD": "methods", "get_method": "methods",
    "ANONYMIZE_THRESHOLDS": "detection", "anonymize_detector": "detection",
    "Exemption": "exempt", "EmbeddingExemption": "exempt",
    "AnonymizedImage": "photo", "FileReport": "photo", "anonymize_image": "photo", "anonymize_file": "photo",
    "anonymize_files": "photo", "clean_exif": "photo",
    "AnonymizedFrame": "video", "VideoAnonymizer": "video", "VideoReport": "video", "anonymize_video": "video",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
