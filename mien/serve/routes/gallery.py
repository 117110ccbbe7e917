"""/v1/gallery/...: the calling key's gallery (its tenant): enrol, identify, verify, list, remove, export, journal.

Every call is journalled by the gallery with the key's id as the actor, never the key.
"""

from __future__ import annotations

import time
from typing import Optional

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile

from ...errors import InputError
from ...gallery.gallery import MAX_COUNT
from ..auth import requires
from ..keys import ApiKey
from ..schemas import AccessDecision, Enrolment, ErasureReceipt, Export, Identification, Identifications, IdentityList, Journal
from ...models.notices import with_notices
from .common import ResultRoute, on_image, read_image, state

router = APIRouter(prefix="/v1/gallery", tags=["gallery"], route_class=ResultRoute)


def _gallery(request: Request, key: ApiKey):
    return state(request).engine.gallery(key.gallery, f"api-key:{key.id}")


@router.post("/enrol", response_model=Enrolment, summary="Enrol a person from one or more photos")
async def enrol(request: Request, name: str = Form(..., min_length=1, max_length=200),
                images: list[UploadFile] = File(...), consent: Optional[str] = Form(None),
                expires: Optional[str] = Form(None), force: bool = Form(False), largest: bool = Form(False),
                key: ApiKey = Depends(requires("enrol"))) -> dict:
    from ...gallery import Consent
    from ...gallery.types import parse_time

    if expires and not consent:
        raise InputError("expires needs consent (the purpose consent was given for)")
    record = Consent(consent, time.time(), parse_time(expires)) if consent else None
    pixels = [(await read_image(request, upload))[0] for upload in images]
    gallery = _gallery(request, key)
    result = await state(request).work.run(gallery.enrol, name, pixels, None, record, force=force, largest=largest)
    return with_notices(result.to_dict())


@router.post("/identify", response_model=Identification | Identifications,
             summary="Who is this? Top-k candidates and a decision at a target FPIR for this gallery's size")
async def identify(request: Request, image: UploadFile = File(...), top: int = Form(5, ge=1, le=100),
                   fpir: float = Form(1e-3, gt=0, lt=1), all_faces: bool = Form(False), largest: bool = Form(False),
                   key: ApiKey = Depends(requires("identify"))) -> dict:
    def run(pixels):  # the gallery is opened after the photo decoded: a bad upload touches no store
        gallery = _gallery(request, key)
        if all_faces:
            return {"faces": [r.to_dict() for r in gallery.identify_faces(pixels, top, fpir)]}
        return gallery.identify(pixels, top, fpir, largest=largest).to_dict()

    return with_notices(await on_image(request, image, run))


@router.post("/verify", response_model=AccessDecision,
             summary="Grant or deny: is the person in the photo the enrolled one? With the reasons")
async def verify(request: Request, name: str = Form(..., min_length=1), image: UploadFile = File(...),
                 fmr: float = Form(1e-3, gt=0, lt=1), liveness: bool = Form(False), require_quality: bool = Form(False),
                 largest: bool = Form(False), key: ApiKey = Depends(requires("identify"))) -> dict:
    pixels, _ = await read_image(request, image)
    gallery = _gallery(request, key)
    decision = await state(request).work.run(gallery.verify, name, pixels, fmr, liveness=liveness,
                                             require_quality=require_quality, largest=largest)
    return with_notices(decision.to_dict())


@router.get("/identities", response_model=IdentityList, summary="The people in this gallery")
async def identities(request: Request, offset: int = Query(0, ge=0, le=MAX_COUNT), limit: Optional[int] = Query(None, ge=1, le=10000),
                     key: ApiKey = Depends(requires("identify"))) -> dict:
    gallery = _gallery(request, key)

    def run() -> dict:
        return {"gallery": gallery.describe(), "identities": [r.to_dict() for r in gallery.list(offset, limit)]}

    return await state(request).work.run(run)


@router.delete("/identities/{name}", response_model=ErasureReceipt,
               summary="Erase a person: templates, crops and index entries, physically; returns the receipt")
async def remove(request: Request, name: str, key: ApiKey = Depends(requires("enrol"))) -> dict:
    gallery = _gallery(request, key)
    receipt = await state(request).work.run(gallery.remove, name, "erasure requested through the API")
    return receipt.to_dict()


@router.get("/identities/{name}/export", response_model=Export,
            summary="Subject-access export: everything held about one person")
async def export(request: Request, name: str, key: ApiKey = Depends(requires("admin"))) -> dict:
    gallery = _gallery(request, key)
    return await state(request).work.run(gallery.export, name)


@router.get("/journal", response_model=Journal, summary="The gallery's hash-chained journal, verified")
async def journal(request: Request, since: int = Query(0, ge=0, le=MAX_COUNT), key: ApiKey = Depends(requires("admin"))) -> dict:
    gallery = _gallery(request, key)

    def run() -> dict:
        return {"entries": [e.to_dict() for e in gallery.journal(since)], "verified": gallery.verify_journal().to_dict()}

    return await state(request).work.run(run)
