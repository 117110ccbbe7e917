"""Thresholds measured, not guessed: ROC, EER, TAR at FAR, operating points, calibration files.

Scores are distances (lower = more alike). A calibration records, for one model id,
the distance thresholds at target false-match rates and a table of the impostor
(different-identity) distance distribution, so ``verify`` can report the estimated FMR
of any threshold. mien ships one calibration per model measured on LFW
(``thresholds.json`` beside this module); ``mien calibrate PAIRS.csv`` fits one on a
user's labelled pairs and writes a file that later calls use instead.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..atomic import write_atomic
from ..errors import InputError, StorageError

TARGET_FMRS = (1e-2, 1e-3, 1e-4)
BUNDLED = Path(__file__).resolve().parent / "thresholds.json"
# FMR grid at which the impostor distance quantiles are stored (1e-6 .. 0.5, log-spaced).
_FMR_GRID = np.unique(np.concatenate([np.logspace(-6, np.log10(0.5), 49)]))


@dataclass(frozen=True)
class Calibration:
    """Operating points and the impostor distance table of one model id."""

    model: str
    metric: str
    source: str  # what it was measured on
    genuine_pairs: int
    impostor_pairs: int
    thresholds: dict[str, float]  # "1e-03" -> distance threshold at that target FMR
    tar: dict[str, float]  # true-accept rate at each of those thresholds
    eer: float
    eer_threshold: float
    fmr_table: list[tuple[float, float]] = field(default_factory=list)  # (fmr, distance) pairs, fmr ascending

    def threshold_for(self, fmr: float) -> float:
        key = fmr_key(fmr)
        if key in self.thresholds:
            return self.thresholds[key]
        if not self.fmr_table:
            raise InputError(f"no threshold for FMR {fmr:g} in the {self.model} calibration ({self.source}); "
                             f"known: {', '.join(self.thresholds)}")
        table = np.asarray(self.fmr_table)
        if fmr < table[0, 0] or fmr > table[-1, 0]:
            raise InputError(f"FMR {fmr:g} is outside what the {self.model} calibration measured "
                             f"({table[0, 0]:.0e} .. {table[-1, 0]:.1g})")
        return float(np.interp(np.log(fmr), np.log(table[:, 0]), table[:, 1]))

    def estimated_fmr(self, threshold: float) -> float:
        """Share of impostor pairs at distance <= ``threshold`` (interpolated in log FMR)."""
        table = np.asarray(self.fmr_table)
        if len(table) == 0:
            return float("nan")
        if threshold <= table[0, 1]:
            return float(table[0, 0])  # below what was measured: an upper bound
        if threshold >= table[-1, 1]:
            return float(table[-1, 0])
        return float(np.exp(np.interp(threshold, table[:, 1], np.log(table[:, 0]))))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["fmr_table"] = [[float(f"{a:.4g}"), round(float(b), 6)] for a, b in self.fmr_table]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Calibration":
        d = dict(d)
        d["fmr_table"] = [tuple(x) for x in d.get("fmr_table", [])]
        return cls(**d)


def fmr_key(fmr: float) -> str:
    return f"{fmr:.0e}"


# -- measuring ---------------------------------------------------------------------------------


def roc(dist: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(FAR, TAR, threshold) at every distinct distance, thresholds ascending (accept if d <= t)."""
    dist = np.asarray(dist, np.float64)
    same = np.asarray(same, bool)
    order = np.argsort(dist, kind="stable")
    d, s = dist[order], same[order]
    last = np.r_[np.diff(d) != 0, True]  # the last index of each run of equal distances
    tp = np.cumsum(s)[last]
    fp = np.cumsum(~s)[last]
    n_pos, n_neg = max(int(s.sum()), 1), max(int((~s).sum()), 1)
    return fp / n_neg, tp / n_pos, d[last]


def eer(dist: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """Equal error rate and the threshold where FAR = FRR."""
    far, tar, thr = roc(dist, same)
    frr = 1 - tar
    i = int(np.argmin(np.abs(far - frr)))
    return float((far[i] + frr[i]) / 2), float(thr[i])


def tar_at_far(dist: np.ndarray, same: np.ndarray, far_target: float) -> float:
    far, tar, _ = roc(dist, same)
    ok = far <= far_target
    return float(tar[ok].max()) if ok.any() else 0.0


def best_threshold(dist: np.ndarray, same: np.ndarray) -> float:
    """The threshold with the highest accuracy on these pairs (midpoint between distances)."""
    far, tar, thr = roc(dist, same)
    n_pos = int(np.asarray(same, bool).sum())
    n_neg = len(same) - n_pos
    acc = (tar * n_pos + (1 - far) * n_neg) / len(same)
    i = int(np.argmax(acc))
    finite = thr[np.isfinite(thr)]
    nxt = finite[finite > thr[i]]
    return float((thr[i] + nxt[0]) / 2) if len(nxt) else float(thr[i])


def lfw_protocol(dist: np.ndarray, same: np.ndarray, folds: np.ndarray) -> dict[str, float]:
    """Standard 10-fold accuracy (+- std), TAR at FAR 1e-3 and EER over all pairs."""
    dist = np.asarray(dist, np.float64)
    same = np.asarray(same, bool)
    accs = []
    for f in np.unique(folds):
        test = folds == f
        t = best_threshold(dist[~test], same[~test])
        accs.append(float(((dist[test] <= t) == same[test]).mean()))
    e, _ = eer(dist, same)
    return {
        "accuracy": float(np.mean(accs)),
        "accuracy_std": float(np.std(accs)),
        "tar_at_far_1e-3": tar_at_far(dist, same, 1e-3),
        "tar_at_far_1e-2": tar_at_far(dist, same, 1e-2),
        "eer": e,
    }


def calibrate_pairs(dist: np.ndarray, same: np.ndarray, model: str, metric: str, source: str) -> Calibration:
    """A calibration from labelled pairs' distances."""
    dist = np.asarray(dist, np.float64)
    same = np.asarray(same, bool)
    if same.all() or not same.any():
        raise InputError("calibration needs both same-person and different-person pairs")
    return _calibration(dist[same], dist[~same], model, metric, source)


def fit_all_pairs(vectors: np.ndarray, identities: np.ndarray, metric: str, model: str, chunk: int = 1024) -> dict:
    """Calibration over every pair of a labelled set (LFW: ~3M genuine-or-impostor pairs)."""
    from ..embed.base import pairwise_distances

    vectors = np.asarray(vectors, np.float64)
    identities = np.asarray(identities)
    genuine, impostor = [], []
    for start in range(0, len(vectors), chunk):
        block = pairwise_distances(vectors[start : start + chunk], vectors, metric)
        rows = np.arange(start, min(start + chunk, len(vectors)))
        upper = np.arange(len(vectors))[None, :] > rows[:, None]
        same = identities[rows][:, None] == identities[None, :]
        genuine.append(block[upper & same])
        impostor.append(block[upper & ~same].astype(np.float32))
    cal = _calibration(np.concatenate(genuine), np.concatenate(impostor), model, metric,
                       f"LFW, all pairs of {len(vectors)} images through mien's pipeline")
    return cal.to_dict()


def _calibration(genuine: np.ndarray, impostor: np.ndarray, model: str, metric: str, source: str) -> Calibration:
    impostor = np.sort(np.asarray(impostor, np.float64))
    genuine = np.sort(np.asarray(genuine, np.float64))
    n_imp = len(impostor)
    thresholds, tars = {}, {}
    for fmr in TARGET_FMRS:
        k = int(np.floor(fmr * n_imp))  # at most k impostors accepted
        if k < 1:
            continue
        t = float((impostor[k - 1] + impostor[k]) / 2) if k < n_imp else float(impostor[-1])
        thresholds[fmr_key(fmr)] = t
        tars[fmr_key(fmr)] = float(np.searchsorted(genuine, t, side="right") / max(len(genuine), 1))
    grid = _FMR_GRID[_FMR_GRID * n_imp >= 1]
    table = [(float(f), float(impostor[int(np.floor(f * n_imp)) - 1])) for f in grid]
    dist = np.concatenate([genuine, impostor])
    same = np.r_[np.ones(len(genuine), bool), np.zeros(n_imp, bool)]
    e, et = eer(dist, same) if len(dist) < 2_000_000 else _eer_sorted(genuine, impostor)
    return Calibration(model, metric, source, len(genuine), n_imp, thresholds, tars, e, et, table)


def _eer_sorted(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    cand = np.quantile(np.concatenate([genuine, impostor[:: max(1, len(impostor) // 200000)]]), np.linspace(0, 1, 4001))
    far = np.searchsorted(impostor, cand, side="right") / len(impostor)
    frr = 1 - np.searchsorted(genuine, cand, side="right") / len(genuine)
    i = int(np.argmin(np.abs(far - frr)))
    return float((far[i] + frr[i]) / 2), float(cand[i])


# -- score fusion ---------------------------------------------------------------------------------


def fuse(scores: Sequence[np.ndarray], same: np.ndarray, folds: np.ndarray | None = None) -> np.ndarray:
    """Combine several models' distances into one (lower = more alike).

    Each distance is z-normalised by its impostor (different-person) distances, then the
    z-scores are weighted by Fisher's linear discriminant (the direction that best
    separates same from different pairs), so a weak model cannot drag a strong one down.
    With ``folds`` the normalisation and weights for each fold are fitted on the other
    folds only, so fused 10-fold numbers stay honest.
    """
    scores = [np.asarray(s, np.float64) for s in scores]
    same = np.asarray(same, bool)
    out = np.zeros_like(scores[0])
    groups = np.unique(folds) if folds is not None else [None]
    for f in groups:
        test = np.ones(len(same), bool) if f is None else folds == f
        train = test if f is None else ~test
        fit = train & np.all([np.isfinite(s) for s in scores], axis=0)
        stats = [(s[fit & ~same].mean(), s[fit & ~same].std()) for s in scores]
        z_fit = np.stack([(s[fit] - m) / sd for s, (m, sd) in zip(scores, stats)], axis=1)
        z_test = np.stack([(s[test] - m) / sd for s, (m, sd) in zip(scores, stats)], axis=1)
        weights = fusion_weights(z_fit, same[fit])
        out[test] = z_test @ weights
    return out


def fusion_weights(z: np.ndarray, same: np.ndarray) -> np.ndarray:
    """Fisher discriminant weights (summing to 1) for z-scored distances (N, models)."""
    gen, imp = z[same], z[~same]
    pooled = np.cov(gen, rowvar=False) * (len(gen) - 1) + np.cov(imp, rowvar=False) * (len(imp) - 1)
    pooled = np.atleast_2d(pooled) / max(len(z) - 2, 1)
    w = np.linalg.solve(pooled + 1e-6 * np.eye(len(pooled)), imp.mean(0) - gen.mean(0))
    return w / w.sum()


# -- files ------------------------------------------------------------------------------------------


def user_calibration_dir() -> Path:
    from ..models.store import mien_home

    return mien_home() / "calibration"


def load_calibration(model: str, path: str | os.PathLike | None = None) -> Calibration:
    """The calibration for ``model``: ``path`` if given, else the user's, else the one shipped (LFW)."""
    candidates = [Path(path)] if path else [user_calibration_dir() / f"{model}.json", BUNDLED]
    for file in candidates:
        if not file.is_file():
            if path:
                raise InputError(f"calibration file {file} does not exist")
            continue
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise StorageError(f"cannot read calibration {file}: {exc}") from exc
        if "model" in data:  # a single calibration
            if data["model"] != model:
                if path:
                    raise InputError(f"calibration {file} is for {data['model']!r}, not {model!r}")
                continue
            return Calibration.from_dict(data)
        if model in data:
            return Calibration.from_dict(data[model])
        if path:
            raise InputError(f"calibration file {file} has no entry for {model!r}; it has {', '.join(data)}")
    base, _, tta = model.partition("+")
    if "+asnorm-" in model:
        raise InputError(f"no calibration for scores normalised by this cohort ({model}); run "
                         f"`mien calibrate PAIRS.csv --cohort COHORT.npz` with the embedder the cohort was built with")
    option = {"": "", "flip": " --tta flip"}.get(tta, f" --tta jitter --jitters {tta.removeprefix('jitter')}")
    raise InputError(f"no calibration for model {model!r}; run `mien calibrate PAIRS.csv --model {base}{option}`")


def save_calibration(cal: Calibration, path: str | os.PathLike | None = None) -> Path:
    target = Path(path) if path else user_calibration_dir() / f"{cal.model}.json"
    try:
        write_atomic(target, (json.dumps(cal.to_dict(), indent=1) + "\n").encode())  # a kill keeps the old file
    except OSError as exc:
        raise StorageError(f"cannot write calibration {target}: {exc}") from exc
    return target
