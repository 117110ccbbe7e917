"""The embedded store's promises: kill -9 safety, physical erasure, a tamper-evident journal, the ANN path."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from mien.embed import Embeddings
from mien.errors import StorageError
from mien.gallery import open_gallery

KEY = bytes(range(32))


def vectors(n, seed, scale=0.04):
    return (np.random.default_rng(seed).normal(size=(n, 128)) * scale).astype(np.float32)


def emb(v):
    return Embeddings(v, "dlib-resnet", "euclidean")


def files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from mien.embed import Embeddings
    from mien.gallery import open_gallery
    g = open_gallery(sys.argv[1], "kill", key=bytes(range(32)))
    for i in range(100000):
        v = (np.random.default_rng(i).normal(size=(3, 128)) * 0.04).astype(np.float32)
        g.enrol(f"p{i}", Embeddings(v, "dlib-resnet", "euclidean"))
        print(i, flush=True)
""")


def test_kill_9_mid_enrolment_loses_nothing_that_returned(tmp_path):
    url = f"sqlite://{tmp_path / 'store'}"
    open_gallery(url, "kill", key=KEY).close()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True)
    returned = []
    deadline = time.time() + 60
    while len(returned) < 40 and time.time() < deadline:
        line = proc.stdout.readline()
        if line:
            returned.append(int(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(returned) >= 40, "the writer did not get going"
    g = open_gallery(url, "kill", key=KEY)
    names = {r.name for r in g.list()}
    assert {f"p{i}" for i in returned} <= names  # every enrolment that returned
    assert len(names) <= len(returned) + 1  # at most the one that committed as it was killed
    assert all(r.templates == 3 for r in g.list())  # nothing half-written
    # index and source of truth agree: each person's own photo finds them, and nothing else is indexed
    index = g.store._sync("kill")
    assert index.size == 3 * len(names)
    for name in sorted(names)[:10]:
        i = int(name[1:])
        probe = (np.random.default_rng(i).normal(size=(3, 128)) * 0.04).astype(np.float32)[:1]
        assert g.identify(emb(probe)).candidates[0].identity == name
    assert g.verify_journal().ok


IDENTIFIER = textwrap.dedent("""
    import sys, numpy as np
    from mien.embed import Embeddings
    from mien.gallery import open_gallery
    g = open_gallery(sys.argv[1], "reads", key=bytes(range(32)))
    probe = Embeddings((np.random.default_rng(0).normal(size=(1, 128)) * 0.04).astype(np.float32), "dlib-resnet", "euclidean")
    for i in range(100000):
        g.identify(probe)
        print(i, flush=True)
""")


def test_identify_lines_survive_kill_9_and_writes_stay_fully_synced(tmp_path):
    """Identify's journal line skips the fsync (synchronous=NORMAL for that one commit): a killed
    process still loses none that returned, the chain holds, and later writes sync in full again."""
    url = f"sqlite://{tmp_path / 'store'}"
    g = open_gallery(url, "reads", key=KEY)
    g.enrol_many([("a", emb(vectors(2, 0)), None)])
    g.identify(emb(vectors(1, 0)))
    assert g.store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    g.close()
    proc = subprocess.Popen([sys.executable, "-c", IDENTIFIER, url], stdout=subprocess.PIPE, text=True)
    returned = 0
    deadline = time.time() + 60
    while returned < 30 and time.time() < deadline:
        if proc.stdout.readline():
            returned += 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert returned >= 30, "the identifier did not get going"
    g = open_gallery(url, "reads", key=KEY)
    identifies = [e for e in g.journal() if e.action == "identify"]
    assert len(identifies) >= 1 + returned and g.verify_journal().ok


@pytest.mark.parametrize("key", [None, KEY], ids=["clear", "sealed"])
def test_removed_template_bytes_are_in_no_file(tmp_path, key):
    root = tmp_path / "store"
    g = open_gallery(f"sqlite://{root}", "erase", key=key)
    target = vectors(2, 1)
    g.enrol("target", emb(target))
    for i in range(30):
        g.enrol(f"other{i}", emb(vectors(2, 100 + i)))
    g.identify(emb(target[:1]))  # build and use the index
    g.store._save_index("erase", g.store._sync("erase"), force=True)
    stored = g.store.templates("erase", "target")
    needles = [target[0].tobytes(), stored[0].sealed, stored[0].index_vector.astype("<f4").tobytes()]
    assert any(files_containing(root, n) for n in needles), "the template should be on disk before erasure"
    g.remove("target")
    g.purge_expired()
    for needle in needles:
        assert files_containing(root, needle) == []
    assert g.identify(emb(target[:1])).identity is None
    g.close()


def test_journal_edit_drop_and_truncation_are_caught(tmp_path):
    root = tmp_path / "store"
    g = open_gallery(f"sqlite://{root}", "j", key=KEY)
    for i in range(5):
        g.enrol(f"p{i}", emb(vectors(1, i)))
    assert g.verify_journal().ok
    db = sqlite3.connect(root / "gallery.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE journal SET actor = 'someone else' WHERE seq = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM journal WHERE seq = 3")
    # someone who drops the guard and edits a line
    db.execute("DROP TRIGGER journal_no_update")
    db.execute("UPDATE journal SET details = '{\"templates\": 9}' WHERE seq = 3")
    db.commit()
    check = g.verify_journal()
    assert not check.ok and any("line 3" in p and "edited" in p for p in check.problems)
    db.execute("UPDATE journal SET details = (SELECT details FROM journal WHERE seq = 4) WHERE seq = 3")
    db.execute("DROP TRIGGER journal_no_delete")
    db.execute("DELETE FROM journal WHERE seq = 4")
    db.commit()
    assert any("line" in p and ("missing" in p or "dropped" in p) for p in g.verify_journal().problems)
    db.close()


def test_dropping_the_last_lines_is_caught(tmp_path):
    root = tmp_path / "store"
    g = open_gallery(f"sqlite://{root}", "j", key=KEY)
    for i in range(3):
        g.enrol(f"p{i}", emb(vectors(1, i)))
    db = sqlite3.connect(root / "gallery.sqlite")
    db.execute("DROP TRIGGER journal_no_delete")
    db.execute("DELETE FROM journal WHERE seq = (SELECT MAX(seq) FROM journal)")
    db.commit()
    db.close()
    check = g.verify_journal()
    assert not check.ok and "end" in check.problems[-1]


def test_journal_cli_verify_exit_code(tmp_path):
    root = tmp_path / "store"
    g = open_gallery(f"sqlite://{root}", "default", key=KEY)
    g.enrol("a", emb(vectors(1, 0)))
    g.close()
    key_file = tmp_path / "k"
    key_file.write_text(KEY.hex())
    run = [sys.executable, "-m", "mien", "gallery", "journal", "--verify", "--store", f"sqlite://{root}",
           "--key-file", str(key_file)]
    ok = subprocess.run(run, capture_output=True, text=True)
    assert ok.returncode == 0 and "intact: 2 lines" in ok.stdout
    db = sqlite3.connect(root / "gallery.sqlite")
    db.execute("DROP TRIGGER journal_no_update")
    db.execute("UPDATE journal SET actor = 'mallory' WHERE seq = 2")
    db.commit()
    db.close()
    bad = subprocess.run(run, capture_output=True, text=True)
    assert bad.returncode == 4 and "DAMAGED" in bad.stderr and "line 2" in bad.stderr


def test_a_damaged_store_file_is_a_storage_error(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    (root / "gallery.sqlite").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StorageError, match="damaged or not a mien gallery"):
        open_gallery(f"sqlite://{root}", "x", key=KEY)


def test_a_lost_or_damaged_index_file_is_rebuilt(tmp_path):
    root = tmp_path / "store"
    g = open_gallery(f"sqlite://{root}", "i", key=KEY)
    for i in range(10):
        g.enrol(f"p{i}", emb(vectors(2, i)))
    g.close()
    for f in (root / "index").iterdir():
        f.write_bytes(b"garbage")
    g = open_gallery(f"sqlite://{root}", "i", key=KEY)
    assert g.identify(emb(vectors(2, 4)[:1])).identity == "p4"


def test_large_galleries_switch_to_ivf_and_keep_recall(tmp_path, monkeypatch):
    from mien.gallery import index as index_module

    monkeypatch.setattr(index_module, "IVF_MIN", 2_000)
    g = open_gallery(f"sqlite://{tmp_path / 'store'}", "big", key=KEY)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(1_000, 128)).astype(np.float32) * 0.06
    items = [(f"p{i}", emb(centres[i] + rng.normal(size=(3, 128)).astype(np.float32) * 0.02), None) for i in range(1_000)]
    g.enrol_many(items)
    probes = centres[:200] + rng.normal(size=(200, 128)).astype(np.float32) * 0.02
    results = g.identify_embeddings(emb(probes), k=1)
    assert g.store._indexes["big"].kind == "ivf"
    assert np.mean([r.candidates[0].identity == f"p{i}" for i, r in enumerate(results)]) >= 0.99
    g.remove("p5")
    assert all(c.identity != "p5" for c in g.identify(emb(probes[5:6])).candidates)
