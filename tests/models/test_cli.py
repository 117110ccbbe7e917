"""The mien command end to end, as a user runs it."""

import json
import subprocess
import sys

import pytest

from mien.models.store import model_path


def run(*args, check=False):
    return subprocess.run([sys.executable, "-m", "mien", *args], capture_output=True, text=True, check=check)


def test_version():
    out = run("--version", check=True).stdout
    assert "mien" in out and any(ch.isdigit() for ch in out)


def test_detect_json_for_one_image_is_one_document(tmp_path):
    photo = str(model_path("sample-group"))
    result = run("detect", photo, "--json", "--draw", str(tmp_path / "out.png"), check=True)
    doc = json.loads(result.stdout)
    assert doc["image"] == photo and len(doc["faces"]) == 6
    face = doc["faces"][0]
    assert len(face["box"]) == 4 and 0 < face["score"] <= 1 and len(face["landmarks"]) == 5
    assert (tmp_path / "out.png").stat().st_size > 10_000


def test_detect_json_for_several_images_is_a_list(tmp_path, data_dir):
    lfw = data_dir / "lfw" / "images"
    images = [str(lfw / "Abel_Pacheco_0001.jpg"), str(lfw / "Abel_Pacheco_0004.jpg")]
    docs = json.loads(run("detect", *images, "--json", "--detector", "dlib-hog", check=True).stdout)
    assert isinstance(docs, list) and [d["image"] for d in docs] == images
    assert all(len(d["faces"]) >= 1 for d in docs)


@pytest.mark.parametrize("content", [b"", b"GIF89a truncated", b"\xff\xd8\xff\xe0 not really a jpeg"])
def test_bad_images_give_one_line_error_and_non_zero_exit(tmp_path, content):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    result = run("detect", str(bad))
    assert result.returncode != 0
    assert result.stderr.strip().startswith("mien: error:") and "Traceback" not in result.stderr


def test_unknown_model_and_missing_file():
    result = run("models", "pull", "no-such-model")
    assert result.returncode == 3 and "known:" in result.stderr
    result = run("detect", "/definitely/missing.jpg")
    assert result.returncode == 2 and "no such file" in result.stderr


def test_models_list_marks_non_commercial():
    rows = json.loads(run("models", "list", "--json", check=True).stdout)["models"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["centerface"]["commercial"] is True and by_name["centerface"]["installed"] is True
    assert by_name["dlib-shape68"]["commercial"] is False
    table = run("models", "list", check=True).stdout
    assert "NO (non-commercial)" in table


def test_outputs_that_used_a_non_commercial_model_say_so(data_dir, tmp_path):
    face = str(data_dir / "lfw" / "images" / "Abel_Pacheco_0001.jpg")
    doc = json.loads(run("embed", face, "--model", "mobileface", check=True).stdout)
    assert [n["model"] for n in doc["non_commercial_models"]] == ["mobileface"]
    doc = json.loads(run("analyze", face, "--json", "--landmarks", "dlib68", check=True).stdout)
    assert "dlib-shape68" in [n["model"] for n in doc["non_commercial_models"]]
    # Commercial-safe defaults carry no notice.
    assert "non_commercial_models" not in json.loads(run("detect", face, "--json", check=True).stdout)
    assert "non_commercial_models" not in json.loads(run("embed", face, check=True).stdout)
