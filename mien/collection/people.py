"""Group a collection's faces into people, keep the user's corrections, and show each person.

``People(store).update()`` clusters what is new (faces indexed since the last run join the
people found before, or form new ones; the old faces are not re-clustered);
``update(full=True)`` clusters everything again. Either way:

* two faces in one photo are never one person;
* faces that fail the quality gate (tiny, blurred, extreme pose) stay unassigned;
* faces the age model reads as young children need the stricter bar (and faceres's
  agreement where both have its vector), see ``mien.collection.cluster``;
* the user's edits (``merge``, ``split``, ``name``) are applied at once and kept as an
  append-only log in the store, which every later run replays as constraints: merged
  faces stay together, split faces stay apart, names follow their faces;
* person ids stay stable across runs (a new clustering's groups take the id of the old
  person they share most faces with).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..match.cohort import Cohort, load_cohort

from ..errors import InputError, NotFoundError
from .cluster import YOUNG_AGE, ClusterInput, ClusterParams, assign, cluster
from .store import FaceStore
from .types import Edit, FaceRecord, Person


COHORTS = {"utkface": "gan128-guard"}  # built-in cohorts: name -> the model-store entry holding them


def cluster_cohort(spec: str | os.PathLike) -> Cohort:
    """A cohort for AS-norm clustering: "utkface" (the 17,142 UTKFace faces shipped as ``gan128-guard``:
    research licence) or a cohort file made by ``mien cohort`` from photos like the collection's."""
    if str(spec) in COHORTS:
        from ..generate.guard import load_guard

        guard = load_guard("gan128")
        return Cohort("dlib-resnet", "euclidean", guard.templates.astype(np.float32), source=COHORTS[str(spec)])
    return load_cohort(spec)


class People:
    def __init__(self, store: FaceStore, params: ClusterParams | None = None, young_age: float = YOUNG_AGE,
                 cohort: Cohort | None = None) -> None:
        """``cohort``: normalise distances by it (AS-norm, ``cluster_cohort``); None clusters on raw distances."""
        self.store = store
        self.params = params or ClusterParams()
        self.young_age = float(young_age)
        self.cohort = cohort

    # -- clustering ------------------------------------------------------------------------------
    def update(self, full: bool = False) -> list[Person]:
        faces = self.store.faces()
        old, names = self.store.people()
        edits = self.store.edits()
        if not faces:
            self.store.save_people({}, {})
            return []
        ids = [f.id for f in faces]
        if full or not old:
            labels = cluster(self._input(faces, edits), self.params)
            assignment = _stable_ids(ids, labels, old)
        else:
            assignment = self._incremental(faces, old, edits)
        names = {p: n for p, n in names.items() if p in set(assignment.values())}
        self.store.save_people(assignment, names)
        return self.list()

    def _incremental(self, faces: list[FaceRecord], old: dict[str, int], edits: list[Edit]) -> dict[str, int]:
        seen = [f for f in faces if f.id in old]
        new = [f for f in faces if f.id not in old]
        assignment = {f.id: old[f.id] for f in seen}
        if not new:
            return assignment
        photos: dict[str, int] = {}  # one photo numbering across old and new faces
        dim = next((len(f.second) for f in faces if f.second is not None), None)
        base = self._input(seen, edits, photos, dim)
        ids = sorted(set(assignment.values()))
        compact = {p: i for i, p in enumerate(ids)}  # assign() numbers new people after the old labels
        labels = np.array([compact[old[f.id]] for f in seen], np.int64)
        fresh = assign(base, labels, self._input(new, edits, photos, dim), self.params)
        next_id = max(ids, default=-1) + 1
        for f, label in zip(new, fresh):
            if label < 0:
                continue
            assignment[f.id] = ids[label] if label < len(ids) else next_id + int(label) - len(ids)
        return assignment

    def _input(self, faces: Sequence[FaceRecord], edits: Sequence[Edit], photos: dict[str, int] | None = None,
               second_dim: int | None = None) -> ClusterInput:
        index = {f.id: i for i, f in enumerate(faces)}
        photos = {} if photos is None else photos
        photo = np.array([photos.setdefault(f.image, len(photos)) for f in faces], np.int64)
        vectors = np.stack([f.vector for f in faces]).astype(np.float32)
        usable = np.array([f.quality.passed for f in faces], bool)
        young = np.array([f.age is not None and f.age <= self.young_age for f in faces], bool)
        second = None
        dim = second_dim or next((len(f.second) for f in faces if f.second is not None), None)
        if dim:
            second = np.full((len(faces), dim), np.nan, np.float32)
            for i, f in enumerate(faces):
                if f.second is not None:
                    second[i] = f.second
        must, cannot = _constraints(edits, index)
        norm = None
        if self.cohort is not None:
            self.cohort.check(faces[0].model)
            mean, spread = self.cohort.impostor_stats(vectors)
            norm = np.stack([mean, spread], axis=1)
        return ClusterInput(vectors, photo, usable, young, second, must, cannot, norm)

    def summary(self, found: list[Person], limit: int | None = None) -> dict:
        """The shared JSON shape of a clustering (CLI ``cluster --json``, API ``/v1/collection/people``):
        the people, the counts, and the models that shaped it (so licence notices can name them)."""
        faces = self.store.counts()["faces"]
        assigned = sum(len(p.faces) for p in found)
        out = {"people": [p.to_dict(limit=limit) for p in found], "faces": faces, "assigned": assigned,
               "unassigned": faces - assigned}
        if self.cohort is not None:
            out["cohort"] = {"model": self.cohort.source or "file", "faces": len(self.cohort.vectors),
                             "top_k": self.cohort.top_k}
        return out

    # -- reading -----------------------------------------------------------------------------------
    def list(self) -> list[Person]:
        assignment, names = self.store.people()
        groups: dict[int, list[str]] = {}
        for face, person in assignment.items():
            groups.setdefault(person, []).append(face)
        if not groups:
            return []
        faces = {f.id: f for f in self.store.faces(sorted(assignment))}
        out = []
        for person, members in groups.items():
            records = [faces[m] for m in members if m in faces]
            out.append(Person(person, names.get(person), tuple(f.id for f in _representative_first(records)),
                              len({f.image for f in records})))
        return sorted(out, key=lambda p: (-len(p.faces), p.id))

    def get(self, person: int) -> Person:
        for p in self.list():
            if p.id == person:
                return p
        raise NotFoundError(f"no person {person} in the collection at {self.store.url} (mien cluster lists them)")

    # -- the user's corrections ------------------------------------------------------------------------
    def merge(self, a: int, b: int) -> Person:
        if a == b:
            raise InputError(f"cannot merge person {a} with itself")
        pa, pb = self.get(a), self.get(b)
        photos_a = {f.image for f in self.store.faces(pa.faces)}
        clash = [f.path for f in self.store.faces(pb.faces) if f.image in photos_a]
        if clash:
            raise InputError(f"persons {a} and {b} both appear in {clash[0]}: two faces in one photo are two people")
        self.store.add_edit(Edit("merge", pa.faces + pb.faces, at=time.time()))
        assignment, names = self.store.people()
        for face in pb.faces:
            assignment[face] = a
        if names.get(a) is None and b in names:
            names[a] = names[b]
        names.pop(b, None)
        self.store.save_people(assignment, names)
        return self.get(a)

    def split(self, person: int, faces: Sequence[str]) -> Person:
        """Take ``faces`` out of ``person`` into a new person; they stay apart from the rest from now on."""
        p = self.get(person)
        chosen = list(dict.fromkeys(faces))
        missing = [f for f in chosen if f not in p.faces]
        if missing:
            raise InputError(f"face {missing[0]} is not one of person {person}'s faces")
        rest = tuple(f for f in p.faces if f not in set(chosen))
        if not chosen or not rest:
            raise InputError("split needs some of the person's faces, not none and not all")
        self.store.add_edit(Edit("split", tuple(chosen), rest, at=time.time()))
        assignment, names = self.store.people()
        new_id = max(assignment.values()) + 1
        for face in chosen:
            assignment[face] = new_id
        self.store.save_people(assignment, names)
        return self.get(new_id)

    def name(self, person: int, name: str) -> Person:
        text = name.strip()
        if not text or len(text) > 200:
            raise InputError("a name must be 1 to 200 characters")
        p = self.get(person)
        self.store.add_edit(Edit("name", p.faces, name=text, at=time.time()))
        assignment, names = self.store.people()
        names[person] = text
        self.store.save_people(assignment, names)
        return self.get(person)

    # -- pictures ------------------------------------------------------------------------------------------
    def contact_sheets(self, folder: str | Path, limit: int = 30) -> list[Person]:
        from .sheets import contact_sheet

        out = []
        folder = Path(folder)
        for p in self.list():
            path = folder / f"person_{p.id:05d}.jpg"
            contact_sheet(self.store.faces(p.faces[:limit]), path, f"{p.id}" + (f" {p.name}" if p.name else ""),
                          total=len(p.faces))
            out.append(Person(p.id, p.name, p.faces, p.images, str(path)))
        return out


def _constraints(edits: Sequence[Edit], index: dict[str, int]) -> tuple[tuple, tuple]:
    """Must-link groups and cannot-link pairs from the edit log, later edits winning over earlier ones."""
    must: list[set[int]] = []
    cannot: list[tuple[set[int], set[int]]] = []
    for e in edits:
        faces = {index[f] for f in e.faces if f in index}
        if e.kind == "merge":
            cannot = [(a, b) for a, b in cannot if not (a & faces and b & faces)]
            must = [g for g in must if not g & faces] + [faces | set().union(*(g for g in must if g & faces))]
        elif e.kind == "split":
            other = {index[f] for f in e.other if f in index}
            must = [g - faces for g in must] + [faces]
            cannot.append((faces, other))
    must_t = tuple(tuple(sorted(g)) for g in must if len(g) > 1)
    cannot_t = tuple((tuple(sorted(a)), tuple(sorted(b))) for a, b in cannot if a and b)
    return must_t, cannot_t


def _stable_ids(ids: Sequence[str], labels: np.ndarray, old: dict[str, int]) -> dict[str, int]:
    """Face -> person id, each new group taking the old id it shares most faces with (greedy, largest overlap first)."""
    overlap: dict[tuple[int, int], int] = {}
    for face, label in zip(ids, labels):
        if label >= 0 and face in old:
            key = (int(label), old[face])
            overlap[key] = overlap.get(key, 0) + 1
    mapping: dict[int, int] = {}
    used: set[int] = set()
    for (label, person), _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
        if label not in mapping and person not in used:
            mapping[label] = person
            used.add(person)
    next_id = max([*old.values(), -1]) + 1
    for label in sorted({int(x) for x in labels if x >= 0}):
        if label not in mapping:
            mapping[label] = next_id
            next_id += 1
    return {face: mapping[int(label)] for face, label in zip(ids, labels) if label >= 0}


def _representative_first(records: list[FaceRecord]) -> list[FaceRecord]:
    """Faces nearest the person's mean first (ties: better quality), so a sheet opens with typical faces."""
    if not records:
        return []
    vectors = np.stack([r.vector for r in records])
    centre = vectors.mean(axis=0)
    distance = np.linalg.norm(vectors - centre, axis=1)
    order = sorted(range(len(records)), key=lambda i: (not records[i].quality.passed, round(float(distance[i]), 6),
                                                       records[i].id))
    return [records[i] for i in order]
