"""What the two SQL stores (``sqlite``, ``postgres``) share: how their rows read back as records,
and how their FAISS index follows the ``changes`` log. Each store keeps its own SQL,
transactions and erasure; only the engine-free parts live here.
"""

from __future__ import annotations

import json
from typing import Callable, Mapping, Sequence

import numpy as np

from .index import VectorIndex
from .types import Consent, Hit, IdentityRecord, JournalEntry, StoredTemplate

# the column orders the functions below read
TEMPLATE_COLUMNS = "id, sealed, index_vector, created, quality, source, norm_mean, norm_std, crop"
JOURNAL_COLUMNS = "seq, time, gallery, actor, action, subject, details, prev, hash"


def consent_json(consent: Consent | None) -> str | None:
    return None if consent is None else json.dumps(consent.record())


def identity_record(gallery: str, row: Sequence) -> IdentityRecord:
    """(name, metadata JSON, consent JSON, created, updated, template count) as a record."""
    name, metadata, consent, created, updated, count = row
    return IdentityRecord(name, gallery, json.loads(metadata),
                          None if consent is None else Consent.from_dict(json.loads(consent)), created, updated, int(count))


def stored_template(name: str, row: Sequence) -> StoredTemplate:
    """A row in ``TEMPLATE_COLUMNS`` order as the identity's stored template."""
    i, sealed, vector, created, quality, source, norm_mean, norm_std, crop = row
    return StoredTemplate(name, bytes(sealed), np.frombuffer(vector, "<f4").copy(), created, quality, source,
                          norm_mean, norm_std, None if crop is None else bytes(crop), int(i))


def journal_values(gallery: str, entry: JournalEntry) -> tuple:
    """A journal line as the values of a row in ``JOURNAL_COLUMNS`` order."""
    return (entry.seq, entry.time, gallery, entry.actor, entry.action, entry.subject,
            json.dumps(entry.details, sort_keys=True), entry.prev, entry.hash)


def journal_entry(row: Sequence) -> JournalEntry:
    seq, t, gallery, actor, action, subject, details, prev, h = row
    return JournalEntry(int(seq), float(t), gallery, actor, action, subject, json.loads(details), prev, h)


def vectors_of(rows: Sequence[tuple[int, bytes]], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(template ids, index vectors) from (id, little-endian float32 bytes) rows."""
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, dim), np.float32)
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    return ids, np.frombuffer(b"".join(r[1] for r in rows), "<f4").reshape(len(rows), dim)


def replay(index: VectorIndex, changes: Sequence[tuple[int, int, str]],
           fetch: Callable[[list[int]], Sequence[tuple[int, bytes]]]) -> None:
    """Apply (seq, template id, 'add' or 'del') changes in order; ``fetch`` reads the added ids' vectors."""
    final: dict[int, str] = {}
    for _, tid, op in changes:
        final[int(tid)] = op
    adds = [t for t, op in final.items() if op == "add"]
    index.remove(np.array([t for t, op in final.items() if op == "del"], np.int64))
    index.remove(np.array(adds, np.int64))  # an add already in the index (a saved or fresh one) is not doubled
    got = fetch(adds) if adds else []
    if got:
        index.add(*vectors_of(got, index.dim))
    if changes:
        index.applied = int(changes[-1][0])


def hits(squared: np.ndarray, ids: np.ndarray, meta: Mapping[int, tuple], metric: str) -> list[list[Hit]]:
    """FAISS's (squared L2, ids) per query as hits; ``meta`` maps a live id to (identity, norm mean, norm std)."""
    out = []
    for row_sq, row_ids in zip(squared, ids):
        row = []
        for d2, tid in zip(row_sq, row_ids):
            if tid < 0 or int(tid) not in meta:  # removed since this index was synced
                continue
            identity, norm_mean, norm_std = meta[int(tid)]
            row.append(Hit(int(tid), identity, metric_distance(float(d2), metric), norm_mean, norm_std))
        out.append(row)
    return out


def metric_distance(squared_l2: float, metric: str) -> float:
    """FAISS's squared L2 as the model's distance (cosine vectors are stored unit-length)."""
    squared_l2 = max(squared_l2, 0.0)
    return squared_l2 / 2.0 if metric == "cosine" else float(np.sqrt(squared_l2))
