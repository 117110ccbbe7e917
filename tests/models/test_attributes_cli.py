"""``mien analyze`` on the sample group photo."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mien.analyze import Analyzer
from mien.cli import cli
from mien.image import load_image, save_image


def test_analyze_json_and_draw(tmp_path, group_photo):
    src = tmp_path / "group.png"
    save_image(group_photo, src)
    drawn = tmp_path / "out.png"
    res = CliRunner().invoke(cli, ["analyze", str(src), "--json", "--quality", "--set", "max_yaw=50",
                                   "--draw", str(drawn)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    faces = data["faces"]
    assert len(faces) == 6
    for face in faces:
        assert set(face) >= {"box", "score", "age", "gender", "expression", "pose", "quality"}
        assert face["age"]["model"] == "dlib-age" and 0 < face["gender"]["probability"] <= 1
        assert "race" not in face
        assert face["quality"]["checks"]["yaw"]["limit"] == "<= 50"
    out = load_image(drawn)
    assert out.shape == group_photo.shape and (out != group_photo).mean() > 0.01


def test_analyzer_without_landmarks_and_bad_image(tmp_path, group_photo):
    result = Analyzer(landmarks=None, attributes=("gender",)).analyze(group_photo)
    assert len(result) == 6 and all(r.mesh is None and r.pose is None and r.gender for r in result.results)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    res = CliRunner().invoke(cli, ["analyze", str(bad)])
    assert res.exit_code == 2
