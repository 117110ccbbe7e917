"""Template protection and the 1:N decision's arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from mien.errors import InputError, TemplateKeyError
from mien.gallery.decision import comparison_fmr, fpir_of, threshold_for_fpir
from mien.gallery.protect import TemplateProtector, keyed_rotation, load_key, write_key_file
from mien.match.calibration import load_calibration

KEY = bytes(range(32))


def test_rotation_is_orthogonal_deterministic_and_keyed():
    r = keyed_rotation(KEY, 128)
    assert np.allclose(r @ r.T, np.eye(128), atol=1e-10)
    assert np.array_equal(r, keyed_rotation(KEY, 128))
    other = keyed_rotation(bytes(32), 128)
    assert np.abs(r - other).max() > 0.1


def test_index_vectors_keep_distances_but_not_values():
    p = TemplateProtector(KEY, b"salt", 128, "g")
    v = np.random.default_rng(0).normal(size=(50, 128)).astype(np.float32)
    rotated = p.to_index(v)
    d0 = np.linalg.norm(v[:, None] - v[None], axis=2)
    d1 = np.linalg.norm(rotated[:, None] - rotated[None], axis=2)
    assert np.allclose(d0, d1, atol=1e-4) and np.abs(rotated - v).mean() > 0.1
    renewed = TemplateProtector(bytes(32), b"salt", 128, "g").to_index(v)
    assert np.abs(renewed - rotated).mean() > 0.1  # a new key revokes the old index vectors


def test_sealing_binds_the_identity_and_the_key():
    p = TemplateProtector(KEY, b"salt", 128, "g")
    v = np.arange(128, dtype=np.float32)
    sealed = p.seal_vector(v, "ada")
    assert v.tobytes() not in sealed and np.array_equal(p.open_vector(sealed, "ada"), v)
    assert p.seal_vector(v, "ada") != sealed  # a fresh nonce each time
    with pytest.raises(TemplateKeyError):
        p.open_vector(sealed, "bob")  # moved to another identity
    with pytest.raises(TemplateKeyError):
        TemplateProtector(bytes(32), b"salt", 128, "g").open_vector(sealed, "ada")
    clear = TemplateProtector(None, b"salt", 128, "g")
    assert clear.seal_vector(v, "ada") == v.tobytes() and clear.rotation is None


def test_keys_from_files_and_text(tmp_path, monkeypatch):
    path = write_key_file(tmp_path / "k")
    assert (path.stat().st_mode & 0o777) == 0o600 and len(load_key(path)) == 32
    with pytest.raises(TemplateKeyError, match="never overwritten"):
        write_key_file(path)
    monkeypatch.setenv("MIEN_GALLERY_KEY", KEY.hex())
    assert load_key() == KEY
    monkeypatch.setenv("MIEN_GALLERY_KEY", "too short")
    with pytest.raises(TemplateKeyError, match="32 bytes"):
        load_key()


def test_fpir_arithmetic():
    assert comparison_fmr(1e-3, 1) == pytest.approx(1e-3)
    assert comparison_fmr(1e-3, 1000) == pytest.approx(1.0005e-6, rel=1e-3)
    assert fpir_of(comparison_fmr(1e-2, 12345), 12345) == pytest.approx(1e-2, rel=1e-9)
    with pytest.raises(InputError):
        comparison_fmr(0.0, 10)


def test_thresholds_from_the_shipped_calibration():
    cal = load_calibration("dlib-resnet")
    one = threshold_for_fpir(cal, 1e-3, 1)
    assert one.threshold == pytest.approx(cal.threshold_for(1e-3)) and not one.extrapolated
    points = [threshold_for_fpir(cal, 1e-3, m) for m in (1, 100, 1_000, 100_000, 1_000_000)]
    assert all(a.threshold > b.threshold for a, b in zip(points, points[1:]))
    assert [p.extrapolated for p in points] == [False, False, False, True, True]
    assert 0.2 < points[-1].threshold < cal.fmr_table[0][1]

