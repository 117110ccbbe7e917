"""The gallery's value types: what it stores, what identify and verify answer, what erasure proves.

Every type is frozen and has ``to_dict()``: the JSON shape ``mien gallery ... --json``
prints and the HTTP API returns. Times are Unix seconds inside mien and ISO 8601 (UTC)
in JSON.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Mapping

import numpy as np

from ..errors import InputError

_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def check_name(name: str, kind: str = "identity") -> str:
    """A usable identity or gallery name: 1-200 characters, no control characters, not blank."""
    if not isinstance(name, str) or not _NAME.match(name) or not name.strip():
        raise InputError(f"{kind} name must be 1-200 printable characters, got {name!r}")
    return name


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(value: str | float | int | None) -> float | None:
    """Unix seconds from a number, an ISO date (``2027-01-31``) or date-time; None stays None."""
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"not a date: {value!r} (use YYYY-MM-DD or an ISO 8601 date-time)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


@dataclass(frozen=True)
class Consent:
    """The person's consent to be in this gallery: for what, since when, until when."""

    purpose: str
    granted: float
    expires: float | None = None
    withdrawn: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.purpose, str) or not self.purpose.strip():
            raise InputError("consent needs a purpose (what the face is used for)")
        if self.expires is not None and self.expires <= self.granted:
            raise InputError(f"consent expires ({iso(self.expires)}) before it was granted ({iso(self.granted)})")

    def active(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.withdrawn is None and (self.expires is None or now < self.expires)

    def state(self, now: float | None = None) -> str:
        if self.withdrawn is not None:
            return "withdrawn"
        return "active" if self.active(now) else "expired"

    def withdraw(self, at: float | None = None) -> "Consent":
        return replace(self, withdrawn=time.time() if at is None else at)

    def to_dict(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "granted": iso(self.granted), "expires": iso(self.expires),
                "withdrawn": iso(self.withdrawn), "state": self.state()}

    def record(self) -> dict[str, Any]:
        """The stored form (Unix seconds, nothing derived); ``from_dict`` reads it back exactly."""
        return {"purpose": self.purpose, "granted": self.granted, "expires": self.expires, "withdrawn": self.withdrawn}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Consent":
        return cls(d["purpose"], parse_time(d["granted"]), parse_time(d.get("expires")), parse_time(d.get("withdrawn")))


@dataclass(frozen=True)
class GalleryInfo:
    """One gallery (tenant) and what it is pinned to: the embedding id and the cohort that filled it."""

    name: str
    model: str  # embedding id, e.g. "dlib-resnet" or "dlib-resnet+jitter8"
    metric: str
    dim: int
    cohort: str | None  # the cohort's fingerprint when scores are AS-normalised
    protected: bool  # templates encrypted (AES-GCM) and index vectors under a keyed rotation
    keep_crops: bool  # face crops kept (encrypted when protected) so the gallery can be re-embedded
    created: float
    salt: bytes = field(default=b"", repr=False)
    secret: bytes = field(default=b"", repr=False)  # the gallery secret, sealed under the key
    epoch: int = 0  # raised by each re-key or re-embed, so a handle opened before one cannot search after it

    @property
    def score_model(self) -> str:
        """The id the decision's calibration is kept under."""
        return f"{self.model}+asnorm-{self.cohort}" if self.cohort else self.model

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "metric": self.metric, "dim": self.dim,
                "cohort": self.cohort, "protected": self.protected, "keep_crops": self.keep_crops,
                "created": iso(self.created)}


@dataclass(frozen=True)
class StoredTemplate:
    """One template as a backend holds it: sealed original, index vector, and no image unless opted in.

    ``sealed`` is the AES-GCM ciphertext of the original float32 vector (its raw bytes when
    the gallery is unprotected); ``index_vector`` is the vector under the gallery's keyed
    rotation (the original when unprotected), the only form an ANN index sees.
    """

    identity: str
    sealed: bytes
    index_vector: np.ndarray
    created: float
    quality: float | None = None
    source: str | None = None  # SHA-256 of the image it came from
    norm_mean: float | None = None  # AS-norm: the template's impostor score mean against the cohort
    norm_std: float | None = None
    crop: bytes | None = None  # sealed face crop (PNG + landmarks), only with keep_crops
    id: int | None = None


@dataclass(frozen=True)
class IdentityRecord:
    """What the store holds about one identity, without its templates."""

    name: str
    gallery: str
    metadata: Mapping[str, Any]
    consent: Consent | None
    created: float
    updated: float
    templates: int

    def usable(self, now: float | None = None) -> bool:
        """Whether identify and verify may return it: no consent recorded, or an active one."""
        return self.consent is None or self.consent.active(now)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "gallery": self.gallery, "metadata": dict(self.metadata),
                "consent": None if self.consent is None else self.consent.to_dict(),
                "templates": self.templates, "created": iso(self.created), "updated": iso(self.updated)}


@dataclass(frozen=True)
class Hit:
    """One template found by a backend's nearest-neighbour search."""

    template_id: int
    identity: str
    distance: float  # in the model's metric, exact (re-ranked on the stored vectors)
    norm_mean: float | None = None
    norm_std: float | None = None


@dataclass(frozen=True)
class Candidate:
    """One identity in an identification's ranked list (its best template)."""

    identity: str
    score: float  # what the threshold applies to: the distance, or the AS-norm distance with a cohort
    distance: float
    template_id: int
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"identity": self.identity, "score": round(self.score, 6), "distance": round(self.distance, 6),
                "template_id": self.template_id, "passed": self.passed}


@dataclass(frozen=True)
class Identification:
    """The answer of one 1:N search, with the operating point that produced it."""

    decision: str  # "match" or "unknown"
    identity: str | None
    candidates: tuple[Candidate, ...]
    threshold: float
    target_fpir: float
    estimated_fpir: float
    comparison_fmr: float  # the per-comparison FMR the threshold was set at
    gallery: str
    gallery_size: int  # identities enrolled
    templates: int  # templates searched (the number of comparisons)
    model: str
    calibration: str
    extrapolated: bool = False  # the threshold lies beyond the calibration's measured impostor scores
    face: Mapping[str, Any] | None = None  # the probe face (box, score, landmarks) when found in an image
    note: str | None = None

    @property
    def matched(self) -> bool:
        return self.decision == "match"

    def to_dict(self) -> dict[str, Any]:
        d = {"decision": self.decision, "identity": self.identity,
             "score": None if not self.candidates else round(self.candidates[0].score, 6),
             "threshold": round(self.threshold, 6), "target_fpir": self.target_fpir,
             "estimated_fpir": float(f"{self.estimated_fpir:.4g}"), "comparison_fmr": float(f"{self.comparison_fmr:.4g}"),
             "extrapolated": self.extrapolated, "gallery": self.gallery, "gallery_size": self.gallery_size,
             "templates": self.templates, "model": self.model, "calibration": self.calibration,
             "candidates": [c.to_dict() for c in self.candidates]}
        if self.face is not None:
            d["face"] = dict(self.face)
        if self.note:
            d["note"] = self.note
        return d


@dataclass(frozen=True)
class Enrolment:
    """What one enrol call added."""

    identity: str
    gallery: str
    template_ids: tuple[int, ...]
    templates: int  # the identity's templates after this call
    quality: tuple[Mapping[str, Any] | None, ...]  # per added template: mien.quality's result, or None
    forced: tuple[str, ...] = ()  # checks that failed but were overridden with force
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"identity": self.identity, "gallery": self.gallery, "added": len(self.template_ids),
                "template_ids": list(self.template_ids), "templates": self.templates, "model": self.model,
                "quality": [None if q is None else dict(q) for q in self.quality], "forced": list(self.forced)}


@dataclass(frozen=True)
class ErasureReceipt:
    """Proof of one erasure: what was removed, how it was made physically gone, and a digest of it all.

    ``digest`` is the SHA-256 of the receipt's other fields (canonical JSON); the same digest
    is written to the gallery's journal, so a receipt can be checked against the journal later.
    """

    gallery: str
    subject: str  # the journal's pseudonym of the identity, not its name
    templates_removed: int
    crops_removed: int
    index_entries_removed: int
    identity_removed: bool
    steps: tuple[str, ...]  # the physical steps the backend took (secure delete, checkpoint, index rewrite...)
    time: float
    journal_seq: int | None
    digest: str

    def to_dict(self) -> dict[str, Any]:
        return {"gallery": self.gallery, "subject": self.subject, "templates_removed": self.templates_removed,
                "crops_removed": self.crops_removed, "index_entries_removed": self.index_entries_removed,
                "identity_removed": self.identity_removed, "steps": list(self.steps), "time": iso(self.time),
                "journal_seq": self.journal_seq, "digest": self.digest}


@dataclass(frozen=True)
class AccessDecision:
    """Grant or deny for one claimed identity, with every reason a door or login flow can act on."""

    granted: bool
    identity: str
    reasons: tuple[str, ...]
    score: float | None
    threshold: float | None
    fmr: float
    model: str
    calibration: str
    quality: Mapping[str, Any] | None = None
    liveness: Mapping[str, Any] | None = None
    face: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"granted": self.granted, "identity": self.identity, "reasons": list(self.reasons),
             "score": None if self.score is None else round(self.score, 6),
             "threshold": None if self.threshold is None else round(self.threshold, 6),
             "fmr": self.fmr, "model": self.model, "calibration": self.calibration}
        for key in ("quality", "liveness", "face"):
            value = getattr(self, key)
            if value is not None:
                d[key] = dict(value)
        return d


@dataclass(frozen=True)
class JournalEntry:
    """One line of a gallery's append-only, hash-chained journal: who did what, when; never images or vectors."""

    seq: int
    time: float
    gallery: str
    actor: str
    action: str  # create, enrol, identify, verify, consent, remove, purge, export, reembed
    subject: str | None  # pseudonym of the identity concerned
    details: Mapping[str, Any]
    prev: str
    hash: str

    def payload(self) -> dict[str, Any]:
        """The fields the hash covers."""
        return {"seq": self.seq, "time": round(self.time, 6), "gallery": self.gallery, "actor": self.actor,
                "action": self.action, "subject": self.subject, "details": dict(self.details), "prev": self.prev}

    def to_dict(self) -> dict[str, Any]:
        return {**self.payload(), "time": iso(self.time), "hash": self.hash}


@dataclass(frozen=True)
class JournalCheck:
    """The result of ``verify_journal``: whether every line is intact and none is missing."""

    ok: bool
    entries: int
    head: str
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head": self.head, "problems": list(self.problems)}
