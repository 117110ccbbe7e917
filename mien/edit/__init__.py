"""Face editing with geometry and classical image processing (no face-swap or parsing network).

* ``morph_faces`` / ``mean_face``: landmark-aligned triangle warps and cross-dissolves;
* ``swap_face``: a source face warped onto a target's mesh, colour-matched in LAB per
  region and Poisson-blended inside the face oval (needs the source person's consent);
* ``try_on``: glasses seated by head pose and the irises; lipstick, blush, eyeliner, eyeshadow and
  foundation on the mesh's regions; hair colour on a hair mask from person segmentation.

The ``*_file(s)`` functions read and write files with mien's watermark and provenance
record; importing this package loads no model.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "FaceGeometry": "face", "find_face": "face", "find_faces": "face",
    "Morph": "morph", "MeanFace": "morph", "morph_faces": "morph", "mean_face": "morph",
    "Swap": "swap", "swap_face": "swap",
    "TryOn": "tryon", "try_on": "tryon", "GLASSES_STYLES": "glasses",
    "parse_colour": "colour", "Colour": "colour", "hair_mask": "hair", "recolour_hair": "hair", "HAIR_METHODS": "hair",
    "morph_files": "files", "mean_face_files": "files", "swap_file": "files", "tryon_file": "files",
    "swap_video": "video", "tryon_video": "video",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'mien.edit' has no attribute {name!r}")


__all__ = sorted(_LAZY)
