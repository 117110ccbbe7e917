"""Colour and light matching in CIELAB, region by region, with smooth transitions.

For each region of the face (forehead, cheeks, nose, chin: ``COLOUR_REGIONS``) the pasted
pixels' L, a and b are shifted and scaled to the target's mean and spread there; the
per-region corrections are spread over the face with Gaussian weights around each region's
centre, so a face lit from one side gets a correction that changes across it, with no seams.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..landmarks.regions import COLOUR_REGIONS

# The target's spread over the source's, clipped per channel: lightness may change contrast more
# than the colour axes, whose spread on skin is small and noisy (a wide gain turns lips purple).
GAIN_LIMITS = (np.array([0.6, 0.8, 0.8]), np.array([1.6, 1.25, 1.25]))


def to_lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def from_lab(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class ColourTransfer:
    """Per-region gains and offsets (R, 3) on LAB and where the regions are centred (R, 2)."""

    centres: np.ndarray
    gains: np.ndarray
    offsets: np.ndarray
    sigma: float

    def blend(self, previous: "ColourTransfer | None", keep: float) -> "ColourTransfer":
        """An exponential moving average with an earlier transfer (video: no flicker)."""
        if previous is None or keep <= 0:
            return self
        return ColourTransfer(self.centres, keep * previous.gains + (1 - keep) * self.gains,
                              keep * previous.offsets + (1 - keep) * self.offsets, self.sigma)


def fit_transfer(pasted_lab: np.ndarray, target_lab: np.ndarray, mask: np.ndarray, points: np.ndarray,
                 sigma: float) -> ColourTransfer:
    """Region statistics of ``pasted`` and ``target`` inside ``mask`` (bool), regions cut by
    nearest centre (the mean of each region's mesh anchors in ``points``)."""
    centres = np.stack([points[list(idx), :2].mean(0) for idx in COLOUR_REGIONS.values()])
    ys, xs = np.nonzero(mask)
    gains = np.ones((len(centres), 3))
    offsets = np.zeros((len(centres), 3))
    if len(ys) < 20:
        return ColourTransfer(centres, gains, offsets, sigma)
    d = (xs[:, None] - centres[None, :, 0]) ** 2 + (ys[:, None] - centres[None, :, 1]) ** 2
    nearest = d.argmin(1)
    src_all, dst_all = pasted_lab[ys, xs], target_lab[ys, xs]
    for r in range(len(centres)):
        sel = nearest == r
        if sel.sum() < 20:
            sel = np.ones(len(ys), bool)
        src, dst = src_all[sel], dst_all[sel]
        mu_s, mu_d = src.mean(0), dst.mean(0)
        sd_s, sd_d = src.std(0) + 1e-3, dst.std(0) + 1e-3
        g = np.clip(sd_d / sd_s, GAIN_LIMITS[0], GAIN_LIMITS[1])
        gains[r] = g
        offsets[r] = mu_d - g * mu_s
    return ColourTransfer(centres, gains, offsets, sigma)


def apply_transfer(lab: np.ndarray, transfer: ColourTransfer, box: tuple[int, int, int, int]) -> np.ndarray:
    """A copy of ``lab`` corrected inside ``box`` (x0, y0, x1, y1) by the smoothly blended transfer."""
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    c = transfer.centres.astype(np.float32)
    d2 = (xx[..., None] - c[:, 0]) ** 2 + (yy[..., None] - c[:, 1]) ** 2
    w = np.exp(-(d2 - d2.min(-1, keepdims=True)) / (2 * transfer.sigma ** 2))  # the nearest weighs 1: no underflow
    w = w / w.sum(-1, keepdims=True)
    gain = w @ transfer.gains.astype(np.float32)
    offset = w @ transfer.offsets.astype(np.float32)
    out = lab.copy()
    out[y0:y1, x0:x1] = lab[y0:y1, x0:x1] * gain + offset
    return out
