"""Video in and out with PyAV (no weights): frame rate, frame count, audio and bad files."""

from fractions import Fraction

import numpy as np
import pytest

from mien.errors import VideoError
from mien.video.io import probe, transcode, write_video


def frames(n=12, shape=(48, 64)):
    for i in range(n):
        yield np.full((*shape, 3), (i * 20) % 256, np.uint8)


def tone(seconds, rate=44100):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate


def audio_packets(path):
    import av

    with av.open(str(path)) as c:
        if not c.streams.audio:
            return 0
        return sum(1 for p in c.demux(c.streams.audio[0]) if p.size)


def identity(it):
    for frame in it:
        yield frame


@pytest.mark.parametrize("fps", [25, Fraction(30000, 1001)])
def test_transcode_keeps_frames_rate_and_copies_audio(tmp_path, fps):
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    write_video(src, frames(12), fps=fps, audio=tone(12 / float(fps)))
    stats = transcode(src, dst, identity)
    a, b = probe(src), probe(dst)
    assert stats.frames == 12 and b.frames == 12 and stats.audio == "copied"
    assert b.fps == pytest.approx(float(fps), rel=1e-3) and (b.width, b.height) == (64, 48)
    assert b.audio_codec == "aac" and audio_packets(dst) == audio_packets(src) > 0
    assert b.duration == pytest.approx(a.duration, abs=0.05)


def test_process_sees_frames_in_order_and_may_delay_them(tmp_path):
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mkv"
    write_video(src, frames(9), fps=10)
    seen = []

    def delayed(it):  # hold three frames back, as the look-ahead does, and invert them
        held = []
        for frame in it:
            seen.append(int(frame[0, 0, 0]))
            held.append(255 - frame)
            if len(held) > 3:
                yield held.pop(0)
        yield from held

    assert transcode(src, dst, delayed).frames == 9
    assert seen == pytest.approx([i * 20 for i in range(9)], abs=3)
    import av

    with av.open(str(dst)) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert abs(int(first[0, 0, 0]) - 255) <= 3


def test_audio_the_container_cannot_hold_is_reencoded(tmp_path):
    src, dst = tmp_path / "in.mp4", tmp_path / "out.webm"
    write_video(src, frames(6), fps=12, audio=tone(0.5, 48000))
    stats = transcode(src, dst, identity)
    assert stats.audio == "re-encoded" and probe(dst).audio_codec in ("opus", "vorbis")


def test_video_without_audio(tmp_path):
    src = tmp_path / "in.mp4"
    write_video(src, frames(4), fps=5)
    assert transcode(src, tmp_path / "out.mp4", identity).audio == "none"


def test_odd_sizes_are_evened(tmp_path):
    src = tmp_path / "in.mkv"
    write_video(src, frames(3, shape=(48, 64)), fps=5)
    assert transcode(src, tmp_path / "out.mp4", lambda it: (f[:47, :63] for f in it)).frames == 3
    assert (probe(tmp_path / "out.mp4").width, probe(tmp_path / "out.mp4").height) == (62, 46)


@pytest.mark.parametrize("content", [b"", b"this is not a video at all" * 10])
def test_unreadable_videos_raise_video_error(tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(VideoError, match="bad.mp4"):
        transcode(bad, tmp_path / "out.mp4", identity)
    with pytest.raises(VideoError):
        probe(tmp_path / "missing.mp4")


def test_file_without_video_stream(tmp_path):
    import av

    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        stream.layout = "mono"
        samples, _ = tone(0.2)
        frame = av.AudioFrame.from_ndarray(samples[None, :1024], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode())
    with pytest.raises(VideoError, match="no video stream"):
        probe(path)


def test_unsupported_output_type(tmp_path):
    src = tmp_path / "in.mp4"
    write_video(src, frames(2), fps=5)
    with pytest.raises(VideoError, match="unsupported"):
        transcode(src, tmp_path / "out.gif", identity)


def test_rotated_phone_video_is_turned_upright(tmp_path):
    import av

    src = tmp_path / "phone.mp4"
    with av.open(str(src), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(90)
        image = np.zeros((32, 64, 3), np.uint8)
        image[:8, :8] = 255  # a mark in the stored frame's top-left corner
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    shapes = []

    def record(it):
        for f in it:
            shapes.append(f.shape)
            yield f

    transcode(src, tmp_path / "out.mp4", record)
    assert shapes == [(64, 32, 3)] * 3, "process sees the frame as it is displayed"
    with av.open(str(tmp_path / "out.mp4")) as c:
        first = next(c.decode(video=0))
        assert (first.width, first.height) == (32, 64) and not first.rotation
        assert first.to_ndarray(format="rgb24")[60, 4, 0] > 200, "displayed counter-clockwise: the mark ends bottom-left"


def test_failure_while_processing_leaves_no_output(tmp_path):
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    write_video(src, frames(6), fps=5)

    def broken(it):
        for i, f in enumerate(it):
            if i == 3:
                raise RuntimeError("detector exploded")
            yield f

    with pytest.raises(RuntimeError):
        transcode(src, dst, broken)
    assert list(tmp_path.iterdir()) == [src]


def decoded(path):
    import av

    with av.open(str(path)) as c:
        return [(f.pts, f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]


def test_threaded_pipeline_writes_the_same_video_as_serial(tmp_path):
    src = tmp_path / "in.mp4"
    write_video(src, (np.random.default_rng(i).integers(0, 255, (48, 64, 3), np.uint8) for i in range(10)), fps=10,
                audio=tone(1.0))

    def darken(it):
        for f in it:
            yield f // 2

    serial = transcode(src, tmp_path / "serial.mp4", darken, threaded=False)
    threaded = transcode(src, tmp_path / "threaded.mp4", darken, threaded=True)
    assert serial == threaded and threaded.frames == 10 and threaded.audio == "copied"
    a, b = decoded(tmp_path / "serial.mp4"), decoded(tmp_path / "threaded.mp4")
    assert [p for p, _ in a] == [p for p, _ in b] == sorted(p for p, _ in a)
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(a, b))
    assert audio_packets(tmp_path / "threaded.mp4") == audio_packets(tmp_path / "serial.mp4") > 0


def test_stage_thread_keeps_order_raises_errors_and_stops_when_closed():
    import threading

    from mien.video.io import _in_thread

    assert list(_in_thread(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield 1
        raise VideoError("decoder broke")

    it = _in_thread(failing())
    assert next(it) == 1
    with pytest.raises(VideoError, match="decoder broke"):
        next(it)

    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    it = _in_thread(endless(), depth=2)
    assert next(it) == 0
    it.close()
    assert closed.is_set(), "closing the stage stops its thread and closes the source"
