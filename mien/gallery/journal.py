"""The gallery journal: append-only and hash-chained, so an edited, dropped or forged line shows.

Each line records who did what to which gallery, and when: the actor (``cli:<user>``,
``key:<id>`` from the HTTP service, ``library`` by default), the action, the subject as a
pseudonym (``TemplateProtector.pseudonym``: no names, so an erased person does not live on
in the journal) and small details (counts, decisions, digests; never images or vectors).

``hash = HMAC-SHA256(journal_key, canonical JSON of the line with the previous line's hash)``.
With a gallery key the journal key is secret, so nobody without it can rewrite the chain
to cover an edit; without one it is the gallery's public salt, which still catches any
edit or dropped line made without re-hashing everything after it. The backend keeps the
head (last seq and hash) with the gallery, written in the same transaction as each line,
so dropping lines from the end shows too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Iterable, Mapping

from .types import JournalCheck, JournalEntry

GENESIS = "0" * 64


def canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def chain_hash(key: bytes, payload: Mapping[str, Any]) -> str:
    return hmac.new(key, canonical(payload), hashlib.sha256).hexdigest()


def make_entry(key: bytes, seq: int, time: float, gallery: str, actor: str, action: str,
               subject: str | None, details: Mapping[str, Any], prev: str) -> JournalEntry:
    draft = JournalEntry(seq, time, gallery, actor, action, subject, dict(details), prev, "")
    return JournalEntry(seq, time, gallery, actor, action, subject, dict(details), prev, chain_hash(key, draft.payload()))


def verify_chain(key: bytes, entries: Iterable[JournalEntry], head: tuple[int, str] | None) -> JournalCheck:
    """Check every line's hash, the links between lines, contiguous numbers and the stored head."""
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            problems.append(f"line {entry.seq}: expected line {expected_seq} (lines missing or reordered)")
        if entry.prev != prev:
            problems.append(f"line {entry.seq}: does not follow the line before it (a line was dropped or changed)")
        if not hmac.compare_digest(chain_hash(key, entry.payload()), entry.hash):
            problems.append(f"line {entry.seq}: its content does not match its hash (edited)")
        prev, expected_seq = entry.hash, entry.seq + 1
    if head is not None:
        head_seq, head_hash = head
        if head_seq != expected_seq - 1 or (head_seq and head_hash != prev):
            problems.append(f"the journal ends at line {expected_seq - 1} but the gallery's head says line {head_seq} "
                            "(lines dropped from the end)")
    return JournalCheck(not problems, count, prev, tuple(problems))
