"""Atomic writes: the old file or the new one, never half, and no temporary file left behind."""

from __future__ import annotations

import pytest

from mien.atomic import write_atomic
from mien.errors import StorageError
from mien.match.calibration import calibrate_pairs, load_calibration, save_calibration


def test_write_replace_and_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "sub" / "f.bin"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # fails while writing the temporary file
    assert target.read_bytes() == b"second" and [p.name for p in target.parent.iterdir()] == ["f.bin"]


def test_permissions_follow_the_umask_or_the_file_replaced(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        fresh = write_atomic(tmp_path / "fresh.txt", b"x")
        assert fresh.stat().st_mode & 0o777 == 0o644  # as open() would make it, not mkstemp's 0600
        kept = tmp_path / "kept.txt"
        kept.write_bytes(b"old")
        kept.chmod(0o640)
        write_atomic(kept, b"new")
        assert kept.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_calibration_is_saved_atomically(tmp_path):
    cal = calibrate_pairs([0.1, 0.2, 0.9, 1.0], [True, True, False, False], "toy", "euclidean", "toy pairs")
    path = save_calibration(cal, tmp_path / "toy.json")
    assert load_calibration("toy", path).thresholds == cal.thresholds
    assert [p.name for p in tmp_path.iterdir()] == ["toy.json"]
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(StorageError, match="cannot write calibration"):
        save_calibration(cal, tmp_path / "dir.json")  # renaming over a folder fails
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.json", "toy.json"]
