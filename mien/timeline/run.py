"""The loop: decode, detect and track, analyse each tracked face, gather per-track series, smooth."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..errors import InputError
from ..landmarks.openness import eye_openness, mouth_opening
from ..video.cuts import scene_cut
from ..video.io import iter_frames, probe
from ..video.tracker import FaceTracker
from .result import MEASURES, Timeline, TrackTimeline, expression_column
from .smooth import DEFAULT_WINDOW, FILTER, check_window, moving_median, smooth_probabilities

if TYPE_CHECKING:
    from ..analyze import Analyzer
    from ..detect import Detector


@dataclass(frozen=True)
class _Sample:
    frame: int
    time: float
    box: np.ndarray
    expression: dict[str, float]
    measures: tuple[float, ...]  # in MEASURES order


def video_timeline(
    video: str | os.PathLike,
    *,
    every: int = 1,
    smooth: int = DEFAULT_WINDOW,
    analyzer: Analyzer | None = None,
    detector: str | Detector | None = None,
    keep: int | None = None,
    progress: bool = False,
    on_frame: Callable[[int, int], None] | None = None,
) -> Timeline:
    """Follow every face through ``video`` and measure it over time.

    The detector and analyser run on every ``every``-th frame (and on the first frame of
    each shot); the tracker (``mien.video.FaceTracker``) gives each face a track id that
    holds across detector misses for ``keep`` frames (default: 15, and never under two
    detection intervals), never across a hard cut. Each track's series are smoothed with
    a centred moving median of ``smooth`` samples (``mien.timeline.smooth``).

    ``analyzer``: a ``mien.analyze.Analyzer`` with the face mesh (default: the face mesh and
    the expression model, with ``detector``, a name or a ``Detector``, default CenterFace).
    ``on_frame(done, total)`` is called after each decoded frame (``total`` as the container
    reports it, 0 when unknown). Raises ``VideoError`` for a file PyAV cannot read.
    """
    from ..analyze import Analyzer
    from ..detect import DEFAULT_DETECTOR

    if int(every) != every or every < 1:
        raise InputError(f"every must be a whole number >= 1, got {every}")
    window = check_window(smooth)
    if analyzer is None:
        analyzer = Analyzer(detector or DEFAULT_DETECTOR, "face-mesh", ("expression",))
    elif analyzer.landmarks != "face-mesh":
        raise InputError("a video timeline needs the face mesh (Analyzer(landmarks='face-mesh'))")
    info = probe(video)
    tracker = FaceTracker(keep=max(15, 2 * every) if keep is None else keep)
    samples: dict[int, list[_Sample]] = {}
    expression_model: str | None = None
    skipped: list[str] = []
    decoded = analysed = since = 0
    thumb = None
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=info.frames or None, desc=Path(video).name, unit="frame", file=sys.stderr, leave=False)
    frames = iter_frames(video, skipped)
    try:
        for frame in frames:
            thumb, cut = scene_cut(thumb, frame.image)
            if cut:  # a new shot: nobody carries over, and its first frame is analysed
                tracker.cut()
                since = 0
            tracker.predict()
            if since % every == 0:
                result = analyzer.analyze(frame.image)
                ids = tracker.update(result.faces)
                analysed += 1
                for track, box, res in zip(ids, result.faces.boxes, result.results):
                    if res.mesh is None or res.pose is None:
                        continue
                    expr = res.expression
                    if expr is not None:
                        expression_model = expr.model
                    samples.setdefault(int(track), []).append(_Sample(
                        frame.index, frame.time, np.asarray(box, np.float64),
                        dict(expr.scores) if expr is not None else {},
                        (res.pose.yaw, res.pose.pitch, res.pose.roll, *eye_openness(res.mesh), mouth_opening(res.mesh))))
            since += 1
            decoded += 1
            if bar is not None:
                bar.update(1)
            if on_frame is not None:
                on_frame(decoded, info.frames)
    finally:
        frames.close()
        if bar is not None:
            bar.close()
    classes = _classes(samples)
    tracks = tuple(_track(k, v, classes, window) for k, v in sorted(samples.items()))
    notes = [t.note for t in tracks if t.note]
    if skipped:
        notes.append(f"{len(skipped)} video packets could not be decoded and their frames are missing "
                     f"(first: {skipped[0]})")
    reason = None
    if not tracks:
        reason = (f"no face found in any of the {analysed} frames analysed "
                  f"({decoded} decoded, every {every}{'th' if every > 1 else ''} frame)")
    return Timeline(str(video), info.width, info.height, info.fps, decoded, analysed, every, window, FILTER,
                    analyzer.detector.name, analyzer.landmarks, expression_model, tracks, reason, tuple(notes))


def _classes(samples: dict[int, list[_Sample]]) -> tuple[str, ...]:
    for rows in samples.values():
        for s in rows:
            if s.expression:
                return tuple(s.expression)
    return ()


def _track(track: int, rows: list[_Sample], classes: tuple[str, ...], window: int) -> TrackTimeline:
    raw: dict[str, np.ndarray] = {}
    probs = np.array([[s.expression.get(c, np.nan) for c in classes] for s in rows], np.float64).reshape(len(rows), -1)
    for i, c in enumerate(classes):
        raw[expression_column(c)] = probs[:, i]
    values = np.array([s.measures for s in rows], np.float64).reshape(len(rows), len(MEASURES))
    for i, name in enumerate(MEASURES):
        raw[name] = values[:, i]
    smoothed, note = None, None
    if len(rows) >= window:
        smoothed = {}
        if classes:
            sp = smooth_probabilities(probs, window)
            smoothed.update({expression_column(c): sp[:, i] for i, c in enumerate(classes)})
        sv = moving_median(values, window)
        smoothed.update({name: sv[:, i] for i, name in enumerate(MEASURES)})
    else:
        note = (f"track {track}: {len(rows)} sample{'s' if len(rows) != 1 else ''}, fewer than the smoothing "
                f"window of {window}: kept raw (the smoothed columns are empty)")
    return TrackTimeline(track, np.array([s.frame for s in rows], np.int64), np.array([s.time for s in rows], np.float64),
                         np.stack([s.box for s in rows]), classes, raw, smoothed, note)
