"""The identity gallery: enrol people, identify 1:N at a calibrated FPIR, decide access, erase.

    >>> from mien.gallery import open_gallery
    >>> gallery = open_gallery("sqlite:///srv/faces", "staff", key="/etc/mien/gallery.key")

``base`` is the contract each backend keeps (``sqlite``: SQLite + FAISS, embedded, the
default; ``milvus``: a Milvus server; ``postgres``: a PostgreSQL server + FAISS); ``protect``
seals templates and rotates index vectors; ``journal`` chains the audit log; ``decision``
turns a target FPIR into a threshold.
"""

from __future__ import annotations

import os
from typing import Any

from .base import GalleryStore
from .decision import DEFAULT_FPIR, threshold_for_fpir
from .gallery import DEFAULT_GALLERY, Gallery
from .protect import ClearTemplatesWarning, generate_key, load_key, write_key_file
from .types import (AccessDecision, Candidate, Consent, Enrolment, ErasureReceipt, GalleryInfo, Identification,
                    IdentityRecord, JournalCheck, JournalEntry)
from .url import open_store


def open_gallery(url: str | os.PathLike | None = None, name: str = DEFAULT_GALLERY, **options: Any) -> Gallery:
    """A gallery in the store at ``url`` (default: the embedded one under $MIEN_HOME), created if new.

    Options go to ``Gallery``: ``model``, ``key``, ``cohort``, ``actor``, ``calibration``,
    ``detector``, ``keep_crops``, ``create``.
    """
    return Gallery(open_store(url), name, **options)


__all__ = [
    "AccessDecision", "Candidate", "ClearTemplatesWarning", "Consent", "DEFAULT_FPIR", "DEFAULT_GALLERY", "Enrolment",
    "ErasureReceipt", "Gallery", "GalleryInfo", "GalleryStore", "Identification", "IdentityRecord", "JournalCheck",
    "JournalEntry", "generate_key", "load_key", "open_gallery", "open_store", "threshold_for_fpir", "write_key_file",
]
