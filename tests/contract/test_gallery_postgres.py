"""The PostgreSQL store's own promises, beyond the contract: physical erasure (no byte of a removed
template in any file of the server), kill -9 safety, several writing processes, one-line errors.

The server tests run on the first ``postgresql://`` (or ``postgres://``) URL in
``MIEN_TEST_GALLERY_URLS`` and read the server's files from ``MIEN_TEST_POSTGRES_DATA``
(``scripts/postgres.sh exec`` sets both); without such a URL they are skipped, saying so.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from mien.embed import Embeddings
from mien.errors import InputError, StorageError, StoreUnavailableError
from mien.gallery import open_gallery, open_store

KEY = bytes(range(32))


@pytest.fixture
def pg_data(pg_url) -> Path:
    data = os.environ.get("MIEN_TEST_POSTGRES_DATA")
    if not data or not (Path(data) / "PG_VERSION").is_file():
        pytest.fail(f"MIEN_TEST_POSTGRES_DATA must name the data directory of the server at {pg_url} "
                    f"(got {data!r}); scripts/postgres.sh exec sets it")
    return Path(data)


def name() -> str:
    return f"pg{uuid.uuid4().hex[:12]}"


def vectors(n, seed, scale=0.04):
    return (np.random.default_rng(seed).normal(size=(n, 128)) * scale).astype(np.float32)


def emb(v):
    return Embeddings(v, "dlib-resnet", "euclidean")


def sql(url: str, statement) -> list[tuple]:
    import psycopg

    with psycopg.connect(url.split("?", 1)[0], autocommit=True) as db:
        cur = db.execute(statement)
        return cur.fetchall() if cur.description else []


def files_containing(root: Path, needles: list[bytes]) -> dict[int, list[str]]:
    """For each needle (by position), the files under ``root`` that hold it."""
    found: dict[int, list[str]] = {i: [] for i in range(len(needles))}
    for path in root.rglob("*"):
        try:
            if not path.is_file():
                continue
            data = path.read_bytes()
        except OSError:  # a WAL segment deleted, a socket: nothing to read
            continue
        for i, needle in enumerate(needles):
            if needle in data:
                found[i].append(str(path.relative_to(root)))
    return found


# -- without a server -----------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["postgresql://u@127.0.0.1:notaport/mien", "postgresql://u@127.0.0.1:5432",
                                 "postgres://u@127.0.0.1:5432/mien?nprobe=4&colour=red"])
def test_a_wrong_url_is_an_input_error(url):
    with pytest.raises(InputError):
        open_store(url)


def test_a_server_that_is_down_is_one_line(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(f"postgresql://mien@127.0.0.1:{port}/mien?timeout=2")
    message = str(caught.value)
    assert "\n" not in message and f"127.0.0.1:{port}" in message and "is the server running" in message.lower()


def test_a_missing_driver_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StorageError, match=r"pip install 'mien\[postgres\]'"):
        open_store("postgresql://u@127.0.0.1:5432/mien")


# -- on the server --------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::mien.gallery.protect.ClearTemplatesWarning")
@pytest.mark.parametrize("key", [None, KEY], ids=["clear", "sealed"])
def test_removed_template_bytes_are_in_no_file_of_the_server(pg_url, pg_data, key, monkeypatch):
    from psycopg.sql import SQL

    gallery = name()
    g = open_gallery(pg_url, gallery, key=key)
    target = vectors(2, 1)
    g.enrol("target", emb(target))
    for i in range(30):
        g.enrol(f"other{i}", emb(vectors(2, 100 + i)))
    g.identify(emb(target[:1]))
    stored = g.store.templates(gallery, "target")
    needles = [target[0].tobytes(), stored[0].sealed, stored[0].index_vector.astype("<f4").tobytes(),
               stored[1].sealed]
    # on disk in the table files too, not only the WAL; and statistics taken, so pg_statistic is checked
    sql(pg_url, SQL("ANALYZE {}, {}").format(*g.store._own_tables(g.info)))
    sql(pg_url, "CHECKPOINT")
    before = files_containing(pg_data, needles)
    assert any(f.startswith("base/") for f in before[1]), f"the sealed template should be in a table file: {before}"

    # killed after the delete committed, before VACUUM FULL and the checkpoint: the bytes are still there ...
    monkeypatch.setattr(type(g.store), "_erase_physically", lambda self, info, tables: [])
    g.remove("target")
    monkeypatch.undo()
    assert files_containing(pg_data, needles[1:2])[0], "a delete alone leaves the bytes on disk"
    g.close()
    # ... and the next handle to open the gallery finishes the erasure
    g = open_gallery(pg_url, gallery, key=key)
    assert files_containing(pg_data, needles) == {i: [] for i in range(len(needles))}
    assert g.identify(emb(target[:1])).identity is None and "target" not in g

    # an erasure that runs to the end: gone at once, and the receipt says every step was done
    other = g.store.templates(gallery, "other3")
    receipt = g.remove("other3")
    assert not any("NOT" in s for s in receipt.steps), receipt.steps
    assert any("VACUUM FULL" in s for s in receipt.steps) and any("checkpoint" in s for s in receipt.steps)
    assert files_containing(pg_data, [t.sealed for t in other]) == {0: [], 1: []}
    g.close()


def test_a_session_holding_an_older_snapshot_is_named_and_the_erasure_finished_later(pg_url, pg_data):
    """VACUUM FULL copies the rows an open snapshot can still see: the store waits, then says so."""
    import psycopg

    gallery = name()
    url = pg_url + ("&" if "?" in pg_url else "?") + "timeout=1"
    g = open_gallery(url, gallery, key=KEY)
    g.enrol("target", emb(vectors(2, 1)))
    g.enrol("other", emb(vectors(2, 2)))
    sealed = [t.sealed for t in g.store.templates(gallery, "target")]
    with psycopg.connect(pg_url.split("?", 1)[0]) as reader:  # a transaction, open across the erasure
        reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        reader.execute("SELECT COUNT(*) FROM mien_galleries")
        receipt = g.remove("target")
        pid = str(reader.info.backend_pid)
    assert any("NOT rewritten" in s and pid in s for s in receipt.steps), receipt.steps
    g.close()
    g = open_gallery(url, gallery, key=KEY)  # the snapshot is gone: opening the gallery finishes the erasure
    assert files_containing(pg_data, sealed) == {0: [], 1: []}
    assert [r.name for r in g.list()] == ["other"]
    g.close()


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from mien.embed import Embeddings
    from mien.gallery import open_gallery
    g = open_gallery(sys.argv[1], sys.argv[2], key=bytes(range(32)))
    start, stop = int(sys.argv[3]), int(sys.argv[4])
    for i in range(start, stop):
        v = (np.random.default_rng(i).normal(size=(3, 128)) * 0.04).astype(np.float32)
        g.enrol(f"p{i}", Embeddings(v, "dlib-resnet", "euclidean"))
        print(i, flush=True)
""")


def test_kill_9_mid_enrolment_loses_nothing_that_returned(pg_url):
    gallery = name()
    open_gallery(pg_url, gallery, key=KEY).close()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, pg_url, gallery, "0", "100000"], stdout=subprocess.PIPE,
                            text=True)
    returned = []
    deadline = time.time() + 60
    while len(returned) < 40 and time.time() < deadline:
        line = proc.stdout.readline()
        if line:
            returned.append(int(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(returned) >= 40, "the writer did not get going"
    g = open_gallery(pg_url, gallery, key=KEY)
    names = {r.name for r in g.list()}
    assert {f"p{i}" for i in returned} <= names  # every enrolment that returned
    assert len(names) <= len(returned) + 1  # at most the one that committed as it was killed
    assert all(r.templates == 3 for r in g.list())  # nothing half-written
    assert g.store.counts(gallery) == (len(names), 3 * len(names))
    assert g.store._sync(g.info).size == 3 * len(names)
    for n in sorted(names)[:5]:
        probe = (np.random.default_rng(int(n[1:])).normal(size=(3, 128)) * 0.04).astype(np.float32)[:1]
        assert g.identify(emb(probe)).candidates[0].identity == n
    assert g.verify_journal().ok
    g.close()


def test_several_processes_write_one_gallery(pg_url):
    gallery = name()
    g = open_gallery(pg_url, gallery, key=KEY)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, pg_url, gallery, str(a), str(a + 15)],
                              stdout=subprocess.DEVNULL) for a in (0, 100)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert len(g) == 30 and g.store.counts(gallery) == (30, 90)
    probe = (np.random.default_rng(107).normal(size=(3, 128)) * 0.04).astype(np.float32)[:1]
    assert g.identify(emb(probe)).identity == "p107"  # this handle sees the other processes' writes
    check = g.verify_journal()
    assert check.ok and check.entries == 32, check.problems  # create, 30 enrolments, the identify
    g.close()


def test_the_journal_is_append_only(pg_url):
    import psycopg

    gallery = name()
    g = open_gallery(pg_url, gallery, key=KEY)
    g.enrol("a", emb(vectors(1, 0)))
    for statement in (f"UPDATE mien_journal SET actor = 'mallory' WHERE gallery = '{gallery}'",
                      f"DELETE FROM mien_journal WHERE gallery = '{gallery}'"):
        with pytest.raises(psycopg.Error, match="append-only"):
            sql(pg_url, statement)
    assert g.verify_journal().ok
    g.close()
