"""Video: decode and encode with PyAV keeping audio and timing (``io``), a face tracker, and shot cuts."""

from .cuts import scene_cut
from .io import VIDEO_SUFFIXES, DecodedFrame, TranscodeStats, VideoInfo, iter_frames, probe, transcode
from .tracker import FaceTracker, Track

__all__ = ["VIDEO_SUFFIXES", "DecodedFrame", "FaceTracker", "TranscodeStats", "Track", "VideoInfo", "iter_frames", "probe", "scene_cut",
           "transcode"]
