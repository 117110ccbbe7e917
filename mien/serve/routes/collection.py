"""/v1/collection/...: the calling key's photo collection (its tenant): search by face, the people
found in it, and the user's corrections (merge, split, name), kept across reruns.

Indexing a folder is a server-side batch job (``mien index``, locally or on Ray), not an upload
route: the service reads the store that job writes.
"""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from ..auth import requires
from ..keys import ApiKey
from ...models.notices import with_notices
from ..schemas import ClusterRequest, CollectionInfo, CollectionSearch, PeopleList, PersonPhotos, PersonSummary
from .common import ResultRoute, on_image, state

router = APIRouter(prefix="/v1/collection", tags=["collection"], route_class=ResultRoute)


def _store(request: Request, key: ApiKey):
    return state(request).engine.collection(key.gallery)


def _people(request: Request, key: ApiKey):
    from ...collection.people import People

    return People(_store(request, key))


@router.get("", response_model=CollectionInfo, summary="What the collection holds")
async def info(request: Request, key: ApiKey = Depends(requires("read"))) -> dict:
    store = _store(request, key)

    def run() -> dict:
        assignment, _ = store.people()
        return {**store.describe(), "people": len(set(assignment.values()))}

    return await state(request).work.run(run)


@router.post("/search", response_model=CollectionSearch,
             summary="Every photo with the person in this photo, nearest first, at a stated false-match rate")
async def search(request: Request, image: UploadFile = File(...), fmr: float = Form(1e-4, gt=0, lt=1),
                 limit: int = Form(100, ge=1, le=1000), largest: bool = Form(False),
                 key: ApiKey = Depends(requires("identify"))) -> dict:
    from ...collection.search import search_face

    engine = state(request).engine

    def run(pixels):
        return search_face(_store(request, key), pixels, fmr, limit, largest=largest, embedder=engine.embedder(),
                           detector=engine.recognition_detector()).to_dict()

    return await on_image(request, image, run)


@router.get("/people", response_model=PeopleList, summary="The people found in the collection, largest first")
async def people(request: Request, limit: int = Query(100, ge=1, le=10000),
                 key: ApiKey = Depends(requires("identify"))) -> dict:
    def run() -> dict:
        people = _people(request, key)
        return people.summary(people.list(), limit=limit)

    return await state(request).work.run(run)


@router.post("/cluster", response_model=PeopleList,
             summary="Group the faces into people: new faces only, or all again with full=true (edits kept)")
async def cluster(request: Request, body: Optional[ClusterRequest] = None,
                  key: ApiKey = Depends(requires("enrol"))) -> dict:
    from ...collection.people import People, cluster_cohort

    body = body or ClusterRequest()

    def run() -> dict:
        people = People(_store(request, key), cohort=cluster_cohort(body.cohort) if body.cohort else None)
        return with_notices(people.summary(people.update(full=body.full), limit=100))

    return await state(request).work.run(run)


@router.get("/people/{person}", response_model=PersonPhotos, summary="One person: their faces and photos")
async def person(request: Request, person: int, limit: int = Query(1000, ge=1, le=100000),
                 key: ApiKey = Depends(requires("identify"))) -> dict:
    def run() -> dict:
        p = _people(request, key).get(person)
        paths = list(dict.fromkeys(f.path for f in _store(request, key).faces(p.faces)))
        return {**p.to_dict(limit), "paths": paths[:limit]}

    return await state(request).work.run(run)


@router.get("/people/{person}/sheet", response_class=Response, summary="The person's contact sheet (JPEG)",
            responses={200: {"content": {"image/jpeg": {}}, "description": "Representative faces first"}})
async def sheet(request: Request, person: int, key: ApiKey = Depends(requires("identify"))) -> Response:
    def run() -> bytes:
        from ...collection.sheets import sheet_bytes

        p = _people(request, key).get(person)
        faces = _store(request, key).faces(p.faces[:30])
        return sheet_bytes(faces, f"{p.id}" + (f" {p.name}" if p.name else ""), total=len(p.faces))

    return Response(await state(request).work.run(run), media_type="image/jpeg")


@router.post("/people/{person}/merge", response_model=PersonSummary, summary="Merge person `other` into this one")
async def merge(request: Request, person: int, other: int = Body(..., embed=True),
                key: ApiKey = Depends(requires("enrol"))) -> dict:
    return (await state(request).work.run(_people(request, key).merge, person, other)).to_dict()


@router.post("/people/{person}/split", response_model=PersonSummary,
             summary="Move these faces out of the person into a new one (they stay apart from now on)")
async def split(request: Request, person: int, faces: list[str] = Body(..., embed=True, min_length=1, max_length=10000),
                key: ApiKey = Depends(requires("enrol"))) -> dict:
    return (await state(request).work.run(_people(request, key).split, person, faces)).to_dict()


@router.post("/people/{person}/name", response_model=PersonSummary, summary="Name the person (follows their faces)")
async def name(request: Request, person: int, name: str = Body(..., embed=True, min_length=1, max_length=200),
               key: ApiKey = Depends(requires("enrol"))) -> dict:
    return (await state(request).work.run(_people(request, key).name, person, name)).to_dict()
