"""Virtual try-on: glasses and make-up on one face, from its mesh, irises and head pose."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageError, InputError
from .colour import Colour, parse_colour
from .face import FaceGeometry, check_pose, find_face
from .glasses import GLASSES_STYLES, Frame, PlacedGlasses, drawn_frame, png_frame, put_on
from . import makeup as _makeup
from .hair import hair_colour

MAX_YAW_GLASSES = 45.0  # beyond this one lens is mostly behind the nose
# Make-up in the order it is put on, and each one's strength relative to the caller's.
MAKEUP = {"hair": 1.15, "foundation": 0.5, "eyeshadow": 0.8, "blush": 0.6, "eyeliner": 1.3, "lipstick": 1.0}


def load_frame(glasses: str | os.PathLike | Frame | np.ndarray, colour: str | Colour | None = None) -> Frame:
    """A frame from a style name (``GLASSES_STYLES``), a PNG path, an RGBA array or a ``Frame``."""
    if isinstance(glasses, Frame):
        return glasses
    if isinstance(glasses, np.ndarray):
        return png_frame(glasses)
    text = str(glasses)
    if text.lower() in GLASSES_STYLES:
        return drawn_frame(text.lower(), parse_colour(colour) if colour is not None else None)
    path = Path(text)
    if path.suffix.lower() != ".png":
        raise InputError(f"unknown glasses {text!r}: give a style ({', '.join(GLASSES_STYLES)}) or a transparent .png")
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.mode not in ("RGBA", "LA", "PA") and "transparency" not in im.info:
                raise ImageError(f"{path}: a glasses frame must be a PNG with transparency (RGBA); "
                                 f"this one is {im.mode} without an alpha channel")
            rgba = np.asarray(im.convert("RGBA"))
    except (OSError, UnidentifiedImageError) as exc:
        raise ImageError(f"{path}: not a readable PNG ({exc})") from exc
    return png_frame(rgba, path.name)


@dataclass(frozen=True, eq=False)
class TryOn:
    """The image with everything put on, the face it went on and where the lenses landed."""

    image: np.ndarray
    face: FaceGeometry
    glasses: PlacedGlasses | None
    makeup: dict[str, Colour]

    @property
    def lens_error(self) -> float:
        """Mean distance between the rendered lens centres and the pupils, as a share of the IOD."""
        if self.glasses is None:
            return float("nan")
        d = np.linalg.norm(self.glasses.lens_centres - self.face.eye_centres, axis=1)
        return float(d.mean() / max(self.face.iod, 1e-6))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"face": self.face.to_dict()}
        if self.glasses is not None:
            out["glasses"] = {**self.glasses.to_dict(), "pupils": np.round(self.face.eye_centres, 1).tolist(),
                              "lens_error_iod": round(self.lens_error, 4)}
        for name, colour in self.makeup.items():
            out[name] = colour.to_dict()
        return out


def parse_makeup(**colours: Any) -> dict[str, Colour]:
    """``lipstick="red", blush=None, ...`` to the parsed colours of the make-up asked for."""
    unknown = sorted(set(colours) - set(MAKEUP))
    if unknown:
        raise InputError(f"unknown make-up {', '.join(unknown)}; known: {', '.join(MAKEUP)}")
    return {name: parse_colour(c) for name, c in colours.items() if c is not None}


def apply_try_on(image: np.ndarray, face: FaceGeometry, frame: Frame | None = None,
                 makeup: dict[str, Colour] | None = None, strength: float = 0.6, source: str = "image") -> TryOn:
    """Everything on one already-found face (video frames use this with smoothed geometry)."""
    out = image
    makeup = dict(makeup or {})
    for name, share in MAKEUP.items():
        if name in makeup:
            paint = hair_colour if name == "hair" else getattr(_makeup, name)
            out = paint(out, face, makeup[name], min(1.0, share * strength))
    placed = None
    if frame is not None:
        check_pose(face, source, max_yaw=MAX_YAW_GLASSES)
        placed = put_on(out, face, frame)
        out = placed.image
    return TryOn(out, face, placed, makeup)


def check_request(glasses: Any, makeup: dict[str, Colour], strength: float) -> None:
    if glasses is None and not makeup:
        raise InputError(f"nothing to try on: give glasses or make-up ({', '.join(MAKEUP)})")
    if not 0 < strength <= 1:
        raise InputError(f"strength must be in (0, 1], got {strength}")


def try_on(image: np.ndarray, glasses: Any = None, lipstick: str | Colour | None = None, blush: str | Colour | None = None,
           strength: float = 0.6, frame_colour: str | Colour | None = None, largest: bool = False,
           source: str = "image", **makeup: str | Colour | None) -> TryOn:
    """Glasses (a style, a transparent PNG) and/or make-up on the face in ``image``.

    Make-up: ``lipstick``, ``blush``, ``eyeliner``, ``eyeshadow``, ``foundation``, and ``hair`` (hair
    colour), each a colour.
    """
    colours = parse_makeup(lipstick=lipstick, blush=blush, **makeup)
    check_request(glasses, colours, strength)
    frame = load_frame(glasses, frame_colour) if glasses is not None else None
    face = find_face(image, source, largest, iris=frame is not None)
    return apply_try_on(image, face, frame, colours, strength, source)
