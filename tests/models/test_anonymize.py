"""Anonymisation with the real detector (and embedder) on real photos and a real video."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from mien.anonymize import EmbeddingExemption, anonymize_file, anonymize_image, anonymize_video
from mien.detect import get_detector
from mien.detect.base import iou_matrix
from mien.errors import MultipleFacesError
from mien.image import load_image
from mien.provenance import check
from mien.video.io import probe, write_video


@pytest.fixture(scope="module")
def detector():
    return get_detector("centerface")  # detection's own threshold (0.5), to check what is left


@pytest.mark.parametrize("method", ["blur", "pixelate", "fill", "ellipse"])
def test_no_face_is_found_again_after_anonymising(group_photo, detector, method):
    result = anonymize_image(group_photo, method=method)
    assert result.n_hidden == len(result.faces) >= 6
    before = detector.detect(group_photo)
    after = detector.detect(result.image)
    assert len(before) == 6
    assert not np.any(iou_matrix(before.boxes, after.boxes) > 0.2), f"{method}: a face is still detectable"


def test_file_keeps_format_drops_gps_and_leaves_the_input_alone(group_photo, tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.0)}
    src = tmp_path / "in" / "party.jpg"
    src.parent.mkdir()
    Image.fromarray(group_photo).save(src, exif=exif, quality=85)
    original = src.read_bytes()
    report = anonymize_file(src, tmp_path / "out" / "party.jpg", method="pixelate")
    out = Image.open(tmp_path / "out" / "party.jpg")
    assert report.masked >= 6 and out.format == "JPEG" and out.size == (group_photo.shape[1], group_photo.shape[0])
    assert out.getexif()[0x010F] == "Canon" and not out.getexif().get_ifd(0x8825)
    assert src.read_bytes() == original

    # Provenance: the JPEG (re-encoded with the source's quality-85 tables) carries the mark and a record.
    report = check(tmp_path / "out" / "party.jpg")
    assert report.watermark.detected and report.operation == "anonymize"
    assert report.record.operation == "anonymize" and report.record.params["method"] == "pixelate"
    assert report.record.params["faces_hidden"] >= 6 and report.record_source in ("xmp", "comment")
    plain = anonymize_file(src, tmp_path / "plain.png", method="pixelate", provenance=False)
    assert not plain.watermarked and not plain.record
    assert check(tmp_path / "plain.png").record is None and not check(tmp_path / "plain.png").watermark.detected


def test_cli_reports_faces_per_file_and_fails_on_a_bad_one(group_photo, tmp_path):
    folder = tmp_path / "photos" / "day1"
    folder.mkdir(parents=True)
    Image.fromarray(group_photo).save(folder / "group.png")
    (folder / "empty.jpg").write_bytes(b"")
    run = subprocess.run([sys.executable, "-m", "mien", "anonymize", str(tmp_path / "photos"), "-o", str(tmp_path / "out"),
                          "--method", "fill", "--json", "--no-progress", "--no-provenance"], capture_output=True, text=True)
    assert run.returncode != 0 and "1 of 2 files failed" in run.stderr
    docs = {d["image"].rsplit("/", 1)[-1]: d for d in json.loads(run.stdout)}
    assert "empty file" in docs["empty.jpg"]["error"]
    assert docs["group.png"]["masked"] >= 6 and all(f["masked"] for f in docs["group.png"]["faces"])
    assert (tmp_path / "out" / "day1" / "group.png").exists() and not (tmp_path / "out" / "day1" / "empty.jpg").exists()
    assert docs["group.png"]["provenance"] == {"watermark": False, "record": False}  # --no-provenance


def pan(photo, n, size=(640, 360)):
    """Frames panning and zooming across ``photo``."""
    h, w = photo.shape[:2]
    for i in range(n):
        scale = 1.0 - 0.2 * i / n
        cw, ch = int(w * scale), int(w * scale * size[1] / size[0])
        x0, y0 = int((w - cw) * i / n), max(0, (h - ch) // 2)
        yield cv2.resize(photo[y0:y0 + ch, x0:x0 + cw], size, interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("every", [1, 3])
def test_video_is_anonymised_with_audio_and_timing_kept(group_photo, detector, tmp_path, every):
    import av

    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    t = np.arange(int(0.5 * 44100)) / 44100
    write_video(src, pan(group_photo, 12), fps=24, audio=((0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), 44100))
    report = anonymize_video(src, dst, every=every)
    assert report.frames == 12 and report.audio == "copied" and report.frames_masked_whole == 0
    assert report.detected_frames == (12 if every == 1 else 5) and report.tracks >= 6
    info = probe(dst)
    assert info.frames == 12 and info.fps == pytest.approx(24) and info.audio_codec == "aac"
    with av.open(str(dst)) as c:
        for frame in c.decode(video=0):
            assert len(detector.detect(frame.to_ndarray(format="rgb24"))) == 0
    # Every frame is marked (through H.264) and the container names the operation.
    assert report.watermarked and report.record
    found = check(dst)
    assert found.watermark.detected and found.operation == "anonymize" and found.record_source == "container-comment"
    assert found.record.params["every"] == every and not check(src).watermark.detected


def small_faces_clip(photo, n, scale=0.3, size=(1280, 720)):
    """720p frames with ``photo`` shrunk (its faces 34-44 px tall) sliding across a grey frame: (frame, offset)."""
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = small.shape[:2]
    for i in range(n):
        x0, y0 = 40 + 6 * i, 150 + 2 * i  # a head moving 15% of its width per frame
        frame = np.full((size[1], size[0], 3), 127, np.uint8)
        frame[y0:y0 + h, x0:x0 + w] = small
        yield frame, np.array([x0, y0, x0, y0], np.float32)


@pytest.mark.parametrize("every", [1, 3])
def test_video_default_detect_size_hides_30px_faces_at_720p(group_photo, detector, every):
    """The video default detects at reduced resolution; faces >= 30 px in a 720p frame must still be covered."""
    from mien.anonymize import VideoAnonymizer

    truth = detector.detect(group_photo).boxes * 0.3  # six faces, 34-44 px after shrinking
    assert len(truth) == 6 and (truth[:, 3] - truth[:, 1]).min() >= 30
    clip = list(small_faces_clip(group_photo, 10))
    anonymizer = VideoAnonymizer("blur", every=every)
    for out in anonymizer.run(frame for frame, _ in clip):
        mask = anonymizer.method.mask(out.faces, 720, 1280)
        for box in truth + clip[out.index][1]:
            x1, y1, x2, y2 = np.round(box).astype(int)
            covered = float((mask[y1:y2, x1:x2] >= 0.99).mean())
            assert covered >= 0.9, f"frame {out.index}: a {y2 - y1} px face only {covered:.0%} hidden"
    assert len(anonymizer.detect_seconds) == (10 if every == 1 else 4)


def lfw(data_dir, name):
    return load_image(data_dir / "lfw" / "images" / name)


def test_consenting_person_stays_visible_and_a_stranger_does_not(data_dir):
    consenting = [lfw(data_dir, "Abdullah_Gul_0001.jpg"), lfw(data_dir, "Abdullah_Gul_0006.jpg")]
    # 0.5: stricter than dlib's published 0.6, since a false match shows a stranger.
    exemption = EmbeddingExemption.from_embedder(consenting, "dlib-resnet", threshold=0.5)
    scene = cv2.resize(np.hstack([lfw(data_dir, "Abdullah_Gul_0007.jpg"), lfw(data_dir, "Aaron_Peirsol_0001.jpg")]),
                       None, fx=2, fy=2)
    result = anonymize_image(scene, exemption=exemption)
    left = result.faces.boxes[:, 0] < scene.shape[1] / 2
    assert len(result.faces) == 2 and left.sum() == 1
    assert result.hidden.tolist() == (~left).tolist(), "the consenting (left) face is visible, the stranger hidden"
    assert np.array_equal(result.image[:, : scene.shape[1] // 2 - 40], scene[:, : scene.shape[1] // 2 - 40])


def test_reference_photo_must_show_one_person(group_photo):
    with pytest.raises(MultipleFacesError):
        EmbeddingExemption.from_embedder([group_photo], "dlib-resnet", threshold=0.5)


def test_cli_consent_keeps_the_enrolled_face_visible(data_dir, tmp_path):
    lfw_dir = data_dir / "lfw" / "images"
    scene = cv2.resize(np.hstack([lfw(data_dir, "Abdullah_Gul_0007.jpg"), lfw(data_dir, "Aaron_Peirsol_0001.jpg")]),
                       None, fx=2, fy=2)
    Image.fromarray(scene).save(tmp_path / "scene.png")
    run = subprocess.run([sys.executable, "-m", "mien", "anonymize", str(tmp_path / "scene.png"), "-o", str(tmp_path / "out"),
                          "--consent", str(lfw_dir / "Abdullah_Gul_0001.jpg"), "--consent", str(lfw_dir / "Abdullah_Gul_0006.jpg"),
                          "--consent-threshold", "0.5", "--json"], capture_output=True, text=True, check=True)
    faces = sorted(json.loads(run.stdout)["faces"], key=lambda f: f["box"][0])
    assert [f["masked"] for f in faces] == [False, True]
