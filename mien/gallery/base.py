"""The contract every gallery backend keeps: what it stores, what each operation guarantees.

A backend maps these operations onto one engine (SQLite + FAISS, Milvus, PostgreSQL +
FAISS). It stores opaque sealed templates and their index vectors; encryption, the
keyed rotation, quality checks and the 1:N decision live above it (``mien.gallery.gallery``),
so every backend gets them unchanged and ``tests/contract`` runs one suite on all of them.

Guarantees each backend must give:

* **Atomic writes.** ``enrol``, ``set_consent`` and ``remove`` change the store and append
  their journal line in one transaction: after a crash or ``kill -9`` either all of it is
  there or none of it, and every call that returned is durable.
* **Tenancy.** Every operation names its gallery; nothing crosses from one to another.
* **Exact scores.** ``search`` returns the nearest templates with distances in the
  gallery's metric computed on the stored vectors (approximate indexes re-rank).
* **Physical erasure.** After ``remove`` returns, the identity's sealed templates, crops and
  index entries are in no file the engine keeps (old versions, WAL, deleted pages and
  index segments included) or the backend says which step it could not finish.
* **Errors.** Engine failures become ``StorageError`` (``StoreUnavailableError`` when a server
  cannot be reached); nothing is left half-written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from .types import Consent, GalleryInfo, Hit, IdentityRecord, JournalEntry, StoredTemplate


@dataclass(frozen=True)
class JournalLine:
    """A journal line before the backend numbers and chains it (``key`` is the chain's HMAC key)."""

    actor: str
    action: str
    subject: str | None
    details: Mapping[str, Any]
    key: bytes = field(repr=False, default=b"")


@dataclass(frozen=True)
class EnrolItem:
    """Templates for one identity in an ``enrol`` call, with the metadata and consent to record."""

    identity: str
    templates: Sequence[StoredTemplate]
    metadata: Mapping[str, Any] | None = None  # merged into what is stored (keys given replace old ones)
    consent: Consent | None = None  # replaces the stored consent when given


@dataclass(frozen=True)
class Removal:
    """What ``remove`` took out and how it made it physically gone."""

    templates: int
    crops: int
    index_entries: int
    identity: bool
    steps: tuple[str, ...]
    journal_seq: int | None


class GalleryStore(ABC):
    """One store, holding any number of galleries (tenants)."""

    scheme: str = ""

    @property
    @abstractmethod
    def url(self) -> str:
        """Where this store is, without secrets."""

    # -- galleries -----------------------------------------------------------------------------
    @abstractmethod
    def create_gallery(self, info: GalleryInfo, line: JournalLine) -> GalleryInfo:
        """Create a gallery; ``StorageError`` if one of that name exists."""

    @abstractmethod
    def get_gallery(self, name: str) -> GalleryInfo | None:
        """The gallery's record, or None."""

    @abstractmethod
    def list_galleries(self) -> list[str]:
        ...

    # -- identities and templates ------------------------------------------------------------------
    @abstractmethod
    def enrol(self, gallery: str, items: Sequence[EnrolItem], line: JournalLine) -> list[list[int]]:
        """Add templates (creating identities as needed) in one transaction; their new ids per item."""

    @abstractmethod
    def get_identity(self, gallery: str, name: str) -> IdentityRecord | None:
        ...

    @abstractmethod
    def list_identities(self, gallery: str, offset: int = 0, limit: int | None = None) -> list[IdentityRecord]:
        """Identities in name order."""

    @abstractmethod
    def templates(self, gallery: str, name: str) -> list[StoredTemplate]:
        """The identity's templates (sealed), oldest first."""

    @abstractmethod
    def set_consent(self, gallery: str, name: str, consent: Consent | None, line: JournalLine) -> None:
        """Replace an identity's consent record; ``NotFoundError`` if it is not enrolled."""

    @abstractmethod
    def counts(self, gallery: str) -> tuple[int, int]:
        """(identities, templates) in the gallery."""

    @abstractmethod
    def search(self, gallery: str, vectors: np.ndarray, k: int) -> list[list[Hit]]:
        """The ``k`` nearest templates to each (already transformed) query vector, nearest first."""

    @abstractmethod
    def remove(self, gallery: str, name: str, line: JournalLine) -> Removal:
        """Erase an identity and everything stored about it, physically; ``NotFoundError`` if absent."""

    @abstractmethod
    def rewrite(self, gallery: str, info: GalleryInfo, templates: Sequence[StoredTemplate], line: JournalLine) -> GalleryInfo:
        """Replace the gallery's record and every template in one transaction (re-key, re-embed).

        The old templates, crops and index entries are erased as ``remove`` erases them; the
        record's ``epoch`` goes up by one, and handles opened before must raise
        ``StorageError`` rather than search with the old key or model. Returns the new record.
        """

    def usable(self, gallery: str, names: Sequence[str], now: float) -> set[str]:
        """Of ``names``, those identify may return at ``now``: enrolled, with no consent record or an active one."""
        records = (self.get_identity(gallery, n) for n in names)
        return {r.name for r in records if r is not None and r.usable(now)}

    def expired(self, gallery: str, now: float) -> list[str]:
        """Names whose consent has expired or been withdrawn at ``now``."""
        return [r.name for r in self.list_identities(gallery) if r.consent is not None and not r.consent.active(now)]

    # -- journal -----------------------------------------------------------------------------------
    @abstractmethod
    def log(self, gallery: str, line: JournalLine, durable: bool = True) -> JournalEntry:
        """Append a line that records a read (identify, verify, export).

        ``durable=False`` lets the store return before the line is flushed to disk: a killed process
        still loses nothing, a power cut may lose the last such lines, and the chain is never broken
        (the next line links to whatever the head is). Identify and verify use it: an fsync per probe
        was as long as the search itself."""

    @abstractmethod
    def journal(self, gallery: str, since: int = 0) -> Iterator[JournalEntry]:
        """The gallery's journal lines after ``since``, in order."""

    @abstractmethod
    def journal_head(self, gallery: str) -> tuple[int, str]:
        """(last seq, its hash) as recorded with the gallery."""

    def close(self) -> None:
        """Release connections and files (idempotent)."""

    def __enter__(self) -> "GalleryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
