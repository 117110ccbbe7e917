"""Edits on video: decode, find the face in each frame, smooth its landmarks over time, edit, encode.

Built on ``mien.video.io.transcode`` (frame timing and the audio stream are kept). The
mesh is smoothed by an adaptive exponential filter in the spirit of the One-Euro filter:
while the face holds still the points are averaged over several frames (no jitter), when it
moves the filter follows at once (no lag); a face that jumps (a cut) restarts it. The swap's
colour correction is smoothed the same way, so lighting does not flicker. Frames without a
usable face are written unchanged and counted. Every frame carries mien's watermark and the
container's comment tag the provenance record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import InputError, MultipleFacesError
from ..image import load_image
from ..landmarks.pose import head_pose
from .face import MAX_PITCH, MAX_YAW, FaceGeometry, find_faces
from .output import record

SLOW_KEEP = 0.7  # share of the previous smoothed points kept while the face holds still
SPEED_SCALE = 0.02  # a median point speed of this share of the face's size per frame: follow at once
CUT = 0.25  # a jump of this share of the face's size between frames: a new shot, restart the filter
COLOUR_KEEP = 0.85  # share of the previous frame's colour correction kept (video swap)


class PointSmoother:
    """Adaptive exponential smoothing of (K, D) landmark points from frame to frame."""

    def __init__(self, slow_keep: float = SLOW_KEEP, speed_scale: float = SPEED_SCALE, cut: float = CUT) -> None:
        self.slow_keep, self.speed_scale, self.cut = slow_keep, speed_scale, cut
        self.state: np.ndarray | None = None

    def reset(self) -> None:
        self.state = None

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, np.float64)
        if self.state is None:
            self.state = points.copy()
            return self.state
        size = float(np.ptp(points[:, 0]) + np.ptp(points[:, 1])) / 2 + 1e-6
        speed = float(np.median(np.linalg.norm(points[:, :2] - self.state[:, :2], axis=1))) / size
        if speed > self.cut:
            self.state = points.copy()
            return self.state
        keep = self.slow_keep * max(0.0, 1.0 - speed / self.speed_scale)
        self.state = keep * self.state + (1 - keep) * points
        return self.state


@dataclass(frozen=True)
class VideoEdit:
    """What a video edit did."""

    input: str
    output: str
    frames: int
    edited: int
    skipped: int  # frames with no usable face, written unchanged
    audio: str
    params: dict
    watermarked: bool = True  # False for frames under the watermark's tile size

    def to_dict(self) -> dict[str, Any]:
        return {"video": self.input, "output": self.output, "frames": self.frames, "edited": self.edited,
                "skipped": self.skipped, "audio": self.audio, **self.params,
                "provenance": {"watermark": self.watermarked, "record": True}}


REDETECT_EVERY = 10  # frames between detector runs while the mesh follows the face by itself
FOLLOW_SCORE = 0.5  # below this face-presence score the follower has lost the face: detect again


def track_faces(frames: Iterator[np.ndarray], largest: bool, iris: bool = False, source: str = "video",
                smoother: PointSmoother | None = None) -> Iterator[tuple[np.ndarray, FaceGeometry | None]]:
    """Each frame with its (smoothed) face, or None where there is none or it is turned too far.

    The detector runs every ``REDETECT_EVERY`` frames (and whenever the face is lost); in
    between the mesh follows the face from its previous position, as MediaPipe does.
    """
    from ..detect import get_detector
    from ..landmarks.mesh import FaceMesh, iris_points

    detector, mesh = get_detector(), FaceMesh()
    smoother = smoother or PointSmoother()
    iris_smoother = PointSmoother()
    previous: np.ndarray | None = None
    since = REDETECT_EVERY
    for index, frame in enumerate(frames):
        raw, box = None, None
        if previous is not None and since < REDETECT_EVERY:
            raw, score = mesh.follow(frame, previous)
            since += 1
            if score < FOLLOW_SCORE:
                raw = None
        if raw is None:
            found = find_faces(frame, detector)
            since = 1
            if len(found) > 1 and not largest:
                raise MultipleFacesError(f"{source} (frame {index})", len(found),
                                         "pass largest=True (CLI: --largest) to edit the largest face")
            if found:
                raw, box = found[0].points, found[0].box
        if raw is None:
            previous = None
            smoother.reset()
            iris_smoother.reset()
            yield frame, None
            continue
        previous = raw
        if box is None:
            box = np.concatenate([raw[:, :2].min(0), raw[:, :2].max(0)])
        points = smoother(raw)
        pose = head_pose(points)
        if abs(pose.yaw) > MAX_YAW or abs(pose.pitch) > MAX_PITCH:
            yield frame, None
            continue
        eyes = iris_smoother(iris_points(frame, points)) if iris else None
        yield frame, FaceGeometry(box, points, pose, eyes)


def _run(src: Path, dst: Path, operation: str, edit: Callable[[np.ndarray, FaceGeometry], np.ndarray],
         largest: bool, iris: bool, rec_params: dict, report_params: dict, progress: bool) -> VideoEdit:
    from ..provenance import operation_code
    from ..provenance.watermark import TILE, FrameMarker
    from ..video.io import VIDEO_SUFFIXES, transcode

    if dst.suffix.lower() not in VIDEO_SUFFIXES:
        raise InputError(f"{dst}: write an edited video as {', '.join(VIDEO_SUFFIXES)}")
    if dst.resolve() == src.resolve():
        raise InputError(f"{dst}: the output would overwrite the input")
    rec = record(operation, "face-mesh", **rec_params)
    marker = FrameMarker(operation_code(operation))
    counts = {"edited": 0, "skipped": 0, "small": False}

    def process(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for frame, face in track_faces(frames, largest, iris, str(src)):
            counts["small"] = counts["small"] or min(frame.shape[:2]) < TILE
            if face is None:
                counts["skipped"] += 1
                yield marker(frame)
                continue
            counts["edited"] += 1
            yield marker(edit(frame, face))

    stats = transcode(src, dst, process, progress=progress, metadata={"comment": rec.to_json()})
    return VideoEdit(str(src), str(dst), stats.frames, counts["edited"], counts["skipped"], stats.audio, report_params,
                     not counts["small"])


def swap_video(source: str | os.PathLike, video: str | os.PathLike, output: str | os.PathLike, consent: bool = False,
               largest: bool = False, shape: float | None = None, progress: bool = False) -> dict[str, Any]:
    """Swap the face of the photo ``source`` onto the face in every frame of ``video``."""
    from .face import check_pose, find_face
    from .swap import SHAPE, FaceSwapper, require_consent

    require_consent(consent)
    shape = SHAPE if shape is None else shape
    image = load_image(source)
    geo = find_face(image, str(source), largest)
    check_pose(geo, str(source))
    swapper = FaceSwapper(image, geo, shape)
    state: dict[str, Any] = {"transfer": None}

    def edit(frame: np.ndarray, face: FaceGeometry) -> np.ndarray:
        result = swapper.apply(frame, face, state["transfer"], COLOUR_KEEP if state["transfer"] is not None else 0.0)
        state["transfer"] = result.transfer
        return result.image

    params = {"edit": "face-swap", "source": Path(source).name, "consent": True, "shape": shape,
              "consent_statement": "the caller stated that the source person consented"}
    return _run(Path(video), Path(output), "swap", edit, largest, False, params,
                {"source": str(source), "consent": True}, progress).to_dict()


def tryon_video(video: str | os.PathLike, output: str | os.PathLike, glasses: Any = None, lipstick: Any = None,
                blush: Any = None, strength: float = 0.6, frame_colour: Any = None, largest: bool = False,
                progress: bool = False, **makeup: Any) -> dict[str, Any]:
    """Glasses and make-up on the face in every frame of ``video`` (landmarks and irises smoothed)."""
    from ..errors import PoseError
    from .tryon import apply_try_on, check_request, load_frame, parse_makeup

    colours = parse_makeup(lipstick=lipstick, blush=blush, **makeup)
    check_request(glasses, colours, strength)
    frame = load_frame(glasses, frame_colour) if glasses is not None else None

    def edit(image: np.ndarray, face: FaceGeometry) -> np.ndarray:
        try:
            return apply_try_on(image, face, frame, colours, strength).image
        except PoseError:  # too turned for glasses in this frame: make-up only
            return apply_try_on(image, face, None, colours, strength).image if colours else image

    params = {"edit": "try-on", "glasses": frame.name if frame else None,
              **{name: c.hex for name, c in colours.items()}, "strength": strength}
    return _run(Path(video), Path(output), "edit", edit, largest, frame is not None, params,
                {k: v for k, v in params.items() if k != "edit" and v is not None}, progress).to_dict()
