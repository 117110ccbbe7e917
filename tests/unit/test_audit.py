"""Fairness audit arithmetic, intervals and report files (no weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mien.audit import (add_bands, audit_attribute, audit_verification, band_label, bootstrap, to_markdown, wilson,
                        write_report)
from mien.errors import InputError


def test_wilson_matches_known_values():
    lo, hi = wilson(90, 100)
    assert lo == pytest.approx(0.8256, abs=1e-3) and hi == pytest.approx(0.9448, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)
    assert wilson(0, 0) == (0.0, 1.0)


def test_bootstrap_is_reproducible_and_brackets_the_mean():
    x = np.random.default_rng(1).normal(5, 2, 400)
    lo, hi = bootstrap(x, seed=3)
    assert lo < x.mean() < hi and hi - lo < 1.0
    assert bootstrap(x, seed=3) == (lo, hi)


def test_bands():
    assert band_label(17, [0, 18, 30, 45, 60]) == "0-17"
    assert band_label(30, [0, 18, 30, 45, 60]) == "30-44"
    assert band_label(75, [0, 18, 30, 45, 60]) == "60+"
    rows = add_bands([{"age": "5"}, {"age": "40"}], "age", [0, 18, 30, 45, 60])
    assert [r["age_band"] for r in rows] == ["0-17", "30-44"]
    with pytest.raises(InputError, match="non-numeric"):
        add_bands([{"age": "old"}], "age", [0, 18])


def _attribute_rows():
    rows = []
    for i in range(100):  # group a: 90% right, group b: 70% right
        rows.append({"g": "a", "label": "m", "pred": "m" if i < 90 else "f", "age": 30, "age_pred": 32})
        rows.append({"g": "b", "label": "m", "pred": "m" if i < 70 else "f", "age": 30, "age_pred": 36})
    return rows


def test_attribute_accuracy_and_ratio():
    report = audit_attribute(_attribute_rows(), "label", "pred", ["g"], "accuracy")
    (a,) = report.audits
    assert a.overall.value == pytest.approx(0.8)
    assert a.worst.group == "b" and a.best.group == "a"
    assert a.ratio == pytest.approx(0.3 / 0.1)  # error rates
    assert a.worst.low < 0.7 < a.worst.high


def test_attribute_mae():
    report = audit_attribute(_attribute_rows(), "age", "age_pred", ["g"], "mae")
    (a,) = report.audits
    assert a.best.value == pytest.approx(2.0) and a.worst.value == pytest.approx(6.0)
    assert a.ratio == pytest.approx(3.0)


def test_verification_rates():
    rows = []
    for i in range(50):
        rows.append({"g": "x", "same": "1", "score": 0.9 if i < 45 else 0.1})  # FNMR 10%
        rows.append({"g": "x", "same": "0", "score": 0.9 if i < 1 else 0.1})  # FMR 2%
        rows.append({"g": "y", "same": "1", "score": 0.9})
        rows.append({"g": "y", "same": "0", "score": 0.9 if i < 5 else 0.1})  # FMR 10%
    report = audit_verification(rows, "score", "same", ["g"], threshold=0.5)
    fmr, fnmr = report.audits
    assert fmr.metric == "fmr" and {g.group: g.value for g in fmr.groups} == {"x": 0.02, "y": 0.1}
    assert fnmr.metric == "fnmr" and {g.group: g.value for g in fnmr.groups} == {"x": 0.1, "y": 0.0}
    assert fmr.ratio == pytest.approx(5.0) and fnmr.ratio == float("inf")
    # distances: lower is the same person
    dist = audit_verification(rows, "score", "same", ["g"], threshold=0.5, higher_is_same=False)
    assert dist.audits[0].overall.value == pytest.approx(1 - 0.06)


def test_bad_input():
    with pytest.raises(InputError, match="missing column"):
        audit_attribute(_attribute_rows(), "label", "nope", ["g"])
    with pytest.raises(InputError, match="metric"):
        audit_attribute(_attribute_rows(), "label", "pred", ["g"], "f1")
    with pytest.raises(InputError, match="yes/no"):
        audit_verification([{"g": "a", "same": "maybe", "score": 1}], "score", "same", ["g"], 0.5)


def test_report_files(tmp_path):
    report = audit_attribute(_attribute_rows(), "label", "pred", ["g"], "accuracy", title="Toy")
    paths = write_report(report, tmp_path, intro="toy data")
    md = paths["markdown"].read_text()
    assert "# Toy" in md and "worst / best" in md and "charts/report_accuracy_g.png" in md
    assert paths["charts"][0].stat().st_size > 1000
    assert json.loads(paths["json"].read_text())["audits"][0]["worst"] == "b"
    assert "<img" in paths["html"].read_text()


def _mixed_rows() -> list[dict]:
    """Two groups the model treats alike (error 1 for children, 9 for adults) but with
    different mixes: group a is mostly children, group b mostly adults."""
    rows = []
    for group, children, adults in (("a", 80, 20), ("b", 20, 80)):
        rows += [{"g": group, "band": "child", "age": 5, "pred": 6} for _ in range(children)]
        rows += [{"g": group, "band": "adult", "age": 50, "pred": 59} for _ in range(adults)]
    return rows


def test_standardising_separates_mix_from_treatment():
    rows = _mixed_rows()
    raw = audit_attribute(rows, "age", "pred", ["g"], "mae").audits[0]
    assert raw.ratio == pytest.approx((0.2 + 0.8 * 9) / (0.8 + 0.2 * 9))  # 2.85x from the mix alone
    std = audit_attribute(rows, "age", "pred", ["g", "band"], "mae", standardize="band")
    by_group, by_band = std.audits
    assert by_group.ratio == pytest.approx(1.0) and by_band.ratio == pytest.approx(9.0)
    a = next(g for g in by_group.groups if g.group == "a")
    assert a.value == pytest.approx(5.0) and a.extra["raw"] == pytest.approx(2.6) and a.extra["weight_covered"] == 1.0
    assert "raw" not in by_band.groups[0].extra  # the standardising column itself stays raw
    assert std.meta["standardized_by"] == "band" and "standardised to the whole set's mix of band" in to_markdown(std)


def test_standardising_notes_a_stratum_a_group_lacks():
    rows = _mixed_rows() + [{"g": "c", "band": "adult", "age": 50, "pred": 53}] * 10
    report = audit_attribute(rows, "age", "pred", ["g"], "mae", standardize="band")
    c = next(g for g in report.audits[0].groups if g.group == "c")
    assert c.value == pytest.approx(3.0) and c.extra["weight_covered"] == pytest.approx(110 / 210)
    assert any("g=c has no rows with band child" in n for n in report.notes)
    with pytest.raises(InputError, match="missing column"):
        audit_attribute(rows, "age", "pred", ["g"], "mae", standardize="nope")


def test_withheld_predictions_give_accuracy_over_the_answered_and_coverage():
    rows = []
    for i in range(100):  # a: answers all, 90% right; b: withholds 40, 54 of 60 answered right
        rows.append({"g": "a", "label": "m", "pred": "m" if i < 90 else "f"})
        rows.append({"g": "b", "label": "m", "pred": "unknown" if i < 40 else ("m" if i < 94 else "f")})
    report = audit_attribute(rows, "label", "pred", ["g"], "accuracy")
    accuracy, coverage = report.audits
    assert (accuracy.metric, coverage.metric) == ("accuracy", "coverage")
    by = {g.group: g for g in accuracy.groups}
    assert by["a"].value == pytest.approx(0.9) and by["b"].value == pytest.approx(0.9) and by["b"].n == 60
    assert accuracy.overall.n == 160 and accuracy.ratio == pytest.approx(1.0)
    assert {g.group: g.value for g in coverage.groups} == {"a": 1.0, "b": pytest.approx(0.6)}
    assert coverage.worst.group == "b" and coverage.ratio == float("inf")  # a withholds nothing
    assert report.meta["withheld"] == 40 and "withheld 40 of 200" in to_markdown(report)


def test_a_group_with_every_prediction_withheld_is_noted():
    rows = [{"g": "a", "label": "m", "pred": "m"}, {"g": "b", "label": "m", "pred": "unknown"}]
    report = audit_attribute(rows, "label", "pred", ["g"], "accuracy")
    assert [g.group for g in report.audits[0].groups] == ["a"]
    assert any("g=b: every prediction withheld" in n for n in report.notes)


def test_ratio_interval_brackets_the_ratio_and_narrows_with_more_rows():
    widths = []
    for n in (100, 2000):
        rows = [{"g": g, "label": "m", "pred": "m" if i < n * acc else "f"}
                for g, acc in (("a", 0.9), ("b", 0.8)) for i in range(n)]
        (a,) = audit_attribute(rows, "label", "pred", ["g"], "accuracy").audits
        low, high = a.ratio_ci
        assert a.ratio == pytest.approx(2.0) and low < a.ratio < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 3
    equal = [{"g": g, "label": "m", "pred": "m" if i < 90 else "f"} for g in ("a", "b") for i in range(100)]
    low, high = audit_attribute(equal, "label", "pred", ["g"], "accuracy").audits[0].ratio_ci
    assert low < 1.0 < high  # parity stays plausible: the observed pair is kept, not re-picked each round
    mae = audit_attribute(_attribute_rows(), "age", "age_pred", ["g"], "mae").audits[0]
    assert mae.ratio_ci == pytest.approx((3.0, 3.0))  # constant errors: no spread to resample
    assert "3.00x (3.00-3.00)" in to_markdown(audit_attribute(_attribute_rows(), "age", "age_pred", ["g"], "mae"))


def test_intersectional_groups():
    rows = [{"race": r, "gender": g, "label": "m", "pred": "m" if (r, g) != ("x", "f") else "f"}
            for r in ("x", "y") for g in ("f", "m") for _ in range(10)]
    report = audit_attribute(rows, "label", "pred", ["race+gender", "race"], "accuracy")
    inter, race = report.audits
    assert {g.group: g.value for g in inter.groups} == {"x/f": 0.0, "x/m": 1.0, "y/f": 1.0, "y/m": 1.0}
    assert inter.worst.group == "x/f" and {g.group: g.value for g in race.groups} == {"x": 0.5, "y": 1.0}
    with pytest.raises(InputError, match="missing column"):
        audit_attribute(rows, "label", "pred", ["race+age"], "accuracy")


def test_interval_coverage_per_group():
    rows = [{"g": g, "age": 30, "pred": 31, "low": 25 if (g == "a" or i < 5) else 31, "high": 35}
            for g in ("a", "b") for i in range(10)]
    report = audit_attribute(rows, "age", "pred", ["g"], "mae", interval=("low", "high"))
    mae, inside = report.audits
    assert inside.metric == "interval" and {g.group: g.value for g in inside.groups} == {"a": 1.0, "b": 0.5}
    assert inside.worst.group == "b" and report.meta["interval"] == "low..high"
    assert "inside the predicted range" in to_markdown(report)
    with pytest.raises(InputError, match="metric='mae'"):
        audit_attribute(rows, "age", "pred", ["g"], "accuracy", interval=("low", "high"))
    with pytest.raises(InputError, match="missing column"):
        audit_attribute(rows, "age", "pred", ["g"], "mae", interval=("lo", "high"))
