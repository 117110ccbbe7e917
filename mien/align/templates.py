"""Canonical 5-point templates (eye, eye, nose, mouth corner, mouth corner; image-left first)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UnknownModelError


@dataclass(frozen=True)
class Template:
    name: str
    size: tuple[int, int]  # (width, height) of the crop
    points: np.ndarray  # (5, 2) float64, crop pixels


TEMPLATES: dict[str, Template] = {
    # The 112x112 crop ArcFace/InsightFace recognisers were trained on.
    "arcface112": Template(
        "arcface112",
        (112, 112),
        np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]),
    ),
    # The 150x150 chip of dlib's get_face_chip(size=150, padding=0.25), expressed for mien's
    # 5 points: median positions of CenterFace landmarks after mapping 300 LFW faces with
    # dlib's own 5-point chip transform, made left-right symmetric.
    "dlib150": Template(
        "dlib150",
        (150, 150),
        np.array([[46.9, 47.2], [103.1, 47.2], [75.0, 79.6], [51.4, 105.6], [98.6, 105.6]]),
    ),
}


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownModelError(name, list(TEMPLATES), kind="alignment template") from None


def scaled_template(name: str, size: int) -> Template:
    """A template resized to a square crop of ``size`` pixels (same geometry)."""
    base = get_template(name)
    factor = size / base.size[0]
    return Template(f"{name}@{size}", (size, size), base.points * factor)
