"""``mien analyze`` on the sample group photo."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mien.analyze import Analyzer
from mien.cli import cli, main
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


def test_audit_groups_unlabelled_pairs_by_estimated_gender(tmp_path, data_dir):
    """Verification pairs with no demographic labels, grouped by mien's gender estimate of path1."""
    import csv

    with open(data_dir / "lfw" / "pairs.csv", newline="") as fh:
        pairs = [r for r in csv.DictReader(fh) if r["fold"] == "1"][::50]
    path = tmp_path / "pairs.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path1", "path2", "same", "score"])
        for i, r in enumerate(pairs):
            w.writerow([r["path1"], r["path2"], r["same"], 0.9 if i % 3 else 0.1])
    res = CliRunner().invoke(cli, ["audit", str(path), "--root", str(data_dir / "lfw"), "--image-col", "path1",
                                   "--estimate", "gender", "--score", "score", "--same", "same", "--threshold", "0.5",
                                   "--group", "est_gender", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    groups = {g["group"] for a in report["audits"] for g in a["groups"]}
    assert groups <= {"female", "male"} and "male" in groups
    assert sum(g["n"] for g in report["audits"][0]["groups"]) == report["audits"][0]["overall"]["n"]
    assert any("est_gender is estimated from path1 by dlib-gender" in n for n in report["notes"])


def test_analyze_withholds_unsure_gender(tmp_path, group_photo, capsys):
    sure = Analyzer(landmarks=None, attributes=("gender",)).analyze(group_photo)
    probs = sorted(r.gender.probability for r in sure.results)
    cut = (probs[0] + probs[-1]) / 2 if probs[0] < probs[-1] else probs[0]
    unsure = Analyzer(landmarks=None, attributes=("gender",), min_probability={"gender": cut}).analyze(group_photo)
    for before, after in zip(sure.results, unsure.results):
        assert after.gender.probability == before.gender.probability
        assert after.gender.withheld == (before.gender.probability < cut)
        assert after.gender.value == ("unknown" if after.gender.withheld else before.gender.value)
    assert any(r.gender.withheld for r in unsure.results)
    src = tmp_path / "group.png"
    save_image(group_photo, src)
    res = CliRunner().invoke(cli, ["analyze", str(src), "--json", "--landmarks", "none", "--attributes", "gender",
                                   "--min-probability", f"gender={cut}"])
    assert res.exit_code == 0, res.output
    values = [f["gender"]["value"] for f in json.loads(res.stdout)["faces"]]
    assert values == [r.gender.value for r in unsure.results]
    for bad, why in (("age=0.5", "not a classifier"), ("race=0.5", "not among the attributes"),
                     ("gender=2", "within 0..1"), ("gender=x", "needs numbers")):
        assert main(["analyze", str(src), "--min-probability", bad]) == 2
        assert why in capsys.readouterr().err


def test_audit_run_leaves_out_unreadable_images_and_reports_coverage(tmp_path, data_dir):
    import csv

    with open(data_dir / "utkface" / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[::400]
    (tmp_path / "broken.jpg").write_bytes(b"")
    rows.append({"path": str(tmp_path / "broken.jpg"), "age": "30", "gender": "male", "race": "white"})
    path = tmp_path / "labels.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "report"
    res = CliRunner().invoke(cli, ["audit", str(path), "--root", str(data_dir / "utkface"), "--run", "gender",
                                   "--min-probability", "0.95", "--group", "gender", "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    with open(out / "predictions.csv", newline="") as fh:
        written = list(csv.DictReader(fh))
    assert len(written) == len(rows) - 1 and {"pred_gender", "prob_gender", "detected"} <= set(written[0])
    assert "unknown" in {r["pred_gender"] for r in written}
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["predictions.csv", "report.html", "report.json",
                                                                     "report.md"]  # no temporary files left
    report = json.loads(res.stdout[res.stdout.index("{"):])
    assert report["meta"]["rows"] == len(rows) - 1
    assert any(n.startswith(f"1 of {len(rows)} rows left out: image unreadable") for n in report["notes"])
    metrics = [a["metric"] for a in report["audits"]]
    assert metrics == ["accuracy", "coverage"]  # some of UTKFace's faces are under 0.95
    coverage = report["audits"][1]["overall"]
    assert 0 < coverage["value"] < 1 and report["audits"][0]["overall"]["n"] == round(coverage["value"] * coverage["n"])


def test_predict_rows_resumes_after_a_kill(tmp_path, data_dir):
    import csv

    import pytest

    from mien.audit.run import predict_rows

    with open(data_dir / "utkface" / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[::1000][:12]
    rows.append({"path": "images/missing.jpg", "age": "1", "gender": "male", "race": "white"})
    root, log = data_dir / "utkface", tmp_path / "predictions.partial.jsonl"
    plain = predict_rows(rows, ["age"], "path", root, unreadable=[])

    def killed_after(n):
        def progress(items):
            for i, item in enumerate(items):
                if i == n:
                    raise KeyboardInterrupt
                yield item
        return progress

    with pytest.raises(KeyboardInterrupt):
        predict_rows(rows, ["age"], "path", root, progress=killed_after(5), unreadable=[], checkpoint=log)
    assert len(log.read_text().splitlines()) == 1 + 5  # the configuration, then five rows
    seen = []

    def counting(items):
        for item in items:
            seen.append(item["path"])
            yield item

    missing: list = []
    resumed = predict_rows(rows, ["age"], "path", root, progress=counting, unreadable=missing, checkpoint=log)
    assert seen == [r["path"] for r in rows[5:]]  # only the rows not yet logged were predicted
    assert resumed == plain and [m[0] for m in missing] == ["images/missing.jpg"] and not log.exists()


def test_age_interval_level_is_chosen_in_analyze(tmp_path, group_photo):
    default = Analyzer(landmarks=None, attributes=("age",)).analyze(group_photo)
    wide = Analyzer(landmarks=None, attributes=("age",), age_interval=0.95).analyze(group_photo)
    for d, w in zip(default.results, wide.results):
        assert d.age.interval_level == 0.8 and w.age.interval_level == 0.95
        assert w.age.interval[1] - w.age.interval[0] > d.age.interval[1] - d.age.interval[0]
    src = tmp_path / "group.png"
    save_image(group_photo, src)
    res = CliRunner().invoke(cli, ["analyze", str(src), "--json", "--landmarks", "none", "--attributes", "age",
                                   "--age-interval", "none"])
    assert res.exit_code == 0, res.output
    assert all("interval" not in f["age"] for f in json.loads(res.stdout)["faces"])


def test_audit_run_age_reports_how_often_the_range_holds_the_age(tmp_path, data_dir):
    import csv

    with open(data_dir / "utkface" / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[::300]
    path = tmp_path / "labels.csv"
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    res = CliRunner().invoke(cli, ["audit", str(path), "--root", str(data_dir / "utkface"), "--run", "age",
                                   "--group", "gender", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout[res.stdout.index("{"):])
    assert [a["metric"] for a in report["audits"]] == ["mae", "interval"]
    assert 0.5 < report["audits"][1]["overall"]["value"] <= 1.0  # the 80% range, on 64 UTKFace faces
    assert any("calibrated 80% interval" in n for n in report["notes"])
