"""What a video timeline is: per track, the raw and smoothed measures at every analysed frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import ShapeError

# The measures after the expression classes, in column order.
MEASURES = ("yaw", "pitch", "roll", "eye_left", "eye_right", "mouth")
SMOOTH_SUFFIX = "_smooth"


def expression_column(label: str) -> str:
    return f"expr_{label}"


@dataclass(frozen=True, eq=False)
class TrackTimeline:
    """One tracked face over time: ``raw[column]`` and ``smoothed[column]`` are (N,) series,
    one value per analysed frame, in ``columns`` order (expression probabilities, then ``MEASURES``).

    ``smoothed`` is None when the track had fewer samples than the smoothing window
    (``note`` says so); eye and mouth columns are image-left/right and ratios (see
    ``mien.landmarks.openness``), pose in degrees (``mien.landmarks.pose``).
    """

    track: int
    frames: np.ndarray  # (N,) int frame indices, in decode order
    times: np.ndarray  # (N,) seconds from the first frame
    boxes: np.ndarray  # (N, 4) x1, y1, x2, y2 pixels
    classes: tuple[str, ...]  # expression classes, in column order
    raw: Mapping[str, np.ndarray]
    smoothed: Mapping[str, np.ndarray] | None
    note: str | None = None

    def __post_init__(self) -> None:
        n = len(self.frames)
        if self.boxes.shape != (n, 4) or self.times.shape != (n,):
            raise ShapeError("track timeline", f"{n} times and (N, 4) boxes", (self.times.shape, self.boxes.shape))
        for name, series in {**self.raw, **(self.smoothed or {})}.items():
            if np.shape(series) != (n,):
                raise ShapeError(f"track {self.track} column {name}", f"({n},)", np.shape(series))

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.raw)

    def expression(self, smoothed: bool = True) -> np.ndarray:
        """(N, C) expression probabilities (raw when not smoothed or asked)."""
        source = self.smoothed if smoothed and self.smoothed is not None else self.raw
        if not self.classes:
            return np.zeros((len(self), 0))
        return np.stack([source[expression_column(c)] for c in self.classes], axis=1)

    def to_dict(self, series: bool = False) -> dict[str, Any]:
        """A summary: the span, the mean of each (smoothed) column and the dominant expression;
        with ``series``, every raw and smoothed value too."""
        source = self.smoothed if self.smoothed is not None else self.raw
        means = {k: _round(np.nanmean(v)) if np.isfinite(v).any() else None for k, v in source.items()}
        out: dict[str, Any] = {
            "track": self.track,
            "first_frame": int(self.frames[0]), "last_frame": int(self.frames[-1]),
            "start_s": round(float(self.times[0]), 3), "end_s": round(float(self.times[-1]), 3),
            "samples": len(self), "smoothed": self.smoothed is not None, "note": self.note,
        }
        if self.classes:
            probs = self.expression()
            share = np.bincount(np.nanargmax(np.nan_to_num(probs, nan=-1.0), axis=1), minlength=len(self.classes)) / len(self)
            mean = np.nanmean(probs, axis=0)
            out["expression"] = {
                "dominant": self.classes[int(np.nanargmax(mean))],
                "mean": {c: _round(m) for c, m in zip(self.classes, mean)},
                "share_of_time": {c: _round(s) for c, s in zip(self.classes, share)},
            }
        out["means"] = {k: v for k, v in means.items() if not k.startswith("expr_")}
        if series:
            out["series"] = {"frame": self.frames.tolist(), "time_s": np.round(self.times, 4).tolist(),
                             "box": np.round(self.boxes, 1).tolist(),
                             **{k: [_round(v) for v in s] for k, s in self.raw.items()},
                             **{k + SMOOTH_SUFFIX: [_round(v) for v in s] for k, s in (self.smoothed or {}).items()}}
        return out


@dataclass(frozen=True, eq=False)
class Timeline:
    """Every track of one video; empty, with ``reason``, when no face was found."""

    video: str
    width: int
    height: int
    fps: float | None
    frames: int  # decoded
    analysed: int  # frames the detector and the analyser ran on
    every: int
    window: int  # smoothing window, samples
    filter: str
    detector: str
    landmark_model: str
    expression_model: str | None
    tracks: tuple[TrackTimeline, ...]
    reason: str | None = None  # why there is no track
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.tracks)

    def to_dict(self, series: bool = False) -> dict[str, Any]:
        return {
            "video": self.video, "width": self.width, "height": self.height, "fps": self.fps,
            "frames": self.frames, "analysed_frames": self.analysed, "every": self.every,
            "smoothing": {"filter": self.filter, "window": self.window},
            "detector": self.detector, "landmark_model": self.landmark_model,
            "expression": {"model": self.expression_model} if self.expression_model else None,
            "tracks": [t.to_dict(series) for t in self.tracks],
            "reason": self.reason, "notes": list(self.notes),
        }


def _round(v: Any, decimals: int = 4) -> float | None:
    v = float(v)
    return round(v, decimals) if np.isfinite(v) else None
