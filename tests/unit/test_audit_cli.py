"""``mien audit`` on small CSVs (no weights)."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from mien.cli import cli, main


def _write(path, rows):
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_attribute_audit_with_bands_and_report(tmp_path):
    rows = [{"age": a, "pred": a + (2 if a < 40 else 8), "sex": s} for a in range(10, 80, 2) for s in ("f", "m")]
    csv_path = _write(tmp_path / "labels.csv", rows)
    out = tmp_path / "report"
    res = CliRunner().invoke(cli, ["audit", str(csv_path), "--label", "age", "--pred", "pred", "--metric", "mae",
                                   "--group", "sex", "--group", "age_band", "--band", "age=0,18,30,45,60",
                                   "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    by_band = next(a for a in data["audits"] if a["column"] == "age_band")
    assert by_band["worst"] in ("45-59", "60+") and by_band["best"] in ("0-17", "18-29", "30-44")
    assert by_band["worst_best_ratio"] == 4.0
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    assert len(list((out / "charts").glob("*.png"))) == 2


def test_verification_audit_markdown(tmp_path):
    rows = [{"s": 0.9 if i % 10 else 0.2, "same": 1, "g": "a" if i % 2 else "b"} for i in range(40)]
    rows += [{"s": 0.8 if i % 20 == 0 else 0.1, "same": 0, "g": "a" if i % 2 else "b"} for i in range(40)]
    csv_path = _write(tmp_path / "pairs.csv", rows)
    res = CliRunner().invoke(cli, ["audit", str(csv_path), "--score", "s", "--same", "same", "--threshold", "0.5",
                                   "--group", "g"])
    assert res.exit_code == 0, res.output
    assert "## FMR by g" in res.stdout and "## FNMR by g" in res.stdout


def test_audit_errors_are_one_line(tmp_path, capsys):
    csv_path = _write(tmp_path / "x.csv", [{"a": 1, "b": 2}])
    assert main(["audit", str(csv_path), "--group", "a", "--score", "b"]) == 2
    assert "needs --score, --same and --threshold" in capsys.readouterr().err
    assert main(["audit", str(csv_path), "--group", "zz", "--label", "a", "--pred", "b"]) == 2
    assert "missing column(s) zz" in capsys.readouterr().err


def test_standardize_option(tmp_path, capsys):
    rows = [{"age": a, "pred": a + (1 if a < 18 else 6), "g": g} for g, kids in (("x", 30), ("y", 5))
            for a in [8] * kids + [40] * (35 - kids)]
    csv_path = _write(tmp_path / "labels.csv", rows)
    res = CliRunner().invoke(cli, ["audit", str(csv_path), "--label", "age", "--pred", "pred", "--metric", "mae",
                                   "--group", "g", "--band", "age=0,18", "--standardize", "age_band", "--json"])
    assert res.exit_code == 0, res.output
    audit = json.loads(res.stdout)["audits"][0]
    assert audit["worst_best_ratio"] == 1.0 and audit["groups"][0]["raw"] != audit["groups"][1]["raw"]
    assert main(["audit", str(csv_path), "--group", "g", "--score", "age", "--same", "g", "--threshold", "1",
                 "--standardize", "age_band"]) == 2
    assert "--standardize is for attribute audits" in capsys.readouterr().err
