"""One JSON schema per result type, shared by the CLI's ``--json`` output and the HTTP API.

The API declares these as its response models (so the OpenAPI document describes what
it returns), and tests validate the CLI's output against the same classes. Fields the
schema names are required with their types; a result may carry more (``extra="allow"``),
such as ``image`` (the CLI's input path) or ``non_commercial_models``.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- errors and service ---------------------------------------------------------------------------
class ErrorDetail(Open):
    code: str = Field(description="Stable machine-readable code, e.g. no_face, unauthorized, busy.")
    message: str
    status: int


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(Open):
    status: Literal["ok"]
    version: str
    gallery_store: str


class WhoAmI(Open):
    key_id: str
    name: str
    scopes: list[str]
    gallery: str


class ModelRow(Open):
    name: str
    task: str
    license: str
    commercial: bool
    size_bytes: Optional[int] = None
    installed: bool
    source: str


class ModelList(Open):
    models: list[ModelRow]


# -- detection and analysis -----------------------------------------------------------------------
class Face(Open):
    box: list[float] = Field(min_length=4, max_length=4, description="x1, y1, x2, y2 in pixels.")
    score: float
    landmarks: Optional[list[list[float]]] = None


class Detection(Open):
    detector: str
    width: int
    height: int
    faces: list[Face]


class AnalyzedFace(Face):
    pose: Optional[dict[str, float]] = None
    age: Optional[dict[str, Any]] = None
    gender: Optional[dict[str, Any]] = None
    expression: Optional[dict[str, Any]] = None
    quality: Optional[dict[str, Any]] = None
    liveness: Optional[dict[str, Any]] = None
    mesh: Optional[list[list[float]]] = None


class Analysis(Open):
    detector: str
    landmark_model: Optional[str]
    width: int
    height: int
    faces: list[AnalyzedFace]


# -- recognition ----------------------------------------------------------------------------------
class EmbeddingResult(Open):
    model: str
    metric: str
    dim: int
    embedding: list[float]


class Verification(Open):
    same: bool
    distance: float
    threshold: float
    fmr: float
    target_fmr: Optional[float]
    model: str
    metric: str
    calibration: str


# -- gallery --------------------------------------------------------------------------------------
class Enrolment(Open):
    identity: str
    gallery: str
    added: int
    template_ids: list[int | str]
    templates: int
    model: str
    forced: list[str]


class Candidate(Open):
    identity: str
    score: float
    distance: float
    passed: bool


class Identification(Open):
    decision: str
    identity: Optional[str]
    score: Optional[float]
    threshold: float
    target_fpir: float
    gallery: str
    gallery_size: int
    templates: int
    model: str
    candidates: list[Candidate]


class Identifications(Open):
    faces: list[Identification]


class AccessDecision(Open):
    granted: bool
    identity: str
    reasons: list[str]
    score: Optional[float]
    threshold: Optional[float]
    fmr: float
    model: str


class Identity(Open):
    name: str
    gallery: str
    metadata: dict[str, Any]
    consent: Optional[dict[str, Any]]
    templates: int


class IdentityList(Open):
    gallery: dict[str, Any]
    identities: list[Identity]


class ErasureReceipt(Open):
    gallery: str
    subject: str
    templates_removed: int
    crops_removed: int
    index_entries_removed: int
    identity_removed: bool
    steps: list[str]
    time: str
    digest: str


class JournalEntry(Open):
    seq: int
    time: str
    gallery: str
    actor: str
    action: str
    hash: str


class JournalCheck(Open):
    ok: bool
    entries: int
    problems: list[str]


class Journal(Open):
    entries: list[JournalEntry]
    verified: JournalCheck


class Export(Open):
    identity: dict[str, Any]


# -- anonymisation, jobs, generation, provenance --------------------------------------------------
class AnonymizeReport(Open):
    masked: int
    faces: list[dict[str, Any]]
    provenance: dict[str, Any]


class AnonymizedImage(Open):
    report: AnonymizeReport
    image: str = Field(description="The anonymised image as a data: URL (PNG or JPEG, as uploaded).")


class Job(Open):
    job: str
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    result: Optional[dict[str, Any]] = None
    error: Optional[ErrorDetail] = None


class GeneratedFace(Open):
    image: str = Field(description="PNG data: URL, watermarked and carrying its provenance record.")
    condition: Any


class Generated(Open):
    model: str
    license: str
    images: list[GeneratedFace]


class ProvenanceReport(Open):
    watermark: dict[str, Any]
    metadata: Optional[dict[str, Any]]
    metadata_source: Optional[str]


# -- photo collections (mien index / search / cluster) ---------------------------------------------
class IndexFailure(Open):
    path: str
    kind: str = Field(description="empty, not-image, truncated, too-large, video, missing, unreadable, worker-died, ...")
    message: str


class IndexReport(Open):
    source: str
    store: str
    engine: Literal["local", "ray"]
    workers: int
    seen: int
    skipped: int = Field(description="Already indexed (same path, size and modification time): not redone.")
    indexed: int
    duplicates: int
    faces: int
    failed: int
    failed_by_kind: dict[str, int]
    failures: list[IndexFailure]
    retries: int
    seconds: float
    images_per_second: float
    model: str


class CollectionInfo(Open):
    url: str
    model: Optional[str]
    images: int
    faces: int
    paths: int
    failures: int
    people: int


class PhotoHit(Open):
    image: str = Field(description="The photo's content hash (sha256).")
    path: Optional[str]
    face: str
    distance: float
    box: list[float] = Field(min_length=4, max_length=4)
    person: Optional[int]


class CollectionSearch(Open):
    model: str
    fmr: float
    threshold: float
    faces_searched: int
    expected_false: float = Field(description="About how many strangers pass the threshold by chance (FMR x faces).")
    photos: int
    truncated: bool
    hits: list[PhotoHit]


class PersonSummary(Open):
    id: int
    name: Optional[str]
    size: int
    images: int
    faces: list[str] = Field(description="Face ids, representative first.")
    sheet: Optional[str]


class PeopleList(Open):
    people: list[PersonSummary]
    faces: int
    assigned: int
    unassigned: int


class PersonPhotos(PersonSummary):
    paths: list[str]


class ClusterRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    full: bool = Field(False, description="Cluster every face again (default: only faces new since the last run).")
    cohort: Optional[Literal["utkface"]] = Field(
        None, description="Normalise distances by a cohort (AS-norm): 'utkface' = the 17k UTKFace faces mien ships "
                          "(research licence; the response says so). +2 BCubed F1 points on LFW.")
