"""Fairness audits over any labelled set: per-group metrics, worst/best ratio, intervals.

Two kinds of audit:

* attributes: a label column and a prediction column per row. ``metric="accuracy"``
  (classes; Wilson 95% intervals) or ``metric="mae"`` (numbers; bootstrap 95%).
* verification: one row per pair, a score column and a same-person column. At one
  fixed threshold (the same for every group, as deployed): FMR = share of different-
  person pairs accepted, FNMR = share of same-person pairs rejected (Wilson intervals).

Groups come from one or more columns (race, gender, age band, ...); numeric columns
can be cut into bands first (``add_bands``). For every group column the audit reports
each group's metric, the worst and best group and their ratio (worst / best for error
rates, so 1.0 is parity; for accuracy the ratio of error rates 1 - accuracy).

Groups can differ in what they are made of as well as in how the model treats them: a
group with more children or more elderly people has a different age MAE even from a model
that treats every race alike. ``standardize=COLUMN`` (attribute audits) separates the two
by direct standardisation: each group's metric is measured within every stratum of
COLUMN (e.g. age band) and averaged with the whole set's stratum shares, as if every group
had the same mix. The raw value stays beside it.

Every worst / best ratio comes with a bootstrap 95% interval (``MetricAudit.ratio_ci``):
the worst and the best group's rows are resampled (within each stratum when standardised)
and their ratio taken in every round. With small groups a ratio of 1.52x may not be
distinguishable from 1.4x or 1.7x. The pair is the one observed, and the observed worst
group tends to look worse than it is (it was picked for that), so read the interval as the
uncertainty of that gap, not as a bound on the largest gap. For verification pairs the
rounds resample pairs, which share images, so that interval is too narrow.

Group columns may be intersections: "race+gender" groups rows by both columns' values
("asian/female", ...), where the largest gaps often hide.

A classifier may withhold its answer ("unknown", ``mien.attributes.ABSTAIN``) where it is
unsure. Accuracy is then measured over the answered rows only, and a second metric,
``coverage`` (the share answered), says for which groups it withheld more: withholding
can move errors out of the accuracy figure and onto one group's coverage.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from ..attributes.base import ABSTAIN
from ..errors import InputError
from .stats import bootstrap, mean_draws, ratio_interval, wilson

Row = Mapping[str, Any]
LOWER_IS_BETTER = {"mae": True, "error": True, "fmr": True, "fnmr": True, "accuracy": False, "coverage": False,
                   "interval": False}


@dataclass(frozen=True)
class GroupResult:
    column: str
    group: str
    n: int
    value: float
    low: float
    high: float
    extra: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "group": self.group, "n": self.n, "value": self.value,
                "ci95": [self.low, self.high], **dict(self.extra)}


@dataclass(frozen=True)
class MetricAudit:
    """One metric across the groups of one column."""

    metric: str
    column: str
    overall: GroupResult
    groups: tuple[GroupResult, ...]
    ratio_ci: tuple[float, float] | None = None  # bootstrap 95% interval of the worst / best ratio

    @property
    def worst(self) -> GroupResult:
        key = (lambda g: g.value) if LOWER_IS_BETTER[self.metric] else (lambda g: -g.value)
        return max(reversed(self.groups), key=key)  # ties: the last, so that best (the first) differs

    @property
    def best(self) -> GroupResult:
        key = (lambda g: g.value) if LOWER_IS_BETTER[self.metric] else (lambda g: -g.value)
        return min(self.groups, key=key)

    @property
    def ratio(self) -> float:
        """Worst group's error over the best group's (accuracy: error = 1 - accuracy)."""
        if LOWER_IS_BETTER[self.metric]:
            worst, best = self.worst.value, self.best.value
        else:
            worst, best = 1 - self.worst.value, 1 - self.best.value
        return float("inf") if best == 0 and worst > 0 else (1.0 if best == 0 else worst / best)

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "column": self.column, "overall": self.overall.to_dict(),
                "groups": [g.to_dict() for g in self.groups], "worst": self.worst.group, "best": self.best.group,
                "worst_best_ratio": self.ratio,
                "worst_best_ratio_ci95": list(self.ratio_ci) if self.ratio_ci is not None else None}


@dataclass(frozen=True)
class AuditReport:
    title: str
    kind: str  # "attribute" or "verification"
    audits: tuple[MetricAudit, ...]
    notes: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "kind": self.kind, "meta": dict(self.meta), "notes": list(self.notes),
                "audits": [a.to_dict() for a in self.audits]}


# -- reading and preparing rows -------------------------------------------------------

def read_csv(path: str | Path) -> list[dict[str, str]]:
    path = Path(path)
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise InputError(f"{path} has no rows")
    return rows


def _parts(column: str, have: set[str]) -> list[str]:
    """The columns behind a group column: itself, or the parts of an intersection "a+b"."""
    return [column] if column in have or "+" not in column else [c.strip() for c in column.split("+")]


def require_columns(rows: Sequence[Row], columns: Iterable[str]) -> None:
    have = set(rows[0]) if rows else set()
    missing = [part for c in columns for part in _parts(c, have) if part not in have]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; the file has: {', '.join(sorted(have))}")


def band_label(value: float, edges: Sequence[float]) -> str:
    """'18-29' style label for the band of ``value`` between sorted ``edges``; last band open."""
    for lo, hi in zip(edges[:-1], edges[1:]):
        if lo <= value < hi:
            return f"{lo:g}-{hi - 1:g}" if float(lo).is_integer() and float(hi).is_integer() else f"{lo:g}-{hi:g}"
    if value >= edges[-1]:
        return f"{edges[-1]:g}+"
    return f"<{edges[0]:g}"


def add_bands(rows: Sequence[Row], column: str, edges: Sequence[float], name: str | None = None) -> list[dict[str, Any]]:
    """New rows with ``name`` (default ``<column>_band``) holding the band of a numeric column."""
    require_columns(rows, [column])
    name = name or f"{column}_band"
    edges = sorted(float(e) for e in edges)
    out = []
    for r in rows:
        try:
            value = float(r[column])
        except (TypeError, ValueError):
            raise InputError(f"column {column!r} has a non-numeric value {r[column]!r}") from None
        out.append({**r, name: band_label(value, edges)})
    return out


def _values(rows: Sequence[Row], column: str) -> np.ndarray:
    """Each row's group in ``column`` (an intersection "a+b" joins the parts' values with "/")."""
    parts = _parts(column, set(rows[0]) if rows else set())
    return np.array(["/".join(str(r[p]) for p in parts) for r in rows])


def _groups(rows: Sequence[Row], column: str) -> dict[str, np.ndarray]:
    values = _values(rows, column)
    return {g: np.flatnonzero(values == g) for g in sorted(set(values))}


def _floats(rows: Sequence[Row], column: str) -> np.ndarray:
    try:
        return np.array([float(r[column]) for r in rows], np.float64)
    except (TypeError, ValueError):
        raise InputError(f"column {column!r} must be numeric") from None


def _bools(rows: Sequence[Row], column: str) -> np.ndarray:
    truth = {"1", "true", "yes", "same", "y", "t"}
    false = {"0", "false", "no", "different", "n", "f"}
    out = []
    for r in rows:
        v = str(r[column]).strip().lower()
        if v not in truth | false:
            raise InputError(f"column {column!r}: {r[column]!r} is not a yes/no value")
        out.append(v in truth)
    return np.array(out, bool)


# -- attribute audits ---------------------------------------------------------------

def _accuracy(column: str, group: str, correct: np.ndarray) -> GroupResult:
    k, n = int(correct.sum()), len(correct)
    lo, hi = wilson(k, n)
    return GroupResult(column, group, n, k / n if n else float("nan"), lo, hi)


def _mae(column: str, group: str, errors: np.ndarray, seed: int) -> GroupResult:
    lo, hi = bootstrap(errors, seed=seed)
    return GroupResult(column, group, len(errors), float(errors.mean()) if len(errors) else float("nan"), lo, hi)


def _standardised(column: str, group: str, per_row: np.ndarray, idx: np.ndarray, strata: np.ndarray,
                  shares: Mapping[str, float], seed: int, rounds: int = 1000) -> GroupResult:
    """The group's metric per stratum, averaged with the whole set's stratum ``shares``.

    Strata where the group has no rows are left out and the other shares renormalised
    (``weight_covered`` says how much of the mix was measured). Interval: percentile
    bootstrap resampling within each cell, fixed seed.
    """
    rng = np.random.default_rng(seed)
    values, weights, draws = [], [], []
    for stratum, share in shares.items():
        cell = per_row[idx[strata[idx] == stratum]].astype(np.float64)
        if not len(cell):
            continue
        values.append(cell.mean())
        weights.append(share)
        draws.append(cell[rng.integers(0, len(cell), size=(rounds, len(cell)))].mean(axis=1))
    w = np.asarray(weights) / np.sum(weights)
    boot = np.asarray(draws).T @ w
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return GroupResult(column, group, len(idx), float(np.dot(w, values)), float(lo), float(hi),
                       {"raw": float(per_row[idx].mean()), "weight_covered": float(np.sum(weights))})


def _group_draws(per_row: np.ndarray, idx: np.ndarray, strata: np.ndarray | None, shares: Mapping[str, float],
                 rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of one group's value: its rows resampled, or with ``strata`` each
    cell resampled and the cells averaged with the whole set's ``shares`` (as ``_standardised``)."""
    if strata is None:
        return mean_draws(per_row[idx], rng)
    cells = [(share, per_row[idx[strata[idx] == s]]) for s, share in shares.items()]
    cells = [(share, cell) for share, cell in cells if len(cell)]
    total = sum(share for share, _ in cells)
    return sum(share / total * mean_draws(cell, rng) for share, cell in cells)


def with_ratio_ci(audit: MetricAudit, draws: list[np.ndarray]) -> MetricAudit:
    """``audit`` with the bootstrap interval of its worst / best ratio (``draws``: one array of
    replicates per group, in the order of ``audit.groups``)."""
    if len(draws) < 2:
        return audit
    errors = [d if LOWER_IS_BETTER[audit.metric] else 1 - d for d in draws]
    worst, best = audit.groups.index(audit.worst), audit.groups.index(audit.best)
    return replace(audit, ratio_ci=ratio_interval(errors[worst], errors[best]))


class _Measure(NamedTuple):
    name: str  # metric
    per_row: np.ndarray  # the value of each row (error, correct, answered, inside)
    counted: np.ndarray  # rows it is measured over (accuracy: the answered ones)


def _attribute_measures(rows: Sequence[Row], label: str, prediction: str, metric: str,
                        interval: tuple[str, str] | None) -> list[_Measure]:
    every = np.ones(len(rows), bool)
    if metric == "mae":
        truth = _floats(rows, label)
        measures = [_Measure("mae", np.abs(_floats(rows, prediction) - truth), every)]
        if interval is not None:
            inside = (truth >= _floats(rows, interval[0])) & (truth <= _floats(rows, interval[1]))
            measures.append(_Measure("interval", inside, every))
        return measures
    predicted = [str(r[prediction]).strip().lower() for r in rows]
    answered = np.array([p != ABSTAIN for p in predicted])
    correct = np.array([p == str(r[label]).strip().lower() for p, r in zip(predicted, rows)])
    measures = [_Measure("accuracy", correct, answered)]
    if not answered.all():
        measures.append(_Measure("coverage", answered, every))
    return measures


def _audit_measure(rows: Sequence[Row], column: str, m: _Measure, strata: np.ndarray | None,
                   shares: Mapping[str, float], standardize: str | None, min_group: int, seed: int,
                   notes: list[str], first: bool) -> MetricAudit | None:
    """One measure across the groups of one column (standardised when ``strata`` is given);
    what was left out goes to ``notes`` (small groups only once, for the ``first`` measure)."""
    def make(group: str, idx: np.ndarray) -> GroupResult:
        if strata is not None:
            return _standardised(column, group, m.per_row, idx, strata, shares, seed)
        return _mae(column, group, m.per_row[idx], seed) if m.name == "mae" else _accuracy(column, group, m.per_row[idx])

    groups, draws = [], []
    rng = np.random.default_rng(seed)
    for group, idx in _groups(rows, column).items():
        if len(idx) < min_group:
            if first:
                notes.append(f"{column}={group}: {len(idx)} rows, under the minimum of {min_group}; left out")
            continue
        idx = idx[m.counted[idx]]
        if not len(idx):
            notes.append(f"{column}={group}: every prediction withheld; no {m.name} to report")
            continue
        groups.append(make(group, idx))
        draws.append(_group_draws(m.per_row, idx, strata, shares, rng))
        missing = [s for s in shares if strata is not None and not (strata[idx] == s).any()]
        if missing:
            notes.append(f"{column}={group} has no {'answered ' if not m.counted.all() else ''}rows with {standardize} "
                         f"{', '.join(missing)} ({100 * sum(shares[s] for s in missing):.1f}% of all rows): its "
                         "standardised value averages the other strata")
    if not groups:
        return None
    return with_ratio_ci(MetricAudit(m.name, column, make("all", np.flatnonzero(m.counted)), tuple(groups)), draws)


def audit_attribute(rows: Sequence[Row], label: str, prediction: str, group_columns: Sequence[str],
                    metric: str = "accuracy", title: str = "Attribute audit", min_group: int = 1,
                    seed: int = 0, standardize: str | None = None,
                    interval: tuple[str, str] | None = None) -> AuditReport:
    """Per-group accuracy (classes) or MAE (numbers) of ``prediction`` against ``label``.

    ``standardize``: a column (e.g. "age_band") whose mix every group is standardised to
    (module docstring); the grouping by that column itself stays raw. ``interval``: with
    MAE, the (low, high) columns of a predicted range; adds the metric ``interval``, the
    share of rows whose label lies inside it, per group (is the range as honest for
    every group?).
    """
    if metric not in ("accuracy", "mae"):
        raise InputError(f"unknown attribute metric {metric!r}; known: accuracy, mae")
    if not group_columns:
        raise InputError("give at least one group column")
    if interval is not None and metric != "mae":
        raise InputError("an interval goes with metric='mae'")
    require_columns(rows, [label, prediction, *group_columns, *([standardize] if standardize else []), *(interval or ())])
    measures = _attribute_measures(rows, label, prediction, metric, interval)
    strata = _values(rows, standardize) if standardize else None
    shares = {s: len(i) / len(rows) for s, i in _groups(rows, standardize).items()} if standardize else {}
    audits, notes = [], []
    for column in group_columns:
        by_mix = strata if standardize is not None and column != standardize else None
        for n, m in enumerate(measures):
            audit = _audit_measure(rows, column, m, by_mix, shares, standardize, min_group, seed, notes, n == 0)
            if audit is not None:
                audits.append(audit)
    meta = {"rows": len(rows), "label": label, "prediction": prediction, "metric": metric}
    if metric == "accuracy" and len(measures) > 1:
        meta["withheld"] = int((~measures[1].per_row).sum())  # the coverage measure: answered or not
    if interval is not None:
        meta["interval"] = f"{interval[0]}..{interval[1]}"
    if standardize:
        meta["standardized_by"] = standardize
    return AuditReport(title, "attribute", tuple(audits), tuple(notes), meta)


# -- verification audits ------------------------------------------------------------

def verification_rates(column: str, group: str, accept: np.ndarray, genuine: np.ndarray) -> tuple[GroupResult, GroupResult]:
    """FMR over the impostor pairs and FNMR over the genuine pairs of one group (Wilson intervals),
    from each pair's decision ``accept`` and truth ``genuine``."""
    accept, genuine = np.asarray(accept, bool), np.asarray(genuine, bool)
    n_imp, n_gen = int((~genuine).sum()), int(genuine.sum())
    fm, fnm = int((accept & ~genuine).sum()), int((~accept & genuine).sum())
    fmr = GroupResult(column, group, n_imp, fm / n_imp if n_imp else float("nan"), *wilson(fm, n_imp))
    fnmr = GroupResult(column, group, n_gen, fnm / n_gen if n_gen else float("nan"), *wilson(fnm, n_gen))
    return fmr, fnmr


def audit_verification(rows: Sequence[Row], score: str, same: str, group_columns: Sequence[str],
                       threshold: float, higher_is_same: bool = True, title: str = "Verification audit",
                       min_group: int = 1) -> AuditReport:
    """Per-group FMR and FNMR at one fixed threshold."""
    if not group_columns:
        raise InputError("give at least one group column")
    require_columns(rows, [score, same, *group_columns])
    scores, genuine = _floats(rows, score), _bools(rows, same)
    accept = scores >= threshold if higher_is_same else scores <= threshold

    def rates(column: str, group: str, idx: np.ndarray) -> tuple[GroupResult, GroupResult]:
        return verification_rates(column, group, accept[idx], genuine[idx])

    everything = np.arange(len(rows))
    audits, notes = [], []
    for column in group_columns:
        fmrs, fnmrs, fmr_draws, fnmr_draws = [], [], [], []
        rng = np.random.default_rng(0)
        for group, idx in _groups(rows, column).items():
            if len(idx) < min_group:
                notes.append(f"{column}={group}: {len(idx)} pairs, under the minimum of {min_group}; left out")
                continue
            a, b = rates(column, group, idx)
            if a.n:
                fmrs.append(a)
                fmr_draws.append(mean_draws(accept[idx][~genuine[idx]], rng))
            if b.n:
                fnmrs.append(b)
                fnmr_draws.append(mean_draws(~accept[idx][genuine[idx]], rng))
        all_fmr, all_fnmr = rates(column, "all", everything)
        if fmrs:
            audits.append(with_ratio_ci(MetricAudit("fmr", column, all_fmr, tuple(fmrs)), fmr_draws))
        if fnmrs:
            audits.append(with_ratio_ci(MetricAudit("fnmr", column, all_fnmr, tuple(fnmrs)), fnmr_draws))
    meta = {"rows": len(rows), "score": score, "same": same, "threshold": threshold, "higher_is_same": higher_is_same}
    return AuditReport(title, "verification", tuple(audits), tuple(notes), meta)
