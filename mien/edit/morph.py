"""Morphs between faces and the mean face of a set, by landmark alignment and triangle warps.

Each face is first cut out by a similarity transform that puts its eyes, nose tip and mouth
corners on a fixed layout (``align_to_layout``), so every face shares one frame. A morph
frame at time t warps both faces onto the shape (1-t)A + tB over the mesh's triangles
(with a ring around the face and the frame's edges, so hair and background move too)
and cross-dissolves them; t follows an ease-in-out curve, so each transition starts and
ends gently. The mean face warps every face onto the mean shape and averages the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import cv2
import numpy as np

from ..align.similarity import similarity_transform
from ..align.templates import get_template
from ..errors import InputError, NoFaceError
from .face import FaceGeometry, find_face
from .warp import Triangulation, frame_points, warp_frame

DEFAULT_SIZE = 384
DEFAULT_FRAMES = 24  # per transition
HOLD_FRAMES = 4  # each face shown still before it starts to change
# Mesh points standing for the 5 detector landmarks: eye centres (contours), nose tip, mouth corners.
_KEY_POINTS = ((33, 133), (362, 263), (1,), (61,), (291,))
_LAYOUT_SCALE = 0.8  # the ArcFace layout shrunk so that hair and chin fit in the frame


def key_points(xy: np.ndarray) -> np.ndarray:
    return np.stack([np.asarray(xy)[list(idx), :2].mean(0) for idx in _KEY_POINTS])


def layout(size: int, zoom: float = 1.0) -> np.ndarray:
    """Where the 5 key points go in a ``size`` x ``size`` frame (``zoom`` > 1: the face larger)."""
    arc = get_template("arcface112").points / 112.0
    centred = (arc - arc.mean(0)) * _LAYOUT_SCALE * zoom
    return (centred + [0.5, 0.55]) * size


@dataclass(frozen=True, eq=False)
class AlignedFace:
    """A face cut out into the shared frame: the crop and its mesh points in crop pixels."""

    image: np.ndarray
    points: np.ndarray  # (468, 2)
    source: str


def align_to_layout(image: np.ndarray, geometry: FaceGeometry, size: int, source: str = "image",
                    zoom: float = 1.0) -> AlignedFace:
    m = similarity_transform(key_points(geometry.xy), layout(size, zoom))
    crop = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    pts = geometry.xy @ m[:, :2].T + m[:, 2]
    return AlignedFace(crop, pts, source)


def ease(t: np.ndarray | float) -> np.ndarray:
    """Smoothstep ease-in-out: 0 -> 0, 1 -> 1, zero speed at both ends."""
    t = np.clip(np.asarray(t, np.float64), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def blend_pair(a: AlignedFace, b: AlignedFace, t: float, tri: Triangulation) -> np.ndarray:
    """One morph frame at time ``t`` (0 = a, 1 = b)."""
    pa, pb = frame_points(a.points, tri.size), frame_points(b.points, tri.size)
    shape = (1 - t) * pa + t * pb
    wa = warp_frame(a.image, pa, shape, tri.triangles).astype(np.float32)
    wb = warp_frame(b.image, pb, shape, tri.triangles).astype(np.float32)
    return np.clip((1 - t) * wa + t * wb + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class Morph:
    """A morph through two or more faces: the frames, and what made them."""

    frames: tuple[np.ndarray, ...]
    sources: tuple[str, ...]
    frames_per_transition: int
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"faces": list(self.sources), "frames": len(self.frames),
                "frames_per_transition": self.frames_per_transition, "size": self.size, "easing": "smoothstep"}


def morph_faces(images: Sequence[np.ndarray], sources: Sequence[str] | None = None, frames: int = DEFAULT_FRAMES,
                size: int = DEFAULT_SIZE, largest: bool = True, hold: int = HOLD_FRAMES, zoom: float = 1.0) -> Morph:
    """Morph through ``images`` in order (each needs one face; the largest with ``largest``).

    ``zoom`` > 1 shows the faces larger (for tight crops, whose edges would otherwise be stretched).
    """
    if len(images) < 2:
        raise InputError(f"a morph needs at least two faces, got {len(images)}")
    if frames < 2:
        raise InputError(f"frames per transition must be at least 2, got {frames}")
    sources = list(sources or [f"image {i + 1}" for i in range(len(images))])
    faces = [align_to_layout(img, find_face(img, src, largest), size, src, zoom) for img, src in zip(images, sources)]
    mean = np.mean([f.points for f in faces], axis=0)
    tri = Triangulation.for_shape(mean, (size, size))
    out: list[np.ndarray] = []
    for a, b in zip(faces, faces[1:]):
        out.extend([a.image] * hold)
        for t in ease(np.arange(frames) / (frames - 1))[:-1]:
            out.append(blend_pair(a, b, float(t), tri))
    out.extend([faces[-1].image] * (hold + 1))
    return Morph(tuple(out), tuple(sources), frames, size)


@dataclass(frozen=True, eq=False)
class MeanFace:
    """The average of a set of faces: the image, the faces used and those skipped (with why)."""

    image: np.ndarray
    used: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"faces": len(self.used), "used": list(self.used), "size": self.size,
                "skipped": [{"image": s, "reason": r} for s, r in self.skipped]}


def mean_face(images: Sequence[np.ndarray], sources: Sequence[str] | None = None, size: int = DEFAULT_SIZE,
              largest: bool = True, zoom: float = 1.0) -> MeanFace:
    """Warp every face onto the mean shape and average; images without a usable face are skipped."""
    from ..errors import InputError as _Input

    sources = list(sources or [f"image {i + 1}" for i in range(len(images))])
    faces, skipped = [], []
    for img, src in zip(images, sources):
        try:
            faces.append(align_to_layout(img, find_face(img, src, largest), size, src, zoom))
        except _Input as exc:
            skipped.append((src, str(exc)))
    if not faces:
        raise NoFaceError(", ".join(sources[:3]) + ("..." if len(sources) > 3 else ""), "no image had a usable face")
    mean = np.mean([f.points for f in faces], axis=0)
    tri = Triangulation.for_shape(mean, (size, size))
    target = frame_points(mean, tri.size)
    acc = np.zeros((size, size, 3), np.float64)
    for f in faces:
        acc += warp_frame(f.image, frame_points(f.points, tri.size), target, tri.triangles)
    image = np.clip(acc / len(faces) + 0.5, 0, 255).astype(np.uint8)
    return MeanFace(image, tuple(f.source for f in faces), tuple(skipped), size)
