"""Real time: name the people in a video or camera stream, once per face track, not once per frame.

Faces are detected (every ``every``-th frame) and followed by ``mien.video``'s tracker. A
track is identified when it has been seen on two detections (one-frame false detections
never reach the gallery), and again at most ``retries`` times, ``retry_gap`` frames apart,
while it is still "unknown" (its first frames may be blurred or turned away); once named
it stays named. So a person walking through ten seconds of video costs one to three
searches, not 250, and each search is one journal line.

Each track gives one event: track id, identity or ``None``, decision, best score and
threshold, first and last frame and time. With an output path the video is re-encoded
(audio kept) with each face's box and name drawn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import InputError, VideoError
from ..types import Faces
from .gallery import Gallery


@dataclass
class TrackEvent:
    """What one face track was found to be, and when it was on screen."""

    track: int
    first_frame: int
    last_frame: int
    first_seen: float  # seconds
    last_seen: float
    identity: str | None = None
    decision: str = "unknown"
    score: float | None = None
    threshold: float | None = None
    searches: int = 0
    last_search_frame: int = -10**9
    _hits: int = field(default=0, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"track": self.track, "identity": self.identity, "decision": self.decision,
                "score": None if self.score is None else round(self.score, 6),
                "threshold": None if self.threshold is None else round(self.threshold, 6),
                "first_frame": self.first_frame, "last_frame": self.last_frame,
                "first_seen": round(self.first_seen, 3), "last_seen": round(self.last_seen, 3), "searches": self.searches}


@dataclass(frozen=True)
class WatchResult:
    source: str
    frames: int
    fps: float
    events: tuple[TrackEvent, ...]
    output: str | None
    gallery: str
    model: str

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "frames": self.frames, "fps": round(self.fps, 3), "gallery": self.gallery,
                "model": self.model, "output": self.output, "people": sorted({e.identity for e in self.events if e.identity}),
                "tracks": [e.to_dict() for e in self.events]}


class Watcher:
    """Feeds frames to a tracker and the gallery; ``frame(image)`` returns what to draw on it."""

    def __init__(self, gallery: Gallery, fps: float, every: int = 1, fpir: float = 1e-3, retries: int = 2,
                 retry_gap: int = 15, min_face: float = 40.0, on_event: Callable[[TrackEvent], None] | None = None) -> None:
        from ..video.tracker import FaceTracker

        if every < 1 or retries < 0 or retry_gap < 1:
            raise InputError("watch needs every >= 1, retries >= 0 and retry_gap >= 1")
        self.gallery = gallery
        self.fps = float(fps) or 25.0
        self.every, self.fpir, self.retries, self.retry_gap, self.min_face = every, fpir, retries, retry_gap, min_face
        self.on_event = on_event
        # short memory: a track that outlives its face could hand its name to the next person there
        self.tracker = FaceTracker(keep=2 * every + 1)
        self.events: dict[int, TrackEvent] = {}
        self.index = 0

    def frame(self, image: np.ndarray) -> list[tuple[np.ndarray, TrackEvent]]:
        """Process one RGB frame; the (box, event) of every face on it now."""
        from ..match.faces import detect_with_fallback

        i, t = self.index, self.index / self.fps
        self.index += 1
        self.tracker.predict()
        detections = None
        if i % self.every == 0:
            detections, _ = detect_with_fallback(image, self.gallery.detector, None)
            self.tracker.update(detections)
        shown = []
        for track in self.tracker.tracks:
            if track.retired:
                continue
            event = self.events.get(track.id)
            if event is None:
                event = self.events[track.id] = TrackEvent(track.id, i, i, t, t)
            if track.unseen == 0:  # on this frame's detections
                event.last_frame, event.last_seen = i, t
                event._hits += 1
                face = _detection_of(track.box, detections)
                if face is not None and self._due(event, i) and float(face.heights[0]) >= self.min_face:
                    self._identify(event, image, face, i)
                shown.append((track.box.copy(), event))
            elif track.unseen <= self.every:  # between detections: where the tracker expects the face
                shown.append((track.predicted_box(), event))
        return shown

    def _due(self, event: TrackEvent, i: int) -> bool:
        if event.decision == "match" or event._hits < 2:
            return False
        return event.searches <= self.retries and i - event.last_search_frame >= self.retry_gap

    def _identify(self, event: TrackEvent, image: np.ndarray, face: Faces, i: int) -> None:
        g = self.gallery
        emb = g.embedder.embed_faces(image, face)
        result = g._identify(emb, 1, self.fpir, [face.to_list()[0]])[0]
        g.store.log(g.name, g._line("identify", result.identity, decision=result.decision, source="watch",
                                    track=event.track, frame=i), durable=False)
        event.searches += 1
        event.last_search_frame = i
        best = result.candidates[0] if result.candidates else None
        event.decision, event.identity = result.decision, result.identity
        event.score, event.threshold = (best.score if best else None), result.threshold
        if self.on_event is not None:
            self.on_event(event)


def _detection_of(box: np.ndarray, detections: Faces) -> Faces | None:
    """The detection a just-updated track took its box from (the tracker copies it exactly)."""
    if detections is None or not len(detections):
        return None
    hit = np.flatnonzero(np.all(np.abs(detections.boxes - box[None]) < 1e-3, axis=1))
    return detections[int(hit[0])] if len(hit) else None


def draw_tracks(image: np.ndarray, shown: list[tuple[np.ndarray, TrackEvent]]) -> np.ndarray:
    from ..draw import draw_faces

    if not shown:
        return image
    faces = Faces(np.stack([b for b, _ in shown]), np.ones(len(shown), np.float32), None)
    labels = [(e.identity or ("unknown" if e.searches else "...")) + f" #{e.track}" for _, e in shown]
    return draw_faces(image, faces, labels=labels)


def watch(gallery: Gallery, source: str | os.PathLike | int, output: str | os.PathLike | None = None, *,
          every: int = 1, fpir: float = 1e-3, progress: bool = False, max_frames: int | None = None,
          on_event: Callable[[TrackEvent], None] | None = None) -> WatchResult:
    """Identify the people in a video file (or a camera, by its index) once per face track."""
    if isinstance(source, int):
        return _watch_camera(gallery, source, output, every, fpir, max_frames, on_event)
    from ..video.io import probe, transcode

    info = probe(source)
    watcher = Watcher(gallery, info.fps or 25.0, every, fpir, on_event=on_event)

    def process(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for image in frames:
            yield draw_tracks(image, watcher.frame(image))

    if output is not None:
        transcode(source, output, process, progress=progress, metadata={"comment": "faces named by mien gallery watch"})
    else:
        for image in _frames(source, max_frames):
            watcher.frame(image)
    events = tuple(sorted(watcher.events.values(), key=lambda e: e.track))
    return WatchResult(str(source), watcher.index, watcher.fps, events, None if output is None else str(output),
                       gallery.name, gallery.info.model)


def _frames(path: str | os.PathLike, limit: int | None) -> Iterator[np.ndarray]:
    import av

    from ..video.io import _open, _upright, _video_stream

    with _open(path) as container:
        stream = _video_stream(container, path)
        try:
            for i, frame in enumerate(container.decode(stream)):
                if limit is not None and i >= limit:
                    break
                yield _upright(frame)
        except av.FFmpegError as exc:
            raise VideoError(f"{path}: cannot decode ({type(exc).__name__}: {exc})") from exc


def _watch_camera(gallery: Gallery, index: int, output, every, fpir, max_frames, on_event) -> WatchResult:
    import cv2

    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise VideoError(f"camera {index} cannot be opened (is one attached, and free?)")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    watcher = Watcher(gallery, fps, every, fpir, on_event=on_event)
    frames = []
    try:
        while max_frames is None or watcher.index < max_frames:
            ok, bgr = capture.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            drawn = draw_tracks(rgb, watcher.frame(rgb))
            if output is not None:
                frames.append(drawn)
    finally:
        capture.release()
    if output is not None and frames:
        from ..video.io import write_video

        write_video(output, frames, fps=fps)
    events = tuple(sorted(watcher.events.values(), key=lambda e: e.track))
    return WatchResult(f"camera:{index}", watcher.index, fps, events, None if output is None else str(output),
                       gallery.name, gallery.info.model)
