"""Per-group error rates with confidence intervals (Wilson for rates, bootstrap for means)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap(values: np.ndarray, stat: Callable[[np.ndarray], float] = np.mean, rounds: int = 1000,
              seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat`` over ``values`` (fixed seed: reproducible)."""
    values = np.asarray(values, np.float64)
    if len(values) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(values), size=(rounds, len(values)))
    if stat is np.mean:
        stats = values[idx].mean(axis=1)
    else:
        stats = np.array([stat(values[i]) for i in idx])
    lo, hi = np.quantile(stats, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


ROUNDS = 1000
_MAX_RESAMPLED = 20_000_000  # values drawn per group at most; beyond, the normal approximation


def mean_draws(values: np.ndarray, rng: np.random.Generator, rounds: int = ROUNDS) -> np.ndarray:
    """(rounds,) bootstrap replicates of the mean of ``values``: binomial draws for 0/1 values
    (the same distribution as resampling, without the memory), resampling otherwise, and the
    normal approximation when resampling would draw more than 20 M values."""
    values = np.asarray(values, np.float64)
    n = len(values)
    if n == 0:
        return np.full(rounds, np.nan)
    if np.isin(values, (0.0, 1.0)).all():
        return rng.binomial(n, values.mean(), rounds) / n
    if n * rounds > _MAX_RESAMPLED:
        return rng.normal(values.mean(), values.std() / math.sqrt(n), rounds)
    return values[rng.integers(0, n, size=(rounds, n))].mean(axis=1)


def ratio_interval(worst: np.ndarray, best: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of worst / best over bootstrap replicates of the two groups' errors
    ((rounds,) each; for accuracy pass 1 - accuracy). The pair stays the one observed: taking
    the largest and smallest group again in every round would bias the ratio upwards, so that
    even two groups with equal errors could never show an interval reaching 1."""
    worst, best = np.asarray(worst, np.float64), np.asarray(best, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(best > 0, worst / np.where(best > 0, best, 1.0), np.where(worst > 0, np.inf, 1.0))
    lo, hi = np.quantile(ratio, [(1 - level) / 2, 1 - (1 - level) / 2], method="inverted_cdf")  # inf-safe
    return float(lo), float(hi)
