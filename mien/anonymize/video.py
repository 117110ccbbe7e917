"""Anonymise video: detect every k-th frame, track in between, hide with a look-ahead.

``VideoAnonymizer.run(frames)`` takes RGB frames and yields ``AnonymizedFrame``s in order.
Detection runs on every ``every``-th frame (and the last). Between two detected frames the
output is held back (a look-ahead of ``every - 1`` frames) so each held frame is hidden
with boxes interpolated between the detections before and after it, together with the
tracker's forward prediction: the mask does not lag a moving head, and a face that
appears between two detections is hidden from the frame it appears in, not from the
next detection on. With ``every=1`` there is no look-ahead and no delay.

Fail-secure: a face the detector stops seeing stays hidden for ``keep`` frames along its
predicted path (``FaceTracker``); a frame on which the detector raises is hidden whole
when ``mask_failed`` is set (the default), and counted in the report.

At a hard cut (consecutive frames that differ wholesale) nothing is interpolated across:
the last frame before the cut and the first after it are detected, and the old shot's
tracks coast in place (still hidden) without being matched to the new shot's faces.

``anonymize_video(src, dst)`` runs this over a file with PyAV, keeping audio and timing.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..detect import Detector
from ..errors import InputError
from ..types import Faces
from ..video.cuts import scene_cut
from ..video.tracker import FaceTracker, grow_box
from .base import Method
from .detection import video_detector
from .exempt import Exemption, check_exempt
from .methods import DEFAULT_METHOD, get_method


# Detect every 3rd frame by default: with the tracker and look-ahead it left no face of 30 px
# or more uncovered on the benchmark clip, at a third of the detector's cost (docs/anonymize.md).
# A live source gets its frames two frames later (the look-ahead); pass every=1 for none.
DEFAULT_EVERY = 3

# A face first detected at a keyframe is also hidden on the held frames before it, its box
# grown by this share of its size per frame back: its motion there is unknown, and this
# covers heads moving up to a fifth of their width per frame.
BACKFILL_GROW = 0.2


@dataclass(frozen=True, eq=False)
class AnonymizedFrame:
    index: int
    image: np.ndarray
    faces: Faces  # the boxes hidden (and exempt ones left visible), with track_id / exempt extras
    detected: bool  # the detector ran on this frame
    whole: bool  # the whole frame was hidden because the detector failed on it


@dataclass(frozen=True)
class VideoReport:
    input: str
    output: str
    frames: int
    detected_frames: int
    frames_with_faces: int
    faces_hidden: int  # face boxes hidden, summed over frames
    tracks: int  # distinct faces followed
    frames_masked_whole: int
    detector_error: str | None  # the first error, when the detector failed on some frame
    audio: str  # "copied", "re-encoded" or "none"
    decode_errors: int
    fps: float | None  # the video's frame rate
    seconds: float  # wall time
    processing_fps: float
    detector_ms: float | None  # median per detector call
    watermarked: bool = False  # every frame carries mien's mark (operation "anonymize")
    record: bool = False  # the container holds a provenance record (its comment tag)

    def to_dict(self) -> dict[str, Any]:
        return {"video": self.input, **{k: v for k, v in asdict(self).items() if k != "input"}}


class VideoAnonymizer:
    """Stateful per-video anonymiser; use one instance per video."""

    def __init__(
        self,
        method: str | Method = DEFAULT_METHOD,
        detector: str | Detector | None = None,
        every: int = DEFAULT_EVERY,
        keep: int | None = None,
        mask_failed: bool = True,
        exemption: Exemption | None = None,
        tracker: FaceTracker | None = None,
        detect_size: int | None = None,
    ) -> None:
        if every < 1:
            raise InputError(f"every must be >= 1, got {every}")
        self.method = get_method(method)
        # A named detector sees frames at detect_size (default VIDEO_DETECT_SIZES); an instance as it is.
        self.detector = video_detector(detector, detect_size)
        self.every = int(every)
        # Default: half a second at 30 fps, and never shorter than two detection intervals.
        self.tracker = tracker or FaceTracker(keep=max(15, 2 * self.every) if keep is None else keep)
        self.mask_failed = bool(mask_failed)
        self.exemption = exemption
        self.detector_error: str | None = None
        self.detect_seconds: list[float] = []  # wall time of each detector call

    def _detect(self, image: np.ndarray) -> tuple[Faces | None, np.ndarray | None]:
        start = time.perf_counter()
        try:
            faces = self.detector.detect(image)
            self.detect_seconds.append(time.perf_counter() - start)
            exempt = None
            if self.exemption is not None and len(faces):
                exempt = check_exempt(self.exemption.is_exempt(image, faces), len(faces))
            return faces, exempt
        except Exception as exc:  # fail-secure by design: any failure hides the frame, recorded in the report
            if not self.mask_failed:
                raise
            if self.detector_error is None:
                self.detector_error = f"frame detection failed: {type(exc).__name__}: {exc}"
            return None, None

    def _hide(self, index: int, image: np.ndarray, faces: Faces, detected: bool, whole: bool) -> AnonymizedFrame:
        if whole:
            out = np.ascontiguousarray(self.method._hide(image, float(max(image.shape[:2]))))
        else:
            exempt = faces.extras.get("exempt", np.zeros(len(faces), bool))
            out = self.method.apply(image, faces[~exempt])
        return AnonymizedFrame(index, out, faces, detected, whole)

    def run(self, frames: Iterable[np.ndarray]) -> Iterator[AnonymizedFrame]:
        held: list[tuple[int, np.ndarray, Faces]] = []  # frames waiting for the next detection
        previous: Faces | None = None  # the boxes at the last detected frame
        thumb = None
        it = iter(frames)
        nxt = next(it, None)
        index = since_detection = 0
        while nxt is not None:
            image, nxt = nxt, next(it, None)
            thumb, cut = scene_cut(thumb, image)
            if cut:
                # Never interpolate across a cut: the scene's last frame becomes a detected frame,
                # and the tracks of the old scene coast where they are without matching new faces.
                if held:
                    i, last, _ = held.pop()
                    yield from self._detected(i, last, held, previous)
                self.tracker.cut()
                previous, since_detection = None, 0
            self.tracker.predict()
            if since_detection % self.every and nxt is not None:
                held.append((index, image, self.tracker.boxes()))
            else:
                previous = yield from self._detected(index, image, held, previous)
                since_detection = 0
            index += 1
            since_detection += 1

    def _detected(self, index: int, image: np.ndarray, held: list, previous: Faces | None):
        """Detect on ``image`` (the tracker already advanced to it), then emit the held frames and it."""
        found, exempt = self._detect(image)
        if found is not None:
            self.tracker.update(found, exempt)
        current = self.tracker.boxes()
        gap = len(held) + 1
        for j, (i, held_image, predicted) in enumerate(held):
            growth = min(BACKFILL_GROW * (gap - j - 1), self.tracker.max_grow)
            boxes = predicted if found is None else _between(previous, current, predicted, (j + 1) / gap, growth)
            yield self._hide(i, held_image, boxes, False, False)
        held.clear()
        yield self._hide(index, image, current, True, found is None)
        return current


def _between(before: Faces | None, after: Faces, predicted: Faces, t: float, new_growth: float) -> Faces:
    """Boxes for a held frame at fraction ``t`` of the way between two detected frames.

    Tracks at both ends: linear interpolation (exempt only when exempt at both ends).
    Tracks new at ``after``: its box grown by ``new_growth`` for the motion not seen
    (``BACKFILL_GROW`` per frame back).
    Plus the forward prediction of every live track that is not exempt, so a head that
    did not move in a straight line is still covered by one of the two guesses.
    """
    prev = {} if before is None else {int(k): i for i, k in enumerate(before.extras["track_id"])}
    rows, ids, exempt = [], [], []
    for i, track in enumerate(after.extras["track_id"]):
        j = prev.get(int(track))
        if j is None:
            rows.append(grow_box(after.boxes[i], new_growth))
            exempt.append(False)
        else:
            rows.append((1 - t) * before.boxes[j] + t * after.boxes[i])
            exempt.append(bool(before.extras["exempt"][j] and after.extras["exempt"][i]))
        ids.append(int(track))
    interp = Faces(np.array(rows, np.float32).reshape(-1, 4), np.ones(len(rows), np.float32), None,
                   {"track_id": np.array(ids, np.int64), "unseen": np.zeros(len(rows), np.int64),
                    "exempt": np.array(exempt, bool)})
    exempt_ids = [k for k, e in zip(ids, exempt) if e]
    return Faces.concat([interp, predicted[~np.isin(predicted.extras["track_id"], exempt_ids)]])


def anonymize_video(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    method: str | Method = DEFAULT_METHOD,
    detector: str | Detector | None = None,
    every: int = DEFAULT_EVERY,
    keep: int | None = None,
    mask_failed: bool = True,
    exemption: Exemption | None = None,
    progress: bool = False,
    crf: int = 18,
    detect_size: int | None = None,
    threaded: bool = True,
    provenance: bool = True,
    on_frame: Callable[[int, int], None] | None = None,
) -> VideoReport:
    """Anonymise ``src`` into ``dst`` (a new file; the container follows ``dst``'s suffix).

    ``detect_size``: long side, in pixels, the detector sees frames at (default
    ``VIDEO_DETECT_SIZES``); ``threaded``: decode and encode in threads of their own.
    ``provenance``: mark every frame with mien's watermark (``FrameMarker``; 15-20 CPU ms more
    per 720p frame, measured in benchmarks/anonymize.py) and put a provenance record in the
    container's comment tag. ``on_frame(done, total)`` is called after each frame (``total``
    as the container reports it, 0 when unknown): a service's progress events.
    """
    from ..video.io import probe, transcode

    src, dst = Path(src), Path(dst)
    if dst.exists() and dst.resolve() == src.resolve():
        raise InputError(f"{src}: output would overwrite the input")
    info = probe(src)
    anonymizer = VideoAnonymizer(method, detector, every, keep, mask_failed, exemption, detect_size=detect_size)
    counts = {"frames": 0, "detected": 0, "with_faces": 0, "hidden": 0, "whole": 0}
    tracks: set[int] = set()
    marker, metadata, watermarked = None, None, False
    if provenance:
        from ..provenance import ProvenanceRecord, operation_code
        from ..provenance.watermark import TILE, FrameMarker

        marker = FrameMarker(operation_code("anonymize"))
        watermarked = min(info.width, info.height) >= TILE
        record = ProvenanceRecord("anonymize", anonymizer.detector.name, watermark=watermarked,
                                  params={"method": anonymizer.method.name, "every": every, "mask_failed": mask_failed})
        metadata = {"comment": record.to_json()}

    def process(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for frame in anonymizer.run(frames):
            counts["frames"] += 1
            counts["detected"] += frame.detected
            counts["whole"] += frame.whole
            visible = int(frame.faces.extras["exempt"].sum()) if len(frame.faces) else 0
            counts["hidden"] += len(frame.faces) - visible
            counts["with_faces"] += len(frame.faces) > 0
            tracks.update(int(t) for t in frame.faces.extras.get("track_id", ()))
            if on_frame is not None:
                on_frame(counts["frames"], info.frames)
            yield frame.image if marker is None else marker(frame.image)

    start = time.perf_counter()
    stats = transcode(src, dst, process, crf=crf, progress=progress, threaded=threaded, metadata=metadata)
    seconds = time.perf_counter() - start
    return VideoReport(
        str(src), str(dst), stats.frames, counts["detected"], counts["with_faces"], counts["hidden"], len(tracks),
        counts["whole"], anonymizer.detector_error, stats.audio, stats.decode_errors, info.fps, round(seconds, 3),
        round(stats.frames / seconds, 2) if seconds > 0 else 0.0,
        round(1000 * float(np.median(anonymizer.detect_seconds)), 1) if anonymizer.detect_seconds else None,
        watermarked, metadata is not None,
    )
