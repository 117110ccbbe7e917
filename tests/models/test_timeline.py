"""Expression over time (``mien analyze VIDEO --timeline``) on a video made from real LFW photos.

The video: Bill Stapleton (frontal, mouth closed) drifting right across a dark background
for 20 frames with a few pixels of jitter, then a hard cut to Anne McLellan (frontal,
laughing with her mouth open) on a light background for 20 frames, overlapping where he
was, at 10 fps. Both photos were picked by their mesh's mouth opening among LFW's first
photos (0.003 and 0.43).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from mien.errors import MienError, VideoError
from mien.timeline import MEASURES, moving_median, smooth_probabilities, video_timeline, write_timeline
from mien.video.io import write_video

CLOSED, OPEN = "Bill_Stapleton_0001.jpg", "Anne_McLellan_0001.jpg"
SHOT = 20  # frames per person


def _frame(photo: np.ndarray, x: int, y: int, background: int) -> np.ndarray:
    frame = np.full((240, 320, 3), background, np.uint8)
    frame[y:y + photo.shape[0], x:x + photo.shape[1]] = photo
    return frame


@pytest.fixture(scope="module")
def video(data_dir, tmp_path_factory):
    from mien.image import load_image

    lfw = data_dir / "lfw" / "images"
    closed, opened = load_image(lfw / CLOSED), load_image(lfw / OPEN)
    rng = np.random.default_rng(0)
    jitter = lambda: int(rng.integers(-3, 4))  # noqa: E731
    frames = [_frame(closed, 20 + 3 * i + jitter(), 45 + jitter(), 30) for i in range(SHOT)]
    frames += [_frame(opened, 80 + jitter(), 45 + jitter(), 210) for _ in range(SHOT)]
    path = tmp_path_factory.mktemp("timeline") / "two_people.mp4"
    write_video(path, frames, fps=10)
    return path


@pytest.fixture(scope="module")
def timeline(video):
    return video_timeline(video, every=1, smooth=5)


def run(*args):
    return subprocess.run([sys.executable, "-m", "mien", *map(str, args)], capture_output=True, text=True)


def test_one_track_per_person_spanning_their_frames(timeline):
    assert timeline.reason is None and timeline.frames == timeline.analysed == 2 * SHOT
    assert len(timeline) == 2, [t.to_dict() for t in timeline.tracks]
    first, second = timeline.tracks
    assert first.frames.tolist() == list(range(SHOT))  # seen on every frame, nobody carried across the cut
    assert second.frames.tolist() == list(range(SHOT, 2 * SHOT))
    assert second.times[0] == pytest.approx(2.0, abs=1e-3) and second.times[-1] == pytest.approx(3.9, abs=1e-3)
    # the drifting face's box moves right with it, about 3 px a frame
    centre = (first.boxes[:, 0] + first.boxes[:, 2]) / 2
    assert 40 < centre[-1] - centre[0] < 75


def test_expression_probabilities_sum_to_one_raw_and_smoothed(timeline):
    for track in timeline.tracks:
        assert len(track.classes) == 7 and "happy" in track.classes
        for smoothed in (False, True):
            probs = track.expression(smoothed)
            assert probs.shape == (len(track), 7) and (probs >= 0).all()
            np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    # Anne McLellan laughs in her photo
    assert timeline.tracks[1].to_dict()["expression"]["dominant"] == "happy"


def test_frontal_photos_have_small_yaw_and_open_eyes(timeline):
    for track in timeline.tracks:
        assert np.abs(np.median(track.smoothed["yaw"])) < 10
        assert np.abs(np.median(track.smoothed["roll"])) < 8
        for eye in ("eye_left", "eye_right"):
            assert 0.15 < np.median(track.smoothed[eye]) < 0.45


def test_mouth_opening_is_larger_for_the_open_mouth(timeline):
    closed, opened = (np.median(t.smoothed["mouth"]) for t in timeline.tracks)
    assert closed < 0.05 and opened > 0.3


def test_smoothing_lowers_frame_to_frame_variance(timeline):
    for track in timeline.tracks:
        for name in ("yaw", "pitch", "eye_left", "mouth"):
            raw, smooth = track.raw[name], track.smoothed[name]
            assert np.var(np.diff(smooth)) < 0.5 * np.var(np.diff(raw)), (track.track, name)
            assert np.abs(smooth - raw).max() < 10 * np.std(raw) + 1e-9  # smoothed, not moved away


def test_moving_median_removes_jitter_and_keeps_a_step():
    rng = np.random.default_rng(1)
    truth = np.r_[np.zeros(30), np.ones(30)]
    noisy = truth + rng.normal(0, 0.1, 60)
    noisy[[10, 45]] += [2.0, -2.0]  # one-frame outliers
    smooth = moving_median(noisy, 5)
    assert np.var(np.diff(smooth)) < 0.3 * np.var(np.diff(noisy))
    assert np.abs(smooth - truth).max() < 0.35  # outliers gone, step still at its frame
    assert smooth[27] < 0.5 < smooth[32]
    gaps = noisy.copy()
    gaps[20:27] = np.nan  # gaps are ignored: filled from the values in the window, NaN where there are none
    filled = moving_median(gaps, 5)
    assert np.isnan(filled[22:25]).all() and np.isfinite(np.delete(filled, [22, 23, 24])).all()
    probs = smooth_probabilities(rng.dirichlet(np.ones(7), 12), 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_written_files_hold_raw_and_smoothed_side_by_side(timeline, tmp_path):
    summary = write_timeline(timeline, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timeline.json", "track_0.csv", "track_0.png",
                                                          "track_1.csv", "track_1.png"]  # no temporary files left
    assert json.loads((tmp_path / "timeline.json").read_text()) == json.loads(json.dumps(summary))
    assert summary["smoothing"] == {"filter": "centred moving median", "window": 5}
    rows = list(csv.DictReader(open(tmp_path / "track_1.csv")))
    assert len(rows) == SHOT and rows[0]["frame"] == str(SHOT) and rows[0]["track"] == "1"
    for name in ("expr_happy", *MEASURES):
        assert name in rows[0] and f"{name}_smooth" in rows[0]
    assert float(rows[3]["mouth"]) == pytest.approx(timeline.tracks[1].raw["mouth"][3], rel=1e-3)
    assert (tmp_path / "track_0.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_matplotlib_is_said_before_anything_is_written(timeline, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MienError, match="pip install"):
        write_timeline(timeline, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    summary = write_timeline(timeline, tmp_path / "out", plots=False)
    assert summary["files"] == ["track_0.csv", "track_1.csv"]


def test_cli_every_k_and_a_track_too_short_to_smooth(video, tmp_path):
    result = run("analyze", video, "--timeline", "-o", tmp_path, "--every", 2, "--smooth", 11, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["every"] == 2 and doc["analysed_frames"] == SHOT and len(doc["tracks"]) == 2
    for track in doc["tracks"]:  # 10 samples each, under the window of 11: kept raw, with a note
        assert track["samples"] == 10 and track["smoothed"] is False and "kept raw" in track["note"]
    rows = list(csv.DictReader(open(tmp_path / "track_0.csv")))
    assert [int(r["frame"]) for r in rows] == list(range(0, SHOT, 2))
    assert rows[0]["yaw"] != "" and rows[0]["yaw_smooth"] == ""


def test_a_video_without_faces_gives_an_empty_timeline_with_the_reason(tmp_path):
    rng = np.random.default_rng(2)
    base = rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)
    frames = [np.repeat(np.repeat(np.roll(base, i, axis=1), 8, 0), 8, 1) for i in range(8)]
    path = tmp_path / "no_face.mp4"
    write_video(path, frames, fps=8)
    result = run("analyze", path, "--timeline", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "empty timeline: no face found in any of the 8 frames" in result.stdout
    doc = json.loads((tmp_path / "out" / "timeline.json").read_text())
    assert doc["tracks"] == [] and doc["reason"].startswith("no face found") and doc["files"] == []


def test_a_truncated_video_is_a_video_error_exit_2_and_writes_nothing(video, tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    with pytest.raises(VideoError):
        video_timeline(cut)
    result = run("analyze", cut, "--timeline", "-o", tmp_path / "out")
    assert result.returncode == 2 and result.stderr.startswith("mien: error:") and "cut.mp4" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_bad_options_are_input_errors(video, tmp_path, capsys):
    from mien.cli import main  # in-process: these fail before any model runs

    assert main(["analyze", str(video), "--timeline"]) == 2  # no -o
    assert main(["analyze", str(video), "--timeline", "-o", str(tmp_path), "--smooth", "4"]) == 2  # even window
    capsys.readouterr()
    assert main(["analyze", str(video), "--timeline", "-o", str(tmp_path), "--quality", "--draw", str(tmp_path / "x.png")]) == 2
    assert "--draw, --quality/--icao/--set do not apply to --timeline" in capsys.readouterr().err
    assert main(["analyze", str(video), "--timeline", "-o", str(tmp_path), "--attributes", "age"]) == 2  # no expression model
    assert not list(tmp_path.iterdir())


def test_the_doc_example_runs(video, tmp_path):
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "analysis.md").read_text()
    section = doc[doc.index("## Expression over time"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = block.replace('"interview.mp4"', repr(str(video))).replace('"out/"', repr(str(tmp_path)))
    scope: dict = {}
    exec(compile(code, "docs/analysis.md", "exec"), scope)  # noqa: S102 - our own documentation
    assert len(scope["timeline"]) == 2 and (tmp_path / "timeline.json").is_file()


def test_openness_measures_on_a_drawn_mesh():
    from mien.errors import ShapeError
    from mien.landmarks.openness import eye_openness, mouth_opening

    mesh = np.zeros((468, 3))
    mesh[[33, 133], :2] = [[0, 0], [30, 0]]  # image-left eye: 30 wide, lids 9 apart
    mesh[[159, 145], :2] = [[15, -4.5], [15, 4.5]]
    mesh[[263, 362], :2] = [[100, 0], [70, 0]]  # image-right eye: closed
    mesh[[386, 374], :2] = [[85, 0.5], [85, 0.5]]
    mesh[[78, 308], :2] = [[30, 60], [70, 60]]  # mouth 40 wide, 20 open
    mesh[[13, 14], :2] = [[50, 50], [50, 70]]
    assert eye_openness(mesh) == pytest.approx((0.3, 0.0))
    assert mouth_opening(mesh) == pytest.approx(0.5)
    with pytest.raises(ShapeError):
        mouth_opening(np.zeros((68, 2)))


def test_corrupt_packets_inside_a_video_are_skipped_and_said(video, tmp_path):
    data = bytearray(video.read_bytes())
    rng = np.random.default_rng(3)
    start = len(data) // 3
    data[start:start + 3000:7] = rng.integers(0, 256, len(range(start, start + 3000, 7)), dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    timeline = video_timeline(damaged, every=5)  # no exception: what decodes is analysed
    assert 0 < timeline.frames <= 2 * SHOT and len(timeline) >= 1
    assert timeline.frames == 2 * SHOT or any("could not be decoded" in n for n in timeline.notes)
