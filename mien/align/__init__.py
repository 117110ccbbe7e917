"""Face alignment: similarity transforms from 5 landmarks to canonical templates, and back."""

from .similarity import align_faces, invert_affine, paste_back, similarity_transform
from .templates import TEMPLATES, Template, get_template, scaled_template

__all__ = ["TEMPLATES", "Template", "align_faces", "get_template", "invert_affine", "paste_back", "scaled_template", "similarity_transform"]
