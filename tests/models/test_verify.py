"""1:1 verification on real photos: the library call, its errors, and the three CLI commands."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mien.errors import MultipleFacesError, NoFaceError
from mien.image import load_image
from mien.match import embed_image, verify_images
from mien.models.store import model_path


def lfw(data_dir, name):
    return str(data_dir / "lfw" / "images" / f"{name}.jpg")


def run(*args):
    return subprocess.run([sys.executable, "-m", "mien", *args], capture_output=True, text=True)


def test_same_person_and_different_people(data_dir):
    same = verify_images(lfw(data_dir, "Abel_Pacheco_0001"), lfw(data_dir, "Abel_Pacheco_0004"), fmr=1e-2)
    assert same.same and same.model == "dlib-resnet" and same.target_fmr == 1e-2
    assert same.distance <= same.threshold and 5e-3 < same.fmr < 2e-2
    other = verify_images(lfw(data_dir, "Abel_Pacheco_0001"), lfw(data_dir, "Akhmed_Zakayev_0001"), fmr=1e-2)
    assert not other.same and other.distance > other.threshold
    strict = verify_images(lfw(data_dir, "Abel_Pacheco_0001"), lfw(data_dir, "Abel_Pacheco_0004"), fmr=1e-4)
    assert strict.threshold < same.threshold and "LFW" in strict.calibration


def test_jitter_tta_verifies_with_its_own_calibration(data_dir):
    from mien.embed import get_embedder
    from mien.match.calibration import load_calibration

    jitter = get_embedder("dlib-resnet", tta="jitter")
    same = verify_images(lfw(data_dir, "Abel_Pacheco_0001"), lfw(data_dir, "Abel_Pacheco_0004"), embedder=jitter)
    plain = verify_images(lfw(data_dir, "Abel_Pacheco_0001"), lfw(data_dir, "Abel_Pacheco_0004"))
    assert same.same and same.model == "dlib-resnet+jitter8"
    assert same.threshold == load_calibration("dlib-resnet+jitter8").threshold_for(1e-3) != plain.threshold
    assert abs(same.distance - plain.distance) < 0.1
    other = verify_images(lfw(data_dir, "Abel_Pacheco_0001"), lfw(data_dir, "Akhmed_Zakayev_0001"), embedder=jitter)
    assert not other.same


def test_recognition_detects_at_640_px_and_finds_the_group(group_photo):
    from mien.errors import InputError
    from mien.match import recognition_detector
    from mien.match.faces import _low_threshold, detect_with_fallback

    det = recognition_detector()
    assert det.name == "centerface" and det.max_side == 640
    assert recognition_detector(detect_size=1280).max_side == 1280
    assert _low_threshold(det).max_side == 640 and _low_threshold(det).score_threshold == 0.2
    with pytest.raises(InputError, match="centerface only"):
        recognition_detector("blazeface", detect_size=640)
    small, _ = detect_with_fallback(group_photo, det)
    full, _ = detect_with_fallback(group_photo, recognition_detector(detect_size=1280))
    assert len(small) == len(full) == 6
    assert np.abs(np.sort(small.boxes[:, 0]) - np.sort(full.boxes[:, 0])).max() < 15


def test_landmarks_refined_by_a_half_size_pass(data_dir, group_photo):
    from mien.match import recognition_detector
    from mien.match.faces import detect_with_fallback, refine_landmarks

    det = recognition_detector()
    for image in (load_image(lfw(data_dir, "Abel_Pacheco_0001")), group_photo):
        plain, _ = detect_with_fallback(image, det, refine=None)
        refined, how = detect_with_fallback(image, det)
        assert how == "normal" and len(refined) == len(plain) and np.array_equal(refined.boxes, plain.boxes)
        moved = np.linalg.norm(refined.landmarks - plain.landmarks, axis=2)
        assert 0 < moved.max() < 0.06 * plain.heights.min()  # a small correction, on every face
        assert (moved.max(axis=1) > 0).all()
        half = det.detect(cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)) if image.shape[1] <= 640 else None
        if half is not None:  # the refined points sit halfway to the half-size pass's
            assert np.allclose(refined.landmarks[0], (plain.landmarks[0] + 2 * half.largest().landmarks[0]) / 2, atol=0.5)
    assert refine_landmarks(group_photo, plain[:0], det).landmarks.shape[0] == 0


def test_no_face_names_the_image():
    blank = np.full((240, 320, 3), 127, np.uint8)
    with pytest.raises(NoFaceError, match="blank.png"):
        embed_image(blank, source="blank.png")


def test_several_faces_is_an_error_unless_largest(group_photo):
    with pytest.raises(MultipleFacesError, match="6 faces found in group.jpg.*largest"):
        embed_image(group_photo, source="group.jpg")
    emb = embed_image(group_photo, largest=True)
    assert emb.vectors.shape == (1, 128)


def test_cli_embed_and_verify_json(data_dir):
    a, b = lfw(data_dir, "Abel_Pacheco_0001"), lfw(data_dir, "Abel_Pacheco_0004")
    out = run("embed", a)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["model"] == "dlib-resnet" and len(doc["embedding"]) == 128 and "spread" not in doc
    out = run("embed", a, "--no-refine")  # the detector's own landmarks: a slightly different crop
    assert out.returncode == 0, out.stderr
    moved = np.linalg.norm(np.subtract(json.loads(out.stdout)["embedding"], doc["embedding"]))
    assert 1e-4 < moved < 0.15, moved
    out = run("verify", a, b, "--fmr", "1e-3", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["same"] is True and doc["target_fmr"] == 1e-3 and doc["image_a"] == a
    assert {"distance", "similarity", "threshold", "fmr", "model", "calibration"} <= set(doc)
    assert doc["spread_a"] is None and doc["spread_b"] is None
    out = run("verify", a, b, "--tta", "jitter", "--jitters", "4", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["model"] == "dlib-resnet+jitter4" and 0.01 < doc["spread_a"] < 0.3 and 0.01 < doc["spread_b"] < 0.3
    out = run("verify", a, b, "--tta", "jitter", "--jitters", "16")  # no shipped calibration: says how to make one
    assert out.returncode == 2 and "mien calibrate PAIRS.csv --model dlib-resnet --tta jitter --jitters 16" in out.stderr
    out = run("verify", a, b, "--tta", "jitter", "--flip")
    assert out.returncode == 2 and "contradicts" in out.stderr


def test_cli_verify_several_faces_is_a_one_line_error(group_photo, data_dir):
    out = run("verify", str(model_path("sample-group")), lfw(data_dir, "Abel_Pacheco_0001"))
    assert out.returncode == 2 and out.stderr.startswith("mien: error: 6 faces found") and "--largest" in out.stderr
    out = run("verify", str(model_path("sample-group")), lfw(data_dir, "Abel_Pacheco_0001"), "--largest")
    assert out.returncode == 0 and "different people" in out.stdout


def lfw_pairs(data_dir) -> list[dict]:
    with open(data_dir / "lfw" / "pairs.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def write_calibration_pairs(data_dir, path):
    """40 pairs of fold 3 (12 same, 28 different) as a path1,path2,same CSV."""
    rows = [r for r in lfw_pairs(data_dir) if r["fold"] == "3"]
    picked = [r for r in rows if r["same"] == "1"][:12] + [r for r in rows if r["same"] == "0"][:28]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path1", "path2", "same"])
        for r in picked:
            w.writerow([r["path1"], r["path2"], r["same"]])
    return path


def test_cli_calibrate_writes_a_file_verify_uses(tmp_path, data_dir):
    pairs = write_calibration_pairs(data_dir, tmp_path / "pairs.csv")
    target = tmp_path / "mine.json"
    out = run("calibrate", str(pairs), "--root", str(data_dir / "lfw"), "--out", str(target), "--fmr", "0.05", "--json",
              "--roc", str(tmp_path / "roc.csv"))
    assert out.returncode == 0, out.stderr
    roc_rows = (tmp_path / "roc.csv").read_text().splitlines()
    assert roc_rows[0] == "far,tar,threshold" and roc_rows[-1].startswith("1,1,")
    report = json.loads(out.stdout)
    assert report["genuine"] == 12 and report["impostor"] == 28 and 0 <= report["eer"] < 0.2
    assert report["operating_point"]["threshold"] is not None
    saved = json.loads(target.read_text())
    assert saved["model"] == "dlib-resnet" and saved["impostor_pairs"] == 28
    a, b = lfw(data_dir, "Abel_Pacheco_0001"), lfw(data_dir, "Abel_Pacheco_0004")
    out = run("verify", a, b, "--fmr", "0.05", "--calibration", str(target), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["calibration"].startswith("pairs.csv: 40 labelled pairs")
    out = run("verify", a, b, "--fmr", "1e-4", "--calibration", str(target))
    assert out.returncode == 2 and "outside what the dlib-resnet calibration measured" in out.stderr


def test_cli_cohort_calibrate_and_verify_with_normalised_scores(tmp_path, data_dir):
    """A cohort of other LFW people's faces, thresholds fitted with it, verify with it."""
    cohort_images = sorted({r["path1"] for r in lfw_pairs(data_dir) if r["fold"] == "5"})[:24]  # View 2 folds share no one
    (tmp_path / "not_an_image.jpg").write_bytes(b"\xff\xd8 truncated")
    out = run("cohort", *[str(data_dir / "lfw" / p) for p in cohort_images], str(tmp_path / "not_an_image.jpg"),
              "-o", str(tmp_path / "cohort.npz"), "--top-k", "8")
    assert out.returncode == 0, out.stderr
    assert "24 faces from 25 images (1 skipped)" in out.stdout and "not_an_image.jpg" in out.stderr
    score_model = out.stdout.split("calibrated as ")[1].split(";")[0]
    assert score_model.startswith("dlib-resnet+asnorm-")

    csv_path = write_calibration_pairs(data_dir, tmp_path / "pairs.csv")
    cal = tmp_path / "cal.json"
    out = run("calibrate", str(csv_path), "--root", str(data_dir / "lfw"), "--cohort", str(tmp_path / "cohort.npz"),
              "--out", str(cal), "--fmr", "0.05", "--json", "--largest")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["model"] == score_model
    assert json.loads(cal.read_text())["model"] == score_model and json.loads(cal.read_text())["metric"] == "asnorm-euclidean"

    a, b, c = lfw(data_dir, "Abel_Pacheco_0001"), lfw(data_dir, "Abel_Pacheco_0004"), lfw(data_dir, "Akhmed_Zakayev_0001")
    results = []
    for other in (b, c):
        out = run("verify", a, other, "--cohort", str(tmp_path / "cohort.npz"), "--calibration", str(cal), "--fmr", "0.05", "--json")
        assert out.returncode == 0, out.stderr
        results.append(json.loads(out.stdout))
    same, different = results
    assert same["same"] and not different["same"] and same["score_model"] == score_model
    assert same["normalized_distance"] <= same["threshold"] < different["normalized_distance"]
    # Balanced by estimated gender: as many women as men.
    out = run("cohort", *[str(data_dir / "lfw" / p) for p in cohort_images], "-o", str(tmp_path / "balanced.npz"),
              "--top-k", "4", "--balance-gender")
    assert out.returncode == 0, out.stderr
    counts = out.stdout.split("(dlib-gender): ")[1].split(")")[0]  # "N female, N male"
    (n_female, _), (n_male, _) = (part.split() for part in counts.split(", "))
    assert n_female == n_male and f"{2 * int(n_male)} faces from 24 images" in out.stdout
    # A cohort of plain embeddings does not normalise flip-TTA scores.
    out = run("verify", a, b, "--cohort", str(tmp_path / "cohort.npz"), "--tta", "flip")
    assert out.returncode == 2 and "build a cohort with the same --model and --tta" in out.stderr
