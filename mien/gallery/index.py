"""A FAISS index of one gallery's (rotated) template vectors, keyed by template id.

Exact (``IndexFlatL2`` under an id map) while the gallery is small; past ``IVF_MIN``
templates it is rebuilt as IVF-Flat, whose lists keep the full vectors, so the distances
it returns for the candidates it finds are exact (nothing to re-rank); ``nprobe`` trades
recall for speed (``benchmarks/gallery_scale.py``). It is retrained when the gallery has
grown fourfold since the last training, so the lists stay balanced.

The index is a cache of the store's source of truth: ``applied`` is the last change it
reflects, and ``to_bytes``/``from_bytes`` carry it with the vectors so a process that loads
a saved index only replays the changes after it.
"""

from __future__ import annotations

import json
import math
import struct
import numpy as np

from ..errors import StorageError

IVF_MIN = 20_000
DEFAULT_NPROBE = 32
_MAGIC = b"MIENIDX1"


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # a dependency of mien; only a broken install lacks it
        raise StorageError("the gallery index needs faiss-cpu: pip install faiss-cpu") from exc
    return faiss


class VectorIndex:
    def __init__(self, dim: int, nprobe: int = DEFAULT_NPROBE) -> None:
        self.dim = int(dim)
        self.nprobe = int(nprobe)
        self.applied = 0
        self.trained_on = 0
        faiss = _faiss()
        self.index = faiss.IndexIDMap2(faiss.IndexFlatL2(self.dim))
        self.kind = "flat"

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, np.float32), np.asarray(ids, np.int64))

    def remove(self, ids: np.ndarray) -> int:
        if not len(ids):
            return 0
        return int(self.index.remove_ids(np.asarray(ids, np.int64)))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(squared L2 distances, ids), each (Q, k); ids -1 where fewer than k exist."""
        k = max(1, min(int(k), self.size))
        if self.kind == "ivf":
            self.index.nprobe = self.nprobe
        return self.index.search(np.ascontiguousarray(queries, np.float32), k)

    def needs_rebuild(self) -> bool:
        if self.kind == "flat":
            return self.size >= IVF_MIN
        return self.size >= 4 * max(self.trained_on, 1)

    def rebuild(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the contents with these vectors, as IVF-Flat when there are enough of them."""
        faiss = _faiss()
        vectors = np.ascontiguousarray(vectors, np.float32)
        n = len(vectors)
        if n < IVF_MIN:
            index = faiss.IndexIDMap2(faiss.IndexFlatL2(self.dim))
            kind = "flat"
        else:
            nlist = int(min(65536, max(64, 4 * math.sqrt(n))))
            index = faiss.IndexIVFFlat(faiss.IndexFlatL2(self.dim), self.dim, nlist, faiss.METRIC_L2)
            sample = vectors if n <= 64 * nlist else vectors[np.random.default_rng(0).choice(n, 64 * nlist, replace=False)]
            index.cp.max_points_per_centroid = 64
            index.train(sample)
            kind = "ivf"
            self.trained_on = n
        index.add_with_ids(vectors, np.asarray(ids, np.int64))
        self.index, self.kind = index, kind

    # -- persistence --------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        faiss = _faiss()
        header = json.dumps({"dim": self.dim, "applied": self.applied, "kind": self.kind,
                             "trained_on": self.trained_on}).encode()
        body = faiss.serialize_index(self.index).tobytes()
        return _MAGIC + struct.pack("<I", len(header)) + header + body

    @classmethod
    def from_bytes(cls, data: bytes, nprobe: int = DEFAULT_NPROBE) -> "VectorIndex":
        faiss = _faiss()
        if data[:8] != _MAGIC:
            raise StorageError("the gallery index file is not a mien index")
        (length,) = struct.unpack("<I", data[8:12])
        header = json.loads(data[12:12 + length])
        out = cls(header["dim"], nprobe)
        out.index = faiss.deserialize_index(np.frombuffer(data[12 + length:], np.uint8))
        out.applied, out.kind, out.trained_on = int(header["applied"]), header["kind"], int(header["trained_on"])
        return out


def build(dim: int, ids: np.ndarray, vectors: np.ndarray, nprobe: int = DEFAULT_NPROBE,
          applied: int = 0) -> VectorIndex:
    index = VectorIndex(dim, nprobe)
    index.rebuild(ids, vectors)
    index.applied = applied
    return index

