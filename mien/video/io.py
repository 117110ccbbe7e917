"""Video in and out with PyAV (FFmpeg): decode to RGB frames, encode them back, keep the audio.

``transcode(src, dst, process)`` reads ``src``, passes its frames (RGB uint8 arrays, in
order) through ``process`` (an iterator transform that yields exactly one frame per
frame it takes, possibly later, as a look-ahead buffer does), and writes ``dst``:

- video re-encoded (H.264 for .mp4/.mov/.mkv/.m4v, VP9 for .webm, MPEG-4 Part 2 for
  .avi) with each frame's original timestamp, so frame rate, variable frame rate and
  duration are kept;
- the first audio stream copied packet for packet when ``dst``'s container can hold its
  codec, re-encoded otherwise (AAC, or Opus/Vorbis for .webm); other streams (subtitles,
  data) are dropped, since they may carry names or locations;
- container metadata (title, location, creation tools) dropped for the same reason.

Frames carrying a display rotation (phone videos) are turned upright before ``process``
sees them and written upright, so a detector sees faces the right way up.

With ``threaded=True`` (the default) decoding, ``process`` and encoding run in three
threads joined by short queues, so decoding and encoding overlap with detection
(FFmpeg and onnxruntime release the GIL); frames stay in order and an error in any
stage stops the others and is raised as if the work were serial.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..errors import VideoError

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi")

_VIDEO_CODEC = {".webm": "libvpx-vp9", ".avi": "mpeg4"}  # default: libx264
# Audio codecs each container accepts as a stream copy.
_AUDIO_COPY = {
    ".mp4": {"aac", "mp3", "ac3", "eac3", "alac", "opus"},
    ".m4v": {"aac", "mp3", "ac3", "eac3", "alac"},
    ".mov": {"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s24le", "pcm_f32le"},
    ".webm": {"opus", "vorbis"},
    ".avi": {"mp3", "ac3", "aac", "pcm_s16le", "pcm_u8"},
}
_AUDIO_REENCODE = {".webm": ("libopus", "libvorbis", "opus", "vorbis")}


@dataclass(frozen=True)
class VideoInfo:
    """What ``probe`` finds in a video file."""

    path: str
    width: int
    height: int
    fps: float | None  # average frame rate
    frames: int  # as the container reports it; 0 when unknown
    duration: float | None  # seconds
    codec: str
    audio_codec: str | None


@dataclass(frozen=True)
class TranscodeStats:
    frames: int
    audio: str  # "copied", "re-encoded" or "none"
    decode_errors: int  # packets the decoder rejected (their frames are missing from the output)


def _open(path: str | os.PathLike, mode: str = "r"):
    import av

    p = Path(path)
    if mode == "r":
        if not p.exists():
            raise VideoError(f"{p}: no such file")
        if p.is_dir():
            raise VideoError(f"{p}: is a directory, not a video")
        if p.stat().st_size == 0:
            raise VideoError(f"{p}: empty file (0 bytes)")
    try:
        return av.open(str(p), mode)
    except (av.FFmpegError, OSError, ValueError) as exc:
        action = "not a readable video" if mode == "r" else "cannot be written"
        raise VideoError(f"{p}: {action} ({type(exc).__name__}: {exc})") from exc


def _video_stream(container, path) -> object:
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: has no video stream")
    return container.streams.video[0]


def probe(path: str | os.PathLike) -> VideoInfo:
    """Size, frame rate, frame count, duration and codecs of a video file."""
    with _open(path) as container:
        vs = _video_stream(container, path)
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        duration = float(vs.duration * vs.time_base) if vs.duration and vs.time_base else (
            container.duration / 1e6 if container.duration else None)
        rate = vs.average_rate or vs.guessed_rate
        return VideoInfo(str(path), vs.codec_context.width, vs.codec_context.height,
                         float(rate) if rate else None, int(vs.frames or 0), duration, vs.codec_context.name, audio)


def container_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The container's tags (title, comment, encoder, ...), as the file stores them."""
    with _open(path) as container:
        return dict(container.metadata)


def read_frames(path: str | os.PathLike, limit: int, stride: int = 1) -> list[np.ndarray]:
    """Up to ``limit`` upright RGB frames: every ``stride``-th from the start (a corrupt packet is skipped)."""
    import av

    out: list[np.ndarray] = []
    with _open(path) as container:
        vs = _video_stream(container, path)
        try:
            for i, frame in enumerate(container.decode(vs)):
                if i % stride == 0:
                    out.append(_upright(frame))
                    if len(out) >= limit:
                        break
        except av.FFmpegError as exc:
            if not out:
                raise VideoError(f"{path}: cannot decode ({type(exc).__name__}: {exc})") from exc
    return out


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded frame: its index in decode order, its time in seconds from the first frame, its pixels."""

    index: int
    time: float
    image: np.ndarray  # upright RGB uint8


def iter_frames(path: str | os.PathLike, skipped: list[str] | None = None) -> Iterator[DecodedFrame]:
    """Stream the upright RGB frames of ``path`` with their times, one at a time (the file stays open
    until the iterator ends or is closed).

    A packet the decoder rejects is skipped (its frame is missing; the reason goes to
    ``skipped`` when given); a file that yields no frame at all raises ``VideoError``.
    """
    import av

    with _open(path) as container:
        vs = _video_stream(container, path)
        vs.thread_type = "AUTO"
        rate = float(vs.average_rate or vs.guessed_rate or 25)
        index, start = 0, None
        try:
            packets = container.demux(vs)
            while True:
                try:
                    packet = next(packets)
                    decoded = packet.decode()
                except StopIteration:
                    break
                except av.error.InvalidDataError as exc:
                    if skipped is not None:
                        skipped.append(f"{type(exc).__name__}: {exc}")
                    continue
                for frame in decoded:
                    t = float(frame.time) if frame.time is not None else index / rate
                    start = t if start is None else start
                    yield DecodedFrame(index, round(t - start, 6), _upright(frame))
                    index += 1
        except av.FFmpegError as exc:
            if not index:
                raise VideoError(f"{path}: cannot decode ({type(exc).__name__}: {exc})") from exc
            if skipped is not None:
                skipped.append(f"decoding stopped after {index} frames: {type(exc).__name__}: {exc}")
        if not index:
            raise VideoError(f"{path}: no video frame could be decoded")


def _upright(frame) -> np.ndarray:
    image = frame.to_ndarray(format="rgb24")
    rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
    # PyAV reports the display matrix's counter-clockwise rotation; undo it.
    return np.ascontiguousarray(np.rot90(image, k=rotation // 90)) if rotation % 90 == 0 and rotation else image


def transcode(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    process: Callable[[Iterator[np.ndarray]], Iterable[np.ndarray]],
    *,
    crf: int = 18,
    progress: bool = False,
    on_frame: Callable[[], None] | None = None,
    threaded: bool = True,
    metadata: dict[str, str] | None = None,
) -> TranscodeStats:
    """Decode ``src``, run ``process`` over its frames, encode ``dst`` keeping timing and audio;
    ``metadata`` goes into the container's tags (e.g. ``comment``)."""
    import av

    src, dst = Path(src), Path(dst)
    suffix = dst.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise VideoError(f"{dst}: unsupported output video type {suffix!r}; use one of {', '.join(VIDEO_SUFFIXES)}")
    inp = _open(src)
    try:
        vin = _video_stream(inp, src)
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        dst.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed when complete: a failure leaves no half file.
        partial = dst.with_name(f".{dst.stem}.partial{dst.suffix}")
        out = _open(partial, "w")
        out.metadata.update(metadata or {})
        done = False
        try:
            stats = _transcode(inp, vin, ain, out, suffix, process, crf, progress, on_frame, src, threaded)
            out.close()
            os.replace(partial, dst)
            done = True
            return stats
        except av.FFmpegError as exc:
            raise VideoError(f"{src} -> {dst}: {type(exc).__name__}: {exc}") from exc
        finally:
            if not done:
                try:
                    out.close()
                except av.FFmpegError:
                    pass  # the original error is the one to report
                partial.unlink(missing_ok=True)
    finally:
        inp.close()


def _transcode(inp, vin, ain, out, suffix, process, crf, progress, on_frame, src, threaded) -> TranscodeStats:
    import av
    from tqdm import tqdm

    rate = vin.average_rate or vin.guessed_rate or Fraction(25)
    vout = None
    aout, audio_mode = None, "none"
    if ain is not None:
        if ain.codec_context.name in _AUDIO_COPY.get(suffix, set()) or suffix == ".mkv":
            aout, audio_mode = out.add_stream_from_template(ain), "copied"
        else:
            codec = next((c for c in _AUDIO_REENCODE.get(suffix, ("aac",)) if c in av.codecs_available), "aac")
            aout = out.add_stream(codec, rate=ain.codec_context.sample_rate or 48000)
            aout.layout = ain.codec_context.layout.name if ain.codec_context.layout else "stereo"
            audio_mode = "re-encoded"
    pts_queue: deque = deque()  # appended by the decoding thread, popped by the encoding one (thread-safe)
    pending: list = []  # audio packets demuxed before the video stream exists (no header yet)
    errors = 0
    mux_lock = threading.Lock()  # audio is muxed from the decoding thread, video from the encoding one

    def mux_audio(packet) -> None:
        with mux_lock:
            if vout is None:
                pending.append(packet)
            else:
                out.mux(packet)

    def frames() -> Iterator[np.ndarray]:
        nonlocal errors
        streams = [s for s in (vin, ain) if s is not None]
        for packet in inp.demux(*streams):
            if packet.stream is ain:
                if audio_mode == "copied":
                    if packet.dts is not None:
                        packet.stream = aout
                        mux_audio(packet)
                else:
                    try:
                        for aframe in packet.decode():
                            aframe.pts = None
                            for p in aout.encode(aframe):
                                mux_audio(p)
                    except av.error.InvalidDataError:
                        errors += 1
                continue
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError:
                errors += 1
                continue
            for frame in decoded:
                pts_queue.append((frame.pts, frame.time_base))
                yield _upright(frame)

    total = int(vin.frames or 0) or None
    written = 0
    source = _in_thread(frames()) if threaded else frames()
    processed = _in_thread(process(source)) if threaded else process(source)
    try:
        with tqdm(total=total, unit="frame", desc=src.name, disable=not progress, leave=False) as bar:
            for image in processed:
                if vout is None:
                    with mux_lock:
                        vout = _add_video_stream(out, suffix, rate, vin, image.shape, crf)
                        out.mux(pending)
                        pending.clear()
                pts, time_base = pts_queue.popleft()
                h, w = vout.codec_context.height, vout.codec_context.width
                vframe = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
                vframe.pts = pts if pts is not None else written
                vframe.time_base = time_base or vin.time_base
                packets = vout.encode(vframe)
                with mux_lock:
                    out.mux(packets)
                written += 1
                bar.update(1)
                if on_frame is not None:
                    on_frame()
    finally:  # stop the other threads (and close the stages' generators) before the files close
        for stage in (processed, source):
            if hasattr(stage, "close"):
                stage.close()
    if vout is not None:
        for packet in vout.encode():
            out.mux(packet)
    if audio_mode == "re-encoded":
        for packet in aout.encode():
            out.mux(packet)
    if written == 0:
        raise VideoError(f"{src}: no video frame could be decoded")
    return TranscodeStats(written, audio_mode, errors)


# Frames in flight between two pipeline threads: enough to ride out jitter, few enough to keep
# memory small (a 4K RGB frame is 25 MB).
PIPELINE_DEPTH = 4
_END = object()


def _in_thread(items: Iterator[Any], depth: int = PIPELINE_DEPTH) -> Iterator[Any]:
    """Iterate ``items`` in a background thread, up to ``depth`` items ahead of the caller.

    Order is kept; an exception in ``items`` is raised here; closing this generator (or
    dropping it) stops the thread and closes ``items`` in it.
    """
    slots: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consuming thread, which raises it
            put((_END, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=work, name="mien-video-stage", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = slots.get()
            if item is _END:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _add_video_stream(out, suffix, rate, vin, shape, crf):
    codec = _VIDEO_CODEC.get(suffix, "libx264")
    vout = out.add_stream(codec, rate=rate)
    # 4:2:0 needs even sizes: an odd last row or column is dropped.
    vout.width, vout.height = shape[1] // 2 * 2, shape[0] // 2 * 2
    vout.pix_fmt = "yuv420p"
    vout.time_base = vin.time_base if vin is not None else 1 / rate
    if codec == "libx264":
        vout.options = {"crf": str(crf), "preset": "veryfast"}
    elif codec == "libvpx-vp9":
        vout.options = {"crf": str(crf + 14), "b": "0", "deadline": "realtime", "cpu-used": "8"}
    else:
        vout.bit_rate = 8_000_000
    return vout


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float | Fraction = 25,
    audio: tuple[np.ndarray, int] | None = None,
    crf: int = 18,
    metadata: dict[str, str] | None = None,
) -> int:
    """Encode RGB frames (and optionally mono float audio ``(samples, rate)``) into ``path``.

    For synthetic test and benchmark videos; returns the number of frames written.
    """
    import av

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise VideoError(f"{path}: unsupported output video type {suffix!r}; use one of {', '.join(VIDEO_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(fps).limit_denominator(1001)
    written = 0
    with _open(path, "w") as out:
        out.metadata.update(metadata or {})
        astream = None
        if audio is not None:
            samples, sample_rate = audio
            codec = next((c for c in _AUDIO_REENCODE.get(suffix, ("aac",)) if c in av.codecs_available), "aac")
            astream = out.add_stream(codec, rate=int(sample_rate))
            astream.layout = "mono"
        vout = None
        for image in frames:
            if vout is None:
                vout = _add_video_stream(out, suffix, rate, None, image.shape, crf)
            h, w = vout.codec_context.height, vout.codec_context.width
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
            frame.pts = written
            frame.time_base = 1 / rate
            out.mux(vout.encode(frame))
            written += 1
        if vout is None:
            raise VideoError(f"{path}: no frames to write")
        out.mux(vout.encode())
        if astream is not None:
            data = np.asarray(samples, np.float32).reshape(1, -1)
            step = 1024
            for start in range(0, data.shape[1], step):
                chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, start:start + step]), format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = int(sample_rate), start
                out.mux(astream.encode(chunk))
            out.mux(astream.encode())
    return written
