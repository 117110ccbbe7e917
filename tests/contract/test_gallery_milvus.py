"""The Milvus store's erasure, measured in the server's files: after remove, no byte of the removed
template in any segment file once Milvus's garbage collector has run; the message log, which
Milvus keeps apart, is named in the receipt because it still holds the insert.

Runs on the first ``milvus://`` URL in ``MIEN_TEST_GALLERY_URLS`` and reads the server's
files from ``MIEN_TEST_MILVUS_DATA`` (``scripts/test.sh`` sets both); without such a URL it
is skipped, saying so.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from mien.embed import Embeddings
from mien.gallery import open_gallery

KEY = bytes(range(32))
MESSAGE_LOG = "rocksmq"  # Milvus standalone's write-ahead message log, a folder of the data dir


@pytest.fixture
def milvus_data(milvus_url) -> Path:
    data = Path(os.environ.get("MIEN_TEST_MILVUS_DATA", ""))
    if not (data / MESSAGE_LOG).is_dir():
        pytest.fail(f"MIEN_TEST_MILVUS_DATA must name the data folder of the server at {milvus_url}, got {data}")
    return data


def holding(root: Path, needle: bytes, *, message_log: bool) -> list[str]:
    return [str(p) for p in root.rglob("*")
            if p.is_file() and (MESSAGE_LOG in p.relative_to(root).parts) == message_log and needle in p.read_bytes()]


def test_removed_template_leaves_every_segment_file(milvus_url, milvus_data):
    rng = np.random.default_rng(7)
    g = open_gallery(milvus_url, f"mx{uuid.uuid4().hex[:12]}", key=KEY)
    target = (rng.normal(size=(2, 128)) * 0.04).astype(np.float32)
    g.enrol("target", Embeddings(target, "dlib-resnet", "euclidean"))
    for i in range(5):
        g.enrol(f"other{i}", Embeddings((rng.normal(size=(2, 128)) * 0.04).astype(np.float32), "dlib-resnet", "euclidean"))
    stored = g.store.templates(g.name, "target")[0]
    needles = [base64.b64encode(stored.sealed)[:48], stored.index_vector.astype("<f4").tobytes()[:64]]
    # flush the segment that holds the target, so the test sees its bytes on disk before erasure
    g.store._compact([g.store._templates_of(g.info)])
    assert any(holding(milvus_data, n, message_log=False) for n in needles), "the template should be in a segment file"

    receipt = g.remove("target")
    assert any("message log" in step for step in receipt.steps), receipt.steps  # the part Milvus keeps is named
    deadline = time.monotonic() + 150  # dataCoord.gc.interval 2 s, dropTolerance 1 s: minutes at most
    left = needles
    while left and time.monotonic() < deadline:
        time.sleep(5)
        left = [n for n in needles if holding(milvus_data, n, message_log=False)]
    assert left == [], f"removed template bytes still in segment files: {[holding(milvus_data, n, message_log=False) for n in left]}"
    assert g.identify(Embeddings(target[:1], "dlib-resnet", "euclidean")).identity is None
    g.close()
