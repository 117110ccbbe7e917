"""Video: decode and encode with PyAV keeping audio and timing (``io``), and a face tracker."""

from .io import VIDEO_SUFFIXES, TranscodeStats, VideoInfo, probe, transcode
from .tracker import FaceTracker, Track

__all__ = ["VIDEO_SUFFIXES", "FaceTracker", "TranscodeStats", "Track", "VideoInfo", "probe", "transcode"]
