"""Invisible watermark: a tiled spread-spectrum mark on luminance with a sync template.

Embedding adds, to the luminance of every pixel (the same delta to R, G and B), a
128x128 tile repeated over the whole image. The tile is the sum of 33 orthogonal
pseudo-random patterns (Walsh-Hadamard rows, sign-scrambled and chip-permuted with a
fixed key; 32x32 chips of 4x4 px, lightly smoothed): one sync template and one pattern
per payload bit, signed by the bit. The chips are coarse enough to survive JPEG at
quality 75 and halving the size; tiling makes the mark survive crops.

Detection undoes an unknown rescale by trying a set of scales, high-passes the
luminance, folds it modulo the tile (which sums the mark coherently and the image
incoherently), finds the crop offset as the peak of the cyclic correlation with the sync
template (its height in robust standard deviations is the score), then reads each bit as
the sign of its pattern's correlation at that offset. The 32-bit payload (16-bit mien id,
8-bit operation code, CRC-8) is decoded by maximum likelihood over the 256 valid
codewords (error correction on soft values); a mark is reported only when the sync score
passes ``SYNC_THRESHOLD`` (calibrated on LFW, see docs/generation.md) and the hard bits
are within ``MAX_BIT_ERRORS`` of the decoded codeword.

Tiny images carry the mark poorly: mark generated faces at output resolution (mien
upscales its 64 px faces to 256 px before marking).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..errors import InputError, ShapeError

TILE = 128
CHIP = 4
N_BITS = 32
KEY = 0x6D69656E  # "mien"
MIEN_ID = 0x6D6E
DEFAULT_STRENGTH = 3.0  # std of the luminance delta, in grey levels
SYNC_GAIN = 3.0  # sync template amplitude relative to one bit pattern
SYNC_THRESHOLD = 7.0
VERIFY_MARGIN = 2.0  # embed_verified: read-back score needed above the threshold
VIDEO_STRENGTH = 1.5 * DEFAULT_STRENGTH  # FrameMarker: no per-frame read-back, so a margin up front
MAX_STRENGTH = 3 * DEFAULT_STRENGTH  # embed_verified never goes beyond (PSNR about 29 dB)
MAX_BIT_ERRORS = 4
SCALES = (1.0, 0.5, 0.75, 2 / 3, 0.9, 1.25, 1.5, 2.0, 0.4)  # image size / marked size
_HP_SIGMA = 3.0


@dataclass(frozen=True)
class WatermarkResult:
    """What the detector found. ``detected`` is the decision; the rest explains it."""

    detected: bool
    score: float  # sync peak in robust standard deviations
    operation_code: int | None  # decoded payload (None when not detected)
    bits: np.ndarray = field(repr=False)  # hard decisions, (32,) uint8
    bit_errors: int  # hard bits that differ from the decoded codeword
    scale: float  # scale of the image relative to the marked one
    shift: tuple[int, int]  # tile offset (dy, dx)


def crc8(data: bytes, poly: int = 0x07) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def payload_bits(operation_code: int) -> np.ndarray:
    """The 32 bits for an operation code: mien id (16), operation (8), CRC-8 of both (8)."""
    if not 0 <= operation_code <= 255:
        raise InputError(f"operation code must be 0..255, not {operation_code}")
    head = bytes([MIEN_ID >> 8, MIEN_ID & 0xFF, operation_code])
    word = int.from_bytes(head + bytes([crc8(head)]), "big")
    return np.array([(word >> (31 - i)) & 1 for i in range(N_BITS)], np.uint8)


@lru_cache(maxsize=1)
def _codebook() -> np.ndarray:
    """(256, 32) codewords as +-1."""
    return np.stack([payload_bits(op) for op in range(256)]).astype(np.float32) * 2 - 1


def _hadamard(n: int) -> np.ndarray:
    h = np.ones((1, 1), np.float32)
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


def _cyclic_blur(tile: np.ndarray, sigma: float) -> np.ndarray:
    n = tile.shape[-1]
    f = np.fft.fftfreq(n)
    g = np.exp(-2 * (np.pi * sigma) ** 2 * (f[:, None] ** 2 + f[None, :] ** 2))
    return np.real(np.fft.ifft2(np.fft.fft2(tile) * g)).astype(np.float32)


@lru_cache(maxsize=1)
def _patterns() -> tuple[np.ndarray, np.ndarray]:
    """Embedding patterns (33, T, T) with unit std, and the FFT of their high-passed versions."""
    n_chips = (TILE // CHIP) ** 2
    rng = np.random.default_rng(KEY)
    rows = _hadamard(n_chips)[1 : N_BITS + 2] * rng.choice([-1.0, 1.0], n_chips).astype(np.float32)
    rows = rows[:, rng.permutation(n_chips)]
    side = TILE // CHIP
    chips = rows.reshape(-1, side, side)
    pats = np.stack([_cyclic_blur(np.kron(c, np.ones((CHIP, CHIP), np.float32)), 1.0) for c in chips])
    pats -= pats.mean(axis=(1, 2), keepdims=True)
    pats /= pats.std(axis=(1, 2), keepdims=True)
    hp = pats - np.stack([_cyclic_blur(p, _HP_SIGMA) for p in pats])
    return pats, np.conj(np.fft.fft2(hp))


def _luma(image: np.ndarray) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ShapeError("image", "RGB uint8 (H, W, 3)", f"{image.shape} {image.dtype}")
    return image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def embed(image: np.ndarray, operation_code: int, strength: float = DEFAULT_STRENGTH) -> np.ndarray:
    """Return a copy of an RGB uint8 image carrying the mark with ``operation_code``."""
    _luma(image)  # shape check
    h, w = image.shape[:2]
    if min(h, w) < TILE:
        raise InputError(f"image {w}x{h} is too small to watermark (needs at least {TILE} px a side)")
    out = image.astype(np.float32) + _delta(h, w, operation_code, strength)[:, :, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _delta(h: int, w: int, operation_code: int, strength: float) -> np.ndarray:
    """The luminance change the mark makes to an h x w image: the tile, repeated."""
    pats, _ = _patterns()
    signs = payload_bits(operation_code).astype(np.float32) * 2 - 1
    tile = SYNC_GAIN * pats[0] + np.tensordot(signs, pats[1:], axes=1)
    tile *= strength / tile.std()
    return np.tile(tile, (-(-h // TILE), -(-w // TILE)))[:h, :w]


class FrameMarker:
    """Marks a stream of frames: the mark does not depend on the picture, so its delta is
    computed once per frame size and added to each frame (a few ms at 1080p, against
    ~45 ms for :func:`embed` and ~160 ms for :func:`embed_verified`). Video frames are not read
    back one by one, so the strength starts higher (``VIDEO_STRENGTH``) to survive encoding."""

    def __init__(self, operation_code: int, strength: float | None = None) -> None:
        self.operation_code = operation_code
        self.strength = VIDEO_STRENGTH if strength is None else strength
        self._delta: np.ndarray | None = None

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        if min(h, w) < TILE:
            return frame  # too small to hold the mark; the metadata record still says so
        if self._delta is None or self._delta.shape[:2] != (h, w):
            self._delta = np.rint(_delta(h, w, self.operation_code, self.strength)).astype(np.int16)[:, :, None]
        return np.clip(frame.astype(np.int16) + self._delta, 0, 255).astype(np.uint8)


def embed_verified(image: np.ndarray, operation_code: int, strength: float = DEFAULT_STRENGTH,
                   max_strength: float = MAX_STRENGTH, margin: float = VERIFY_MARGIN) -> tuple[np.ndarray, float]:
    """Embed, read the mark back, and embed again more strongly until it is safely readable.

    The mark must decode, with a sync score of at least ``SYNC_THRESHOLD + margin``, both from
    the marked image and from a half-size JPEG-75 copy of it. Fine texture (a photo, a
    128 px GAN face upscaled) competes with the mark and flat images do not, so one fixed
    strength is either visible on flat images or lost on busy ones; each retry is 1.25x
    stronger, up to ``max_strength``. Returns the marked image and the strength used.
    """
    while True:
        out = embed(image, operation_code, strength)
        if strength >= max_strength or _reads_back(out, operation_code, SYNC_THRESHOLD + margin):
            return out, strength
        strength = min(strength * 1.25, max_strength)


def _reads_back(marked: np.ndarray, operation_code: int, min_score: float) -> bool:
    import io

    from PIL import Image

    h, w = marked.shape[:2]
    buf = io.BytesIO()
    Image.fromarray(marked).resize((w // 2, h // 2), Image.BILINEAR).save(buf, "JPEG", quality=75)
    half = np.asarray(Image.open(buf).convert("RGB"))
    for img, scale in ((marked, 1.0), (half, 0.5)):
        found = detect(img, scales=(scale,))
        if not (found.detected and found.score >= min_score and found.operation_code == operation_code):
            return False
    return True


def _fold(residual: np.ndarray) -> np.ndarray:
    h, w = residual.shape
    padded = np.zeros((-(-h // TILE) * TILE, -(-w // TILE) * TILE), np.float32)
    padded[:h, :w] = residual
    return padded.reshape(padded.shape[0] // TILE, TILE, padded.shape[1] // TILE, TILE).sum(axis=(0, 2))


def _sync(luma: np.ndarray, scale: float) -> tuple[float, tuple[int, int], np.ndarray] | None:
    """Sync score, tile offset and the whitened folded spectrum, for one scale hypothesis."""
    import cv2

    h, w = luma.shape
    size = (round(w / scale), round(h / scale))
    if min(size) < TILE or max(size) > 8192:
        return None
    y = luma if scale == 1.0 else cv2.resize(luma, size, interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_CUBIC)
    res = y - cv2.GaussianBlur(y, (0, 0), _HP_SIGMA)
    lim = 2.5 * float(res.std()) + 1e-6
    folded = np.fft.fft2(_fold(np.clip(res, -lim, lim)))
    folded /= np.abs(folded) + 1e-6  # phase-only (whitened) correlation: sharper peaks
    _, hp_fft = _patterns()
    sync = np.real(np.fft.ifft2(folded * hp_fft[0]))
    peak = np.unravel_index(int(np.argmax(sync)), sync.shape)
    med = float(np.median(sync))
    mad = float(np.median(np.abs(sync - med))) * 1.4826 + 1e-9
    return (float(sync[peak]) - med) / mad, (int(peak[0]), int(peak[1])), folded


@lru_cache(maxsize=1)
def _bit_filters() -> np.ndarray:
    """High-passed bit patterns in space (32, TILE, TILE): constant, so made once."""
    _, hp_fft = _patterns()
    return np.real(np.fft.ifft2(np.conj(hp_fft[1:]))).astype(np.float32)


def _soft_bits(folded: np.ndarray, shift: tuple[int, int]) -> np.ndarray:
    """Correlation of each bit pattern with the folded residual at the sync offset."""
    spatial = np.real(np.fft.ifft2(folded)).astype(np.float32)
    aligned = np.roll(spatial, (-shift[0], -shift[1]), axis=(0, 1))
    return np.tensordot(_bit_filters(), aligned, axes=([1, 2], [0, 1]))


def detect(image: np.ndarray, scales: tuple[float, ...] = SCALES) -> WatermarkResult:
    """Look for the mark in an RGB uint8 image (possibly recompressed, rescaled or cropped)."""
    luma = _luma(image)
    best = None
    for scale in scales:
        found = _sync(luma, scale)
        if found and (best is None or found[0] > best[0][0]):
            best = (found, scale)
    if best is None:
        raise InputError(f"image {image.shape[1]}x{image.shape[0]} is too small to look for a watermark")
    (score, shift, folded), scale = best
    soft = _soft_bits(folded, shift)
    bits = (soft > 0).astype(np.uint8)
    book = _codebook()
    op = int(np.argmax(book @ soft))
    errors = int(np.sum(bits != (book[op] > 0)))
    detected = score >= SYNC_THRESHOLD and errors <= MAX_BIT_ERRORS
    return WatermarkResult(detected, round(score, 2), op if detected else None, bits, errors, scale, shift)
