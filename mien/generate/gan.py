"""Run mien's conditional face GAN on onnxruntime: samples, grids and latent interpolations.

The generators (``gan128``, the default, and the older ``gan64``, bundled in
``mien/generate/weights``) map a 128-D latent, an age band and a gender to a 128x128 or
64x64 face. Outputs are upscaled (bicubic) to ``size`` px, 256 by default, and then carry
mien's invisible watermark: the network's face is too small to hold it, so the mark is
embedded at output resolution. Where the model ships a memorisation guard (gan128 does), a
sampled face that is as near a training face as the same person would be is drawn again
(:mod:`mien.generate.guard`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import GuardError, InputError
from .data import AGE_BANDS, GENDERS, parse_age_band, parse_gender

MODEL = "gan128"
Z_DIM = 128
OUTPUT_SIZE = 256
MAX_REDRAWS = 8  # far more than the guard has needed (benchmarks/generation.py reports redraws)


@dataclass(frozen=True)
class Samples:
    """Generated faces (N, S, S, 3) uint8 with the conditions and latents that made them."""

    images: np.ndarray
    age_bands: np.ndarray  # indices into AGE_BANDS
    genders: np.ndarray  # indices into GENDERS
    latents: np.ndarray  # (N, 128) float32
    # Memorisation guard (mien.generate.guard): distance of each face to its nearest training
    # face (NaN: no face found, or not checked), the bar, and how many faces were drawn again.
    nearest_training: np.ndarray | None = None
    guard_thresholds: np.ndarray | None = None  # the bar each face had to clear (its age band's)
    redrawn: int = 0

    def labels(self) -> list[str]:
        return [f"{GENDERS[g]} {AGE_BANDS[a]}" for a, g in zip(self.age_bands, self.genders)]


def latents(n: int, seed: int | Sequence[int] | None = None, truncation: float = 1.0) -> np.ndarray:
    """n latents; with truncation < 1, drawn from a normal truncated at +-2 and scaled by it."""
    if n < 1:
        raise InputError(f"number of images must be at least 1, not {n}")
    if not 0 < truncation <= 1:
        raise InputError(f"truncation must be in (0, 1], not {truncation}")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, Z_DIM))
    if truncation < 1:
        bad = np.abs(z) > 2
        while bad.any():
            z[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(z) > 2
        z *= truncation
    return z.astype(np.float32)


def _conditions(values: int | str | Sequence[int | str] | None, n: int, parse, count: int, rng) -> np.ndarray:
    if values is None:
        return rng.integers(0, count, n).astype(np.int64)
    if isinstance(values, (int, np.integer, str)):
        values = [values] * n
    out = np.array([v if isinstance(v, (int, np.integer)) else parse(v) for v in values], np.int64)
    if len(out) != n or (out < 0).any() or (out >= count).any():
        raise InputError(f"need {n} conditions in 0..{count - 1}, got {list(values)}")
    return out


class FaceGenerator:
    """The conditional GAN on onnxruntime. ``model`` is a registry name of task 'generation'."""

    def __init__(self, model: str = MODEL, threads: int | None = None) -> None:
        from ..models.runtime import onnx_session

        self.model = model
        self.session = onnx_session(model, threads)
        self.size = int(self.session.get_outputs()[0].shape[-1])  # network resolution

    def raw(self, z: np.ndarray, age_bands: np.ndarray, genders: np.ndarray, batch: int = 64) -> np.ndarray:
        """Network output for given latents and condition indices: (N, S, S, 3) uint8, unmarked."""
        out = []
        for i in range(0, len(z), batch):
            img = self.session.run(None, {"z": z[i:i + batch], "age": age_bands[i:i + batch], "gender": genders[i:i + batch]})[0]
            out.append(np.clip((img.transpose(0, 2, 3, 1) + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8))
        return np.concatenate(out)

    def sample(self, n: int, age: int | str | Sequence | None = None, gender: int | str | Sequence | None = None,
               seed: int | None = None, truncation: float = 1.0, guard: bool | None = None) -> Samples:
        """n faces at the network's resolution, unmarked. Unset conditions are drawn at random.

        ``guard`` (default: on where the model ships one) draws again, with new latents and the
        same conditions, every face that the memorisation guard finds as near a training face
        as the same person would be; see :mod:`mien.generate.guard`.
        """
        z = latents(n, seed, truncation)
        rng = np.random.default_rng(None if seed is None else seed + 1)
        bands = _conditions(age, n, parse_age_band, len(AGE_BANDS), rng)
        genders = _conditions(gender, n, parse_gender, len(GENDERS), rng)
        images = self.raw(z, bands, genders)
        if not self._guarded(guard):
            return Samples(images, bands, genders, z)
        from .guard import load_guard

        g = load_guard(self.model)
        nearest = g.nearest(images)
        redrawn = 0
        for attempt in range(1, MAX_REDRAWS + 1):
            bad = np.flatnonzero(g.too_near(nearest, bands))
            if not len(bad):
                break
            redrawn += len(bad)
            z[bad] = latents(len(bad), None if seed is None else [seed, attempt], truncation)
            images[bad] = self.raw(z[bad], bands[bad], genders[bad])
            nearest[bad] = g.nearest(images[bad])
        else:
            left = int(g.too_near(nearest, bands).sum())
            if left:
                raise GuardError(f"{left} face(s) still matched a training face after {MAX_REDRAWS} redraws; "
                                 "try another seed")
        return Samples(images, bands, genders, z, nearest, g.band_thresholds[bands], redrawn)

    def _guarded(self, guard: bool | None) -> bool:
        from .guard import has_guard

        return has_guard(self.model) if guard is None else guard

    def interpolate(self, seed_a: int, seed_b: int, frames: int = 24, age: int | str = "20-29",
                    gender: int | str = "female", truncation: float = 1.0, guard: bool | None = None) -> np.ndarray:
        """Faces along a spherical path between the latents of two seeds: (frames, S, S, 3).

        With the guard on (the default where the model ships one), a path on which any frame
        matches a training face is refused with :class:`GuardError`: frames cannot be drawn again
        without breaking the morph.
        """
        if frames < 2:
            raise InputError(f"an interpolation needs at least 2 frames, not {frames}")
        za, zb = latents(1, seed_a, truncation)[0], latents(1, seed_b, truncation)[0]
        t = np.linspace(0, 1, frames)
        z = np.stack([slerp(za, zb, x) for x in t]).astype(np.float32)
        bands = _conditions(age, frames, parse_age_band, len(AGE_BANDS), None)
        genders = _conditions(gender, frames, parse_gender, len(GENDERS), None)
        frames_out = self.raw(z, bands, genders)
        if self._guarded(guard):
            from .guard import load_guard

            g = load_guard(self.model)
            nearest = g.nearest(frames_out)
            bad = np.flatnonzero(g.too_near(nearest, bands))
            if len(bad):
                i = int(bad[0])
                raise GuardError(f"frame {i} of the morph from seed {seed_a} to {seed_b} matches a training face "
                                 f"(distance {nearest[i]:.3f} < {g.band_thresholds[bands[i]]:.3f}); pick other seeds")
        return frames_out


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
    omega = np.arccos(np.clip(cos, -1, 1))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def upscale(images: np.ndarray, size: int = OUTPUT_SIZE) -> np.ndarray:
    """Bicubic upscale of (N, h, w, 3) faces to (N, size, size, 3)."""
    import cv2

    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_CUBIC) for im in images])


def grid(images: np.ndarray, cols: int | None = None, pad: int = 0) -> np.ndarray:
    """Tile (N, h, w, 3) images into one image, row by row; empty cells are black."""
    n, h, w, _ = images.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    out = np.zeros((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, 3), np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = im
    return out


def there_and_back(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The frames forward, then backward without repeating either end: a seamless loop."""
    frames = list(frames)
    return frames + frames[-2:0:-1]


def save_gif(frames: Sequence[np.ndarray], path: str | Path, fps: float = 12.0, comment: bytes = b"") -> Path:
    """An endless, back-and-forth animated GIF."""
    from PIL import Image

    seq = [Image.fromarray(f) for f in there_and_back(frames)]
    path = Path(path)
    seq[0].save(path, save_all=True, append_images=seq[1:], duration=int(1000 / fps), loop=0, comment=comment)
    return path


def finish(images: np.ndarray, size: int = OUTPUT_SIZE, as_grid: bool = False, cols: int | None = None) -> list[np.ndarray]:
    """Upscale faces to ``size`` px and watermark them (operation 'generate').

    Returns one marked image per face, or one marked grid of all of them.
    """
    from ..provenance import mark

    if size < 128:
        raise InputError(f"output size must be at least 128 px to carry the watermark, not {size}")
    big = upscale(images, size)
    if as_grid:
        return [mark(grid(big, cols), "generate")]
    return [mark(im, "generate") for im in big]
