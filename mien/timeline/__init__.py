"""Expression over time: follow each face through a video and measure it frame by frame.

    >>> from mien.timeline import video_timeline, write_timeline
    >>> timeline = video_timeline("interview.mp4", every=2, smooth=5)
    >>> write_timeline(timeline, "out/")          # track_<id>.csv, track_<id>.png, timeline.json

Per track and analysed frame: the expression probabilities (every class), head pose (yaw,
pitch, roll), eye openness left/right and mouth opening (``mien.landmarks.openness``),
raw and smoothed with a centred moving median (``smooth``). Modules: ``run`` (the decode,
track and analyse loop), ``smooth``, ``result`` (the frozen ``Timeline`` and
``TrackTimeline``), ``write`` (CSV, JSON) and ``plot`` (matplotlib).

A video without faces gives an empty timeline whose ``reason`` says so; a file PyAV cannot
read raises ``VideoError``; a track shorter than the smoothing window is kept raw with a note.
"""

from .result import MEASURES, Timeline, TrackTimeline
from .run import video_timeline
from .smooth import DEFAULT_WINDOW, FILTER, moving_median, smooth_probabilities
from .write import SUMMARY, track_csv, write_timeline

__all__ = ["DEFAULT_WINDOW", "FILTER", "MEASURES", "SUMMARY", "Timeline", "TrackTimeline", "moving_median",
           "smooth_probabilities", "track_csv", "video_timeline", "write_timeline"]
