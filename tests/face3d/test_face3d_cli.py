"""``mien measure``, ``mien simulate`` and ``mien avatar`` end to end, as a user runs them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from mien.models.store import model_path


def run(*args):
    return subprocess.run([sys.executable, "-m", "mien", *args], capture_output=True, text=True)


def test_measure_writes_csv_and_json(tmp_path, lfw_dir):
    photos = [str(lfw_dir / "Aaron_Peirsol_0001.jpg"), str(lfw_dir / "Aaron_Eckhart_0001.jpg")]
    out = run("measure", *photos, "-o", str(tmp_path / "m.csv"), "--json")
    assert out.returncode == 0, out.stderr
    docs = json.loads(out.stdout)
    assert [d["image"] for d in docs] == photos and all(d["notice"].startswith("research") for d in docs)
    rows = list(csv.DictReader(open(tmp_path / "m.csv")))
    assert len(rows) == 2 and float(rows[0]["ipd"]) > 40 and rows[0]["third_upper"] == ""
    assert "hairline" in rows[0]["third_upper_note"] and "not a diagnosis" in out.stderr


def test_measure_bad_input_exits_2(tmp_path):
    bad = tmp_path / "not.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = run("measure", str(bad), "-o", str(tmp_path / "m.csv"))
    assert out.returncode == 2 and "mien: error:" in out.stderr
    rows = list(csv.DictReader(open(tmp_path / "m.csv")))
    assert rows[0]["error"]  # the row says why


def test_several_faces_need_largest():
    out = run("measure", str(model_path("sample-group")))
    assert out.returncode == 2 and "--largest" in out.stderr


def test_simulate_writes_a_marked_photo_and_refuses_impossible_amounts(tmp_path, lfw_dir):
    photo = str(lfw_dir / "Aaron_Peirsol_0001.jpg")
    target = tmp_path / "after.png"
    out = run("simulate", photo, "--nose-width", "-10%", "--chin", "+3mm", "--lips", "+15%", "-o", str(target),
              "--side-by-side")
    assert out.returncode == 0, out.stderr
    check = json.loads(run("provenance", "check", str(target), "--json").stdout)
    assert check["watermark"]["detected"] and check["metadata"]["operation"] == "edit"
    out = run("simulate", photo, "--nose-width", "-60%", "-o", str(tmp_path / "x.png"))
    assert out.returncode == 2 and "-30% to +30%" in out.stderr and not (tmp_path / "x.png").exists()


def test_avatar_glb_and_bad_suffix(tmp_path, lfw_dir):
    photo = str(lfw_dir / "Aaron_Peirsol_0001.jpg")
    out = run("avatar", photo, "-o", str(tmp_path / "face.glb"), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["vertices"] == 468 and (tmp_path / "face.glb").read_bytes()[:4] == b"glTF"
    out = run("avatar", photo, "-o", str(tmp_path / "face.stl"))
    assert out.returncode == 2 and ".glb or .obj" in out.stderr
