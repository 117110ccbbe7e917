"""Smoothing a per-face signal over time: a centred moving median.

Why a median: the noise in per-frame face measures is mostly single-frame outliers (a
mesh fitted badly on a blurred frame, an expression flickering to another class for one
frame), which a median removes and a mean only spreads over its neighbours; a median also
keeps a real change (a smile starting, the eyes closing) a sharp step instead of a ramp,
and, being centred, does not lag (the timeline is made offline, so it can look ahead).
A blink shorter than half the window is smoothed away: it stays in the raw columns.

The window counts samples (analysed frames), so with ``every=3`` a window of 5 spans 15
frames. Gaps (NaN) are ignored; at the ends the window is cut short.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import InputError

FILTER = "centred moving median"
DEFAULT_WINDOW = 5


def check_window(window: int) -> int:
    """``window`` if it is an odd number of samples >= 1 (1: no smoothing), else ``InputError``."""
    if int(window) != window or window < 1 or window % 2 == 0:
        raise InputError(f"the smoothing window must be an odd number of samples >= 1 (1: none), got {window}")
    return int(window)


def moving_median(values: np.ndarray, window: int = DEFAULT_WINDOW) -> np.ndarray:
    """Centred moving median of a series along its first axis, (N,) or (N, C); NaNs ignored."""
    check_window(window)
    x = np.asarray(values, np.float64)
    if window == 1 or len(x) == 0:
        return x.copy()
    half = window // 2
    pad = [(half, half)] + [(0, 0)] * (x.ndim - 1)
    padded = np.pad(x, pad, constant_values=np.nan)  # NaN edges: the window is cut short there
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)
    with warnings.catch_warnings():  # an all-NaN window (a gap) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(windows, axis=-1)


def smooth_probabilities(probs: np.ndarray, window: int = DEFAULT_WINDOW) -> np.ndarray:
    """(N, C) class probabilities, each class median-smoothed, then each row scaled to sum to 1."""
    smoothed = moving_median(probs, window)
    total = smoothed.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, smoothed / total, smoothed)
