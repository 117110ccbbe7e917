"""The calibrated 1:N decision: a threshold for a target false-positive identification rate.

A probe of someone who is not enrolled is compared with every one of the gallery's ``M``
templates, and it is falsely identified when any comparison passes. With a per-comparison
false-match rate ``f`` at threshold ``t``, and comparisons treated as independent,

    FPIR(t) = 1 - (1 - f(t)) ** M

so the threshold for a target FPIR is the 1:1 threshold at ``f = 1 - (1 - FPIR) ** (1 / M)``,
read from the calibration's impostor-score table (``mien.match.calibration``: the shipped
LFW one, the user's own from ``mien calibrate``, or the cohort-normalised one). It tightens
as the gallery grows: at FPIR 1e-3, 1,000 templates need f = 1e-6 and 100,000 need 1e-8.
Templates of one person are correlated, so the true FPIR is at most this estimate
(``benchmarks/gallery_openset.py`` measures it on LFW).

When ``f`` falls below the smallest FMR the calibration measured (1e-6 for LFW's 29.6 M
impostor pairs), the impostor distribution's tail is extrapolated: log10 FMR is close to
linear in the distance over the lowest measured decade, and that line is followed down.
The answer then says ``extrapolated`` so nobody mistakes it for a measured point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..match.calibration import Calibration

DEFAULT_FPIR = 1e-3
_FLOOR_FMR = 1e-15


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float
    comparison_fmr: float  # the per-comparison FMR the threshold was set at
    estimated_fpir: float
    extrapolated: bool


def comparison_fmr(fpir: float, comparisons: int) -> float:
    """The per-comparison FMR that gives ``fpir`` over ``comparisons`` independent comparisons."""
    if not 0.0 < fpir < 1.0:
        raise InputError(f"FPIR must lie strictly between 0 and 1, got {fpir:g}")
    return -math.expm1(math.log1p(-fpir) / max(int(comparisons), 1))


def fpir_of(fmr: float, comparisons: int) -> float:
    return -math.expm1(max(int(comparisons), 1) * math.log1p(-min(fmr, 1.0 - 1e-16)))


def threshold_for_fpir(calibration: Calibration, fpir: float, comparisons: int) -> OperatingPoint:
    f = comparison_fmr(fpir, comparisons)
    table = np.asarray(calibration.fmr_table, np.float64)
    if len(table) < 2:
        raise InputError(f"the {calibration.model} calibration ({calibration.source}) has no impostor table; "
                         "refit it with `mien calibrate`")
    lowest = table[0, 0]
    if f >= lowest:
        threshold = calibration.threshold_for(min(f, table[-1, 0]))
        return OperatingPoint(threshold, f, fpir_of(calibration.estimated_fmr(threshold), comparisons), False)
    threshold = _extrapolate(table, max(f, _FLOOR_FMR))
    return OperatingPoint(threshold, f, fpir_of(max(f, _FLOOR_FMR), comparisons), True)


def _extrapolate(table: np.ndarray, fmr: float) -> float:
    """Distance at ``fmr`` below the table, on the line through its lowest decade (log10 FMR vs distance)."""
    tail = table[table[:, 0] <= table[0, 0] * 10]
    if len(tail) < 2:
        tail = table[:2]
    slope, intercept = np.polyfit(tail[:, 1], np.log10(tail[:, 0]), 1)
    if slope <= 0:  # a degenerate table: hold the lowest measured point
        return float(table[0, 1])
    return float(min((math.log10(fmr) - intercept) / slope, table[0, 1]))
