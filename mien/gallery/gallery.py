"""``Gallery``: people enrolled once, identified 1:N at a calibrated FPIR, verified for access.

    >>> from mien.gallery import open_gallery
    >>> g = open_gallery()                                  # embedded store under $MIEN_HOME
    >>> g.enrol("ada", ["ada1.jpg", "ada2.jpg"], consent=Consent("door", time.time()))
    >>> g.identify("door-cam.jpg").identity                 # "ada", or None for "unknown"
    >>> g.verify("ada", "login.jpg").granted
    >>> g.remove("ada").digest                              # an erasure receipt

The gallery is pinned to the embedding id (model + TTA) and cohort that filled it; using
another raises ``EmbeddingMismatchError``. Templates are sealed and index vectors rotated
by the gallery key when there is one (``mien.gallery.protect``). Every enrol, identify,
verify, consent change, export and removal is a line in the gallery's journal.
"""

from __future__ import annotations

import copy

import getpass
import hashlib
import io
import json
import os
import secrets
import time
import warnings
from dataclasses import replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..embed import DEFAULT_EMBEDDER, Embedder, Embeddings, get_embedder
from ..embed.base import l2_normalize
from ..errors import ConsentError, EmbeddingMismatchError, InputError, NotFoundError, QualityError
from ..image import describe, load_image
from ..match.calibration import Calibration, load_calibration
from ..match.cohort import Cohort, as_norm
from ..types import Faces
from .base import EnrolItem, GalleryStore, JournalLine
from .decision import DEFAULT_FPIR, threshold_for_fpir
from .journal import verify_chain
from .protect import ClearTemplatesWarning, TemplateProtector, load_key
from .types import (AccessDecision, Candidate, Consent, Enrolment, ErasureReceipt, GalleryInfo, Hit, Identification,
                    IdentityRecord, JournalCheck, JournalEntry, StoredTemplate, check_name, iso)

DEFAULT_GALLERY = "default"
DEFAULT_FMR = 1e-3
LIVENESS_MIN = 0.5  # each experimental liveness model's "real" probability needed to grant


def default_actor() -> str:
    try:
        return f"library:{getpass.getuser()}"
    except (KeyError, OSError):
        return "library"


def embedder_for(model_id: str, **options: Any) -> Embedder:
    """The embedder whose output is tagged ``model_id`` ("dlib-resnet", "faceres+flip", "dlib-resnet+jitter8")."""
    name, _, tta = model_id.partition("+")
    if tta.startswith("jitter"):
        return get_embedder(name, tta="jitter", jitters=int(tta.removeprefix("jitter")), **options)
    return get_embedder(name, tta="flip" if tta == "flip" else "none", **options)


class Gallery:
    """One gallery (tenant) of one store, with the models that fill and search it."""

    def __init__(self, store: GalleryStore, name: str = DEFAULT_GALLERY, *, model: str | Embedder | None = None,
                 key: bytes | str | os.PathLike | None = None, cohort: Cohort | None = None, actor: str | None = None,
                 calibration: str | os.PathLike | None = None, detector: Any = None, keep_crops: bool = False,
                 create: bool = True) -> None:
        self.store = store
        self.name = check_name(name, "gallery")
        self.actor = actor or default_actor()
        self.cohort = cohort
        self._calibration_path = calibration
        self._calibration: Calibration | None = None
        self._points: dict = {}  # operating points by (FPIR, size), for the calibration under "calibration"
        self._detector = detector
        self._embedder = model if isinstance(model, Embedder) else None
        key_bytes = load_key(key)
        info = store.get_gallery(self.name)
        if info is None:
            if not create:
                raise NotFoundError(f"no gallery {self.name!r} in {store.url}")
            info = self._create(model, key_bytes, keep_crops)
        else:
            self._check_pins(info, model)
        self.info = info
        self.protector = TemplateProtector(key_bytes, info.salt, info.dim, info.name, info.secret, info.protected)

    # -- set-up -----------------------------------------------------------------------------------
    def _create(self, model: str | Embedder | None, key: bytes | None, keep_crops: bool) -> GalleryInfo:
        embedder = self._embedder or embedder_for(model or DEFAULT_EMBEDDER)
        self._embedder = embedder
        if self.cohort is not None:
            self.cohort.check(embedder.model_id)
        salt = secrets.token_bytes(16)
        protector = TemplateProtector(key, salt, embedder.info.dim, self.name)
        info = GalleryInfo(self.name, embedder.model_id, embedder.info.metric, embedder.info.dim,
                           None if self.cohort is None else self.cohort.fingerprint, key is not None, bool(keep_crops),
                           time.time(), salt, protector.sealed_secret())
        if key is None:
            warnings.warn(f"gallery {self.name!r} has no key: its templates lie unencrypted in {self.store.url}; "
                          "set MIEN_GALLERY_KEY or MIEN_GALLERY_KEY_FILE (`mien gallery keygen`)",
                          ClearTemplatesWarning, stacklevel=3)
        details = {"model": info.model, "cohort": info.cohort, "protected": info.protected, "keep_crops": info.keep_crops}
        return self.store.create_gallery(info, JournalLine(self.actor, "create", None, details, protector.journal_key()))

    def _check_pins(self, info: GalleryInfo, model: str | Embedder | None) -> None:
        asked = model.model_id if isinstance(model, Embedder) else model
        if asked is not None and asked != info.model:
            raise EmbeddingMismatchError(f"gallery {info.name!r} holds {info.model!r} templates; it cannot be used with "
                                         f"{asked!r} (`mien gallery reembed` moves a gallery that kept its crops)")
        if info.cohort and self.cohort is None:
            raise InputError(f"gallery {info.name!r} scores against cohort {info.cohort}; give that cohort (--cohort)")
        if self.cohort is not None and self.cohort.fingerprint != info.cohort:
            raise EmbeddingMismatchError(f"gallery {info.name!r} was filled with cohort {info.cohort or 'none'}, "
                                         f"not {self.cohort.fingerprint}")
        if self.cohort is not None:
            self.cohort.check(info.model)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = embedder_for(self.info.model)
        return self._embedder

    @property
    def detector(self) -> Any:
        if self._detector is None or isinstance(self._detector, str):
            from ..match.faces import recognition_detector

            self._detector = recognition_detector(self._detector)
        return self._detector

    def calibration(self) -> Calibration:
        if self._calibration is None:  # read once: identify runs per frame
            self._calibration = load_calibration(self.info.score_model, self._calibration_path)
        return self._calibration

    def _operating_point(self, cal: Calibration, fpir: float, comparisons: int):
        """threshold_for_fpir, kept per (calibration, FPIR, gallery size): a fit per probe cost ~0.5 ms."""
        cache = self._points
        if cache.get("calibration") is not cal or len(cache) > 256:
            cache.clear()
            cache["calibration"] = cal
        point = cache.get((fpir, comparisons))
        if point is None:
            point = cache[(fpir, comparisons)] = threshold_for_fpir(cal, fpir, comparisons)
        return point

    def _line(self, action: str, subject: str | None = None, **details: Any) -> JournalLine:
        return JournalLine(self.actor, action, None if subject is None else self.protector.pseudonym(subject),
                           details, self.protector.journal_key())

    # -- enrolment --------------------------------------------------------------------------------
    def enrol(self, name: str, images: Sequence[Any] | Any, metadata: Mapping[str, Any] | None = None,
              consent: Consent | None = None, *, force: bool = False, largest: bool = False,
              quality_thresholds: Any = None) -> Enrolment:
        """Add one or more photos (or ``Embeddings``) of one person; all are checked before any is stored.

        Photos must hold one face (or ``largest``) that passes ``mien.quality``'s enrolment
        checks; ``force`` enrols a failing face anyway and records which checks it failed.
        """
        check_name(name)
        if isinstance(images, (str, bytes, os.PathLike, np.ndarray, Embeddings)):
            images = [images]
        templates, qualities, forced = [], [], []
        for image in images:  # lazily, so a progress bar around ``images`` moves
            made, quality, failed = self._template(name, image, force, largest, quality_thresholds)
            templates.extend(made)
            qualities.extend([quality] * len(made))
            forced.extend(f for f in failed if f not in forced)
        if not templates:
            raise InputError(f"nothing to enrol for {name!r}: give at least one photo or embedding")
        item = EnrolItem(name, templates, metadata, consent)
        line = self._line("enrol", name, templates=len(templates), forced=forced, consent=consent is not None)
        (ids,) = self.store.enrol(self.name, [item], line)
        record = self.store.get_identity(self.name, name)
        return Enrolment(name, self.name, tuple(ids), record.templates if record else len(ids), tuple(qualities),
                         tuple(forced), self.info.model)

    def enrol_many(self, items: Iterable[tuple[str, Embeddings, Mapping[str, Any] | None]],
                   consent: Consent | None = None) -> int:
        """Bulk enrolment of precomputed embeddings, one transaction for all; the templates added."""
        batch = []
        for name, emb, metadata in items:
            check_name(name)
            batch.append(EnrolItem(name, self._templates_from(name, emb, None, None, None), metadata, consent))
        if not batch:
            return 0
        n = sum(len(b.templates) for b in batch)
        self.store.enrol(self.name, batch, self._line("enrol", None, templates=n, identities=len(batch)))
        return n

    def _template(self, name: str, image: Any, force: bool, largest: bool,
                  thresholds: Any) -> tuple[list[StoredTemplate], dict | None, tuple[str, ...]]:
        if isinstance(image, Embeddings):
            return self._templates_from(name, image, None, None, None), None, ()
        pixels, face, source = self._face(image, largest)
        from ..quality import assess

        quality = assess(pixels, face, thresholds)[0]
        if not quality.passed and not force:
            detail = ", ".join(f"{c.name} {c.value:.3g} (needs {c.limit})" for c in quality.checks if not c.passed)
            raise QualityError(describe(image), quality.failed, detail)
        emb = self.embedder.embed_faces(pixels, face)
        crop = self._crop(pixels, face, name) if self.info.keep_crops else None
        return self._templates_from(name, emb, quality.score, source, crop), quality.to_dict(), quality.failed

    def _templates_from(self, name: str, emb: Embeddings, quality: float | None, source: str | None,
                        crop: bytes | None) -> list[StoredTemplate]:
        self._check_embeddings(emb)
        vectors = self._comparable(emb.vectors)
        index_vectors = self.protector.to_index(vectors)
        stats = self.cohort.impostor_stats(emb.vectors) if self.cohort is not None else None
        now = time.time()
        return [StoredTemplate(name, self.protector.seal_vector(emb.vectors[i], name), index_vectors[i], now, quality,
                               source, None if stats is None else float(stats[0][i]),
                               None if stats is None else float(stats[1][i]), crop)
                for i in range(len(emb))]

    def _comparable(self, vectors: np.ndarray) -> np.ndarray:
        """Vectors as the index compares them: unit length for a cosine model (L2 then orders as cosine)."""
        v = np.asarray(vectors, np.float32)
        return l2_normalize(v).astype(np.float32) if self.info.metric == "cosine" else v

    def _check_embeddings(self, emb: Embeddings) -> None:
        if emb.model != self.info.model or emb.dim != self.info.dim:
            raise EmbeddingMismatchError(f"gallery {self.name!r} holds {self.info.model!r} ({self.info.dim}-D) "
                                         f"templates; these embeddings are {emb.model!r} ({emb.dim}-D)")

    def _face(self, image: Any, largest: bool) -> tuple[np.ndarray, Faces, str]:
        from ..match.faces import one_face

        if isinstance(image, (str, os.PathLike)):
            try:
                with open(image, "rb") as fh:
                    raw = fh.read()
            except OSError as exc:
                from ..errors import ImageError

                raise ImageError(f"cannot read {image}: {exc.strerror or exc}") from exc
            pixels = load_image(raw)
        else:
            raw = None
            pixels = load_image(image)
        source = hashlib.sha256(raw if raw is not None else pixels.tobytes()).hexdigest()
        return pixels, one_face(pixels, self.detector, describe(image), largest), source

    def _crop(self, pixels: np.ndarray, face: Faces, name: str) -> bytes:
        """The face with a margin (at most 256 px high) and its landmarks in crop pixels, sealed."""
        from PIL import Image

        x1, y1, x2, y2 = face.boxes[0]
        w, h = x2 - x1, y2 - y1
        left, top = int(max(0, x1 - 0.5 * w)), int(max(0, y1 - 0.5 * h))
        right, bottom = int(min(pixels.shape[1], x2 + 0.5 * w)), int(min(pixels.shape[0], y2 + 0.5 * h))
        crop = pixels[top:bottom, left:right]
        scale = min(1.0, 256.0 / max(crop.shape[0], 1))
        image = Image.fromarray(crop)
        if scale < 1.0:
            image = image.resize((max(1, round(crop.shape[1] * scale)), 256), Image.LANCZOS)
        buf = io.BytesIO()
        image.save(buf, "PNG")
        landmarks = ((face.landmarks[0] - (left, top)) * scale).round(2).tolist()
        header = json.dumps({"landmarks": landmarks}).encode()
        return self.protector.seal(len(header).to_bytes(4, "little") + header + buf.getvalue(), name)

    # -- identification ---------------------------------------------------------------------------
    def identify(self, probe: Any, k: int = 5, fpir: float = DEFAULT_FPIR, *, largest: bool = False) -> Identification:
        """Who is this? The top ``k`` enrolled identities and a decision at target ``fpir``."""
        emb, face = self._probe(probe, largest)
        (result,) = self._identify(emb, k, fpir, [None if face is None else face.to_list()[0]])
        self.store.log(self.name, self._line("identify", result.identity, decision=result.decision, k=k, fpir=fpir,
                                             templates=result.templates), durable=False)
        return result

    def identify_faces(self, image: Any, k: int = 5, fpir: float = DEFAULT_FPIR) -> list[Identification]:
        """Identify every face found in ``image``; one answer per face, in the detector's order."""
        from ..match.faces import detect_with_fallback

        pixels = load_image(image)
        faces, _ = detect_with_fallback(pixels, self.detector)
        if not len(faces):
            return []
        results = self._identify(self.embedder.embed_faces(pixels, faces), k, fpir, faces.to_list())
        self.store.log(self.name, self._line("identify", None, faces=len(results), k=k, fpir=fpir,
                                             matches=sum(r.matched for r in results)), durable=False)
        return results

    def identify_embeddings(self, emb: Embeddings, k: int = 5, fpir: float = DEFAULT_FPIR) -> list[Identification]:
        """Identify precomputed embeddings in one batch (one journal line for the batch)."""
        self._check_embeddings(emb)
        results = self._identify(emb, k, fpir, [None] * len(emb))
        self.store.log(self.name, self._line("identify", None, probes=len(results), k=k, fpir=fpir,
                                             matches=sum(r.matched for r in results)), durable=False)
        return results

    def _probe(self, probe: Any, largest: bool) -> tuple[Embeddings, Faces | None]:
        if isinstance(probe, Embeddings):
            self._check_embeddings(probe)
            if len(probe) != 1:
                raise InputError(f"a probe is one face; got {len(probe)} embeddings (use identify_embeddings)")
            return probe, None
        pixels, face, _ = self._face(probe, largest)
        return self.embedder.embed_faces(pixels, face), face

    def _identify(self, emb: Embeddings, k: int, fpir: float, faces: list) -> list[Identification]:
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        n_ids, n_templates = self.store.counts(self.name)
        cal = self.calibration()
        point = self._operating_point(cal, fpir, n_templates)
        queries = self.protector.to_index(self._comparable(emb.vectors))
        stats = self.cohort.impostor_stats(emb.vectors) if self.cohort is not None else None
        usable: set[str] = set()
        seen: set[str] = set()
        fetch = min(n_templates, max(8 * k, 64))
        pending = list(range(len(emb)))
        ranked: dict[int, list[Candidate]] = {}
        while pending and n_templates:
            hits = self.store.search(self.name, queries[pending], fetch)
            met = {h.identity for row in hits for h in row} - seen
            usable |= self.store.usable(self.name, sorted(met), time.time())
            seen |= met
            still = []
            for q, row in zip(pending, hits):
                probe_stats = None if stats is None else (stats[0][q], stats[1][q])
                cands = self._rank([h for h in row if h.identity in usable], probe_stats, point.threshold)
                if len(cands) < k and fetch < n_templates:
                    still.append(q)
                ranked[q] = cands[:k]
            pending = still
            fetch = min(n_templates, fetch * 4)
        out = []
        for q in range(len(emb)):
            cands = tuple(ranked.get(q, ()))
            best = cands[0] if cands and cands[0].passed else None
            note = None
            if not n_templates:
                note = "the gallery is empty"
            elif point.extrapolated:
                note = (f"{n_templates} templates at FPIR {fpir:g} need a per-comparison FMR of {point.comparison_fmr:.1e}, "
                        f"below what the calibration measured: the threshold follows its extrapolated impostor tail")
            out.append(Identification("match" if best else "unknown", best.identity if best else None, cands,
                                      point.threshold, fpir, point.estimated_fpir, point.comparison_fmr, self.name,
                                      n_ids, n_templates,
                                      self.info.model, cal.source, point.extrapolated, faces[q], note))
        return out

    def _rank(self, hits: list[Hit], probe_stats: tuple | None, threshold: float) -> list[Candidate]:
        """One candidate per identity (its best template), best first; ``hits`` are the usable ones."""
        best: dict[str, Candidate] = {}
        for hit in hits:
            score = hit.distance
            if probe_stats is not None and hit.norm_mean is not None:
                score = float(as_norm(hit.distance, probe_stats, (hit.norm_mean, hit.norm_std)))
            old = best.get(hit.identity)
            if old is None or score < old.score:
                best[hit.identity] = Candidate(hit.identity, score, hit.distance, hit.template_id, score <= threshold)
        return sorted(best.values(), key=lambda c: c.score)

    # -- access decisions -----------------------------------------------------------------------
    def verify(self, name: str, probe: Any, fmr: float = DEFAULT_FMR, *, liveness: bool = False,
               require_quality: bool = False, largest: bool = False) -> AccessDecision:
        """Grant or deny: is the person in ``probe`` the enrolled ``name``? With every reason."""
        record = self.get(name)
        cal = self.calibration()
        threshold = cal.threshold_for(fmr)
        reasons: list[str] = []
        granted = True
        quality = live = face_dict = None
        if isinstance(probe, Embeddings):
            emb = self._probe(probe, largest)[0]
        else:
            pixels, face, _ = self._face(probe, largest)
            face_dict = face.to_list()[0]
            emb = self.embedder.embed_faces(pixels, face)
            from ..quality import assess

            q = assess(pixels, face)[0]
            quality = q.to_dict()
            if not q.passed:
                reasons.append(f"quality: failed {', '.join(q.failed)}" + (" (required)" if require_quality else " (noted)"))
                granted = granted and not require_quality
            if liveness:
                live, ok, why = self._liveness(pixels, face)
                reasons.append(why)
                granted = granted and ok
        score = None
        if not record.usable():
            reasons.insert(0, f"consent {record.consent.state()}: {name!r} may not be matched")
            granted = False
        else:
            templates = self.store.templates(self.name, name)
            vectors = np.stack([self.protector.open_vector(t.sealed, name) for t in templates])
            distances = Embeddings(vectors, self.info.model, self.info.metric).distances(emb)[:, 0]
            if self.cohort is not None:
                stats = self.cohort.impostor_stats(emb.vectors)
                means = np.array([t.norm_mean for t in templates]), np.array([t.norm_std for t in templates])
                distances = as_norm(distances, (stats[0][0], stats[1][0]), means)
            score = float(distances.min())
            same = score <= threshold
            reasons.insert(0, f"{'match' if same else 'no match'}: score {score:.4f} "
                              f"{'<=' if same else '>'} threshold {threshold:.4f} (FMR {fmr:g})")
            granted = granted and same
        decision = AccessDecision(granted, name, tuple(reasons), score, threshold, fmr, self.info.model, cal.source,
                                  quality, live, face_dict)
        self.store.log(self.name, self._line("verify", name, granted=granted, fmr=fmr, liveness=liveness),
                       durable=False)
        return decision

    def _liveness(self, pixels: np.ndarray, face: Faces) -> tuple[dict, bool, str]:
        from ..liveness import check_liveness

        scores = check_liveness(pixels, face)[0]
        worst = min(s.real for s in scores.values())
        ok = worst >= LIVENESS_MIN
        detail = ", ".join(f"{n} {s.real:.2f}" for n, s in scores.items())
        result = {n: s.to_dict() for n, s in scores.items()}
        return result, ok, f"liveness (experimental): {detail}; {'passed' if ok else 'failed'} (needs {LIVENESS_MIN} each)"

    # -- records ----------------------------------------------------------------------------------
    def get(self, name: str) -> IdentityRecord:
        record = self.store.get_identity(self.name, name)
        if record is None:
            raise NotFoundError(f"{name!r} is not enrolled in gallery {self.name!r}")
        return record

    def list(self, offset: int = 0, limit: int | None = None) -> list[IdentityRecord]:
        _check_count("offset", offset)
        if limit is not None:
            _check_count("limit", limit)
        return self.store.list_identities(self.name, offset, limit)

    def __len__(self) -> int:
        return self.store.counts(self.name)[0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.store.get_identity(self.name, name) is not None

    def set_consent(self, name: str, consent: Consent | None) -> IdentityRecord:
        self.get(name)
        self.store.set_consent(self.name, name, consent, self._line("consent", name, state=None if consent is None else consent.state()))
        return self.get(name)

    def withdraw_consent(self, name: str) -> IdentityRecord:
        record = self.get(name)
        if record.consent is None:
            raise ConsentError(f"{name!r} has no consent record to withdraw; remove them instead")
        return self.set_consent(name, record.consent.withdraw())

    def remove(self, name: str, reason: str = "erasure request") -> ErasureReceipt:
        """Erase an identity: templates, crops and index entries, physically; a receipt to keep."""
        removal = self.store.remove(self.name, name, self._line("remove", name, reason=reason))
        subject = self.protector.pseudonym(name)
        now = time.time()
        body = {"gallery": self.name, "subject": subject, "templates_removed": removal.templates,
                "crops_removed": removal.crops, "index_entries_removed": removal.index_entries,
                "identity_removed": removal.identity, "steps": list(removal.steps), "time": round(now, 6),
                "removal_seq": removal.journal_seq}
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        entry = self.store.log(self.name, self._line("receipt", name, digest=digest, removal_seq=removal.journal_seq))
        return ErasureReceipt(self.name, subject, removal.templates, removal.crops, removal.index_entries,
                              removal.identity, removal.steps, now, entry.seq, digest)

    def purge_expired(self, now: float | None = None) -> list[ErasureReceipt]:
        """Erase everyone whose consent has expired or been withdrawn (retention)."""
        now = time.time() if now is None else now
        return [self.remove(name, reason="consent expired or withdrawn") for name in self.store.expired(self.name, now)]

    def export(self, name: str) -> dict[str, Any]:
        """Everything held about one person (GDPR art. 15 subject access), templates opened."""
        record = self.get(name)
        subject = self.protector.pseudonym(name)
        templates = []
        for t in self.store.templates(self.name, name):
            item = {"id": t.id, "created": iso(t.created),
                    "quality": t.quality, "source_sha256": t.source, "crop_kept": t.crop is not None,
                    "vector": np.round(self.protector.open_vector(t.sealed, name).astype(np.float64), 6).tolist()}
            templates.append(item)
        journal = [e.to_dict() for e in self.store.journal(self.name) if e.subject == subject]
        self.store.log(self.name, self._line("export", name, templates=len(templates)))
        return {"identity": record.to_dict(), "model": self.info.model, "subject": subject,
                "protection": self.protection(), "templates": templates, "journal": journal}

    # -- re-key and re-embed --------------------------------------------------------------------
    def rekey(self, new_key: bytes | str | os.PathLike | None) -> GalleryInfo:
        """Re-seal every template under ``new_key`` and re-rotate the index: the old key opens nothing after.

        This is how stored templates are revoked (ISO/IEC 24745 renewability): a leaked key or
        index file is worth nothing once the gallery is re-keyed. ``None`` removes protection.
        """
        key = load_key(new_key) if new_key is not None else None
        new = self.protector.rekeyed(key)
        templates = []
        for record in self.list():
            for t in self.store.templates(self.name, record.name):
                vector = self.protector.open_vector(t.sealed, record.name)
                crop = None if t.crop is None else new.seal(self.protector.open(t.crop, record.name), record.name)
                templates.append(replace(t, sealed=new.seal_vector(vector, record.name),
                                         index_vector=new.to_index(self._comparable(vector[None]))[0], crop=crop, id=None))
        info = replace(self.info, protected=key is not None, secret=new.sealed_secret())
        line = self._line("rekey", None, templates=len(templates), protected=info.protected)
        self.info, self.protector = self.store.rewrite(self.name, info, templates, line), new
        return self.info

    def reembed(self, model: str | Embedder, cohort: Cohort | None = None) -> GalleryInfo:
        """Move the gallery to another embedding model from the face crops it kept (``keep_crops``)."""
        if not self.info.keep_crops:
            raise InputError(f"gallery {self.name!r} kept no face crops, so it cannot be re-embedded; "
                             "enrol the people again into a new gallery")
        embedder = model if isinstance(model, Embedder) else embedder_for(model)
        if cohort is not None:
            cohort.check(embedder.model_id)
        new_info = replace(self.info, model=embedder.model_id, metric=embedder.info.metric, dim=embedder.info.dim,
                           cohort=None if cohort is None else cohort.fingerprint)
        new = TemplateProtector(self.protector.key, self.info.salt, new_info.dim, self.name)
        new.secret = self.protector.secret
        old_model, old_embedder, old_cohort = self.info, self._embedder, self.cohort
        self.info, self._embedder, self.cohort, self._calibration = new_info, embedder, cohort, None
        saved, self.protector = self.protector, new
        try:
            templates = []
            for record in self.list():
                for t in self.store.templates(self.name, record.name):
                    if t.crop is None:
                        raise InputError(f"a template of {record.name!r} has no kept crop; nothing was changed")
                    pixels, face = _open_crop(saved.open(t.crop, record.name))
                    (made,) = self._templates_from(record.name, embedder.embed_faces(pixels, face), t.quality,
                                                   t.source, new.seal(saved.open(t.crop, record.name), record.name))
                    templates.append(replace(made, created=t.created))
            line = self._line("reembed", None, templates=len(templates), model=new_info.model, previous=old_model.model)
            self.info = self.store.rewrite(self.name, replace(new_info, secret=new.sealed_secret()), templates, line)
        except BaseException:
            self.info, self._embedder, self.cohort, self.protector = old_model, old_embedder, old_cohort, saved
            raise
        return self.info

    # -- journal and description ------------------------------------------------------------------
    def journal(self, since: int = 0) -> list[JournalEntry]:
        _check_count("since", since)
        return list(self.store.journal(self.name, since))

    def verify_journal(self) -> JournalCheck:
        return verify_chain(self.protector.journal_key(), self.store.journal(self.name), self.store.journal_head(self.name))

    def protection(self) -> str:
        if self.info.protected:
            return ("templates sealed with AES-256-GCM; the index holds them under a keyed orthogonal rotation "
                    "(distances unchanged, revoked by a new key); names, metadata and consent records are not encrypted")
        return ("NO KEY: templates lie unencrypted in the store and its index; create the gallery with a key "
                "(MIEN_GALLERY_KEY or MIEN_GALLERY_KEY_FILE) to encrypt them")

    def describe(self) -> dict[str, Any]:
        identities, templates = self.store.counts(self.name)
        return {**self.info.to_dict(), "store": self.store.url, "identities": identities, "templates": templates,
                "protection": self.protection()}

    def acting_as(self, actor: str) -> "Gallery":
        """This gallery, sharing its store and models, with another actor in the journal (a service's caller)."""
        twin = copy.copy(self)
        twin.actor = actor
        return twin

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Gallery":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_crop(data: bytes) -> tuple[np.ndarray, Faces]:
    """A kept crop (``Gallery._crop``) back as pixels and its one face with landmarks."""
    length = int.from_bytes(data[:4], "little")
    header = json.loads(data[4:4 + length])
    pixels = load_image(data[4 + length:])
    landmarks = np.asarray(header["landmarks"], np.float32)[None]
    lo, hi = landmarks[0].min(0), landmarks[0].max(0)
    pad = (hi - lo) * 0.6
    box = np.concatenate([lo - pad, hi + pad])[None]
    return pixels, Faces(box, np.ones(1, np.float32), landmarks)


# Sequence numbers and offsets are 64-bit integers in every store.
MAX_COUNT = 2**63 - 1


def _check_count(what: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
        raise InputError(f"{what} must be a whole number from 0 to {MAX_COUNT}, got {value!r}")
