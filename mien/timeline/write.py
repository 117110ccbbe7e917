"""Write a timeline: one CSV (and one PNG plot) per track, and ``timeline.json`` summing them up.

Everything is rendered in memory first and each file is written atomically
(``mien.atomic``), the summary last: a run that fails leaves the files of the run before
it, or none, never a half-written one.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_atomic
from ..errors import StorageError
from .plot import plot_track, require_matplotlib
from .result import SMOOTH_SUFFIX, Timeline, TrackTimeline

SUMMARY = "timeline.json"


def track_csv(track: TrackTimeline) -> str:
    """time_s, frame, track, x1, y1, x2, y2, then each column raw and smoothed side by side
    (the smoothed one empty when the track was too short to smooth)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["time_s", "frame", "track", "x1", "y1", "x2", "y2",
                     *[name for c in track.columns for name in (c, c + SMOOTH_SUFFIX)]])
    for i in range(len(track)):
        row: list[Any] = [f"{track.times[i]:.4f}", int(track.frames[i]), track.track,
                          *(f"{v:.1f}" for v in track.boxes[i])]
        for c in track.columns:
            row.append(_cell(track.raw[c][i]))
            row.append(_cell(track.smoothed[c][i]) if track.smoothed is not None else "")
        writer.writerow(row)
    return buffer.getvalue()


def _cell(v: float) -> str:
    return f"{v:.5g}" if np.isfinite(v) else ""


def write_timeline(timeline: Timeline, out_dir: str | os.PathLike, plots: bool = True) -> dict[str, Any]:
    """Write ``track_<id>.csv`` (and ``track_<id>.png`` with ``plots``) per track and ``timeline.json``;
    returns the summary written (with its ``files``). Plots need matplotlib (``MienError`` before
    anything is written when it is missing)."""
    from ..models.notices import with_notices

    if plots:
        require_matplotlib()
    out = Path(out_dir)
    files: dict[str, bytes] = {}
    summary = timeline.to_dict()
    for track, entry in zip(timeline.tracks, summary["tracks"]):
        name = f"track_{track.track}"
        files[f"{name}.csv"] = track_csv(track).encode()
        entry["csv"] = f"{name}.csv"
        if plots:
            files[f"{name}.png"] = plot_track(track)
            entry["plot"] = f"{name}.png"
    summary["files"] = sorted(files)
    with_notices(summary)
    files[SUMMARY] = json.dumps(summary, indent=2).encode()
    try:
        if out.exists() and not out.is_dir():
            raise StorageError(f"{out}: exists and is not a folder")
        for name, data in files.items():  # the summary last (dicts keep insertion order)
            write_atomic(out / name, data)
    except OSError as exc:
        raise StorageError(f"cannot write the timeline to {out}: {exc}") from exc
    return summary
