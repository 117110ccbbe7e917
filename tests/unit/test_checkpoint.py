"""The prediction log that lets a killed audit resume (no weights)."""

from __future__ import annotations

import json

from mien.audit.checkpoint import RowLog


def test_resume_keeps_the_logged_prefix_and_drops_a_torn_line(tmp_path):
    path = tmp_path / "log.jsonl"
    log = RowLog(path, {"tasks": ["age"]})
    assert log.resume(["a", "b", "c"]) == []
    log.append({"key": "a", "row": {"pred_age": 30}})
    log.append({"key": "b", "error": "b: truncated"})
    log.close()
    with open(path, "a") as fh:
        fh.write('{"key": "c", "row": {"pred_ag')  # killed mid-line
    again = RowLog(path, {"tasks": ["age"]})
    assert again.resume(["a", "b", "c"]) == [{"key": "a", "row": {"pred_age": 30}}, {"key": "b", "error": "b: truncated"}]
    again.append({"key": "c", "row": {"pred_age": 5}})
    again.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"config": {"tasks": ["age"]}} and [e["key"] for e in lines[1:]] == ["a", "b", "c"]


def test_another_configuration_or_other_rows_start_again(tmp_path):
    path = tmp_path / "log.jsonl"
    log = RowLog(path, {"tasks": ["age"]})
    log.resume(["a", "b"])
    log.append({"key": "a", "row": {}})
    log.close()
    assert RowLog(path, {"tasks": ["gender"]}).resume(["a", "b"]) == []
    log = RowLog(path, {"tasks": ["age"]})
    log.resume(["a", "b"])
    log.append({"key": "a", "row": {}})
    log.close()
    assert RowLog(path, {"tasks": ["age"]}).resume(["x", "a"]) == []  # the first row differs
    log = RowLog(path, {"tasks": ["age"]})
    log.resume(["a"])
    log.close(remove=True)
    assert not path.exists()
