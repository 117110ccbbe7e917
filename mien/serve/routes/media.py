"""/v1/anonymize (a photo, at once), /v1/jobs (videos, in the background), /v1/generate, /v1/provenance/check."""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
import tempfile
from pathlib import Path
from typing import Literal, Optional

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from ...errors import InputError
from ..auth import requires
from ..errors import body
from ..keys import ApiKey
from ..schemas import AnonymizedImage, Generated, Job, ProvenanceReport
from ...models.notices import with_notices
from .common import ResultRoute, check_size, read_bytes, state

router = APIRouter(prefix="/v1", route_class=ResultRoute)

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
Method = Literal["blur", "pixelate", "fill", "ellipse"]


def _suffix(filename: str | None, allowed: set[str], default: str) -> str:
    """The upload's suffix if it is one mien writes, else ``default``: never a path from the client."""
    suffix = Path(filename or "").suffix.lower()
    return suffix if suffix in allowed else default


def _data_url(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


@router.post("/anonymize", response_model=AnonymizedImage, tags=["anonymize"],
             summary="Hide every face in a photo; the result carries mien's provenance mark")
async def anonymize(request: Request, image: UploadFile = File(...), method: Method = Form("blur"),
                    key: ApiKey = Depends(requires("read"))) -> dict:
    from ...anonymize import anonymize_file

    st = state(request)
    data = await read_bytes(image, st.config.max_body_bytes)
    name = image.filename or "upload"
    check_size(data, name, st.config.max_pixels)  # the pixel limit from the header, before any model runs
    suffix = _suffix(image.filename, PHOTO_SUFFIXES - {".bmp", ".tif", ".tiff"}, ".png")

    def run() -> dict:
        with tempfile.TemporaryDirectory(prefix="mien-anon-") as tmp:
            src, dst = Path(tmp) / f"in{suffix}", Path(tmp) / f"out{suffix}"
            src.write_bytes(data)
            report = anonymize_file(src, dst, method, st.engine.anonymize_detector()).to_dict()
            report.update(image=name, output=None)
            return {"report": report, "image": _data_url(dst)}

    return with_notices(await st.work.run(run))


@router.post("/jobs/anonymize-video", response_model=Job, status_code=202, tags=["jobs"],
             summary="Anonymise a video in the background; follow /v1/jobs/{id}, download /v1/jobs/{id}/result")
async def anonymize_video_job(request: Request, video: UploadFile = File(...), method: Method = Form("blur"),
                              key: ApiKey = Depends(requires("read"))) -> dict:
    from ...anonymize import anonymize_video
    from ...video.io import probe

    st = state(request)
    data = await read_bytes(video, st.config.max_video_bytes, "video")
    suffix = _suffix(video.filename, VIDEO_SUFFIXES, ".mp4")
    job_id, folder = st.jobs.folder()
    src, dst = folder / f"in{suffix}", folder / "anonymized.mp4"
    src.write_bytes(data)
    info = await st.work.run(probe, src)  # an unreadable video is refused now (400), not later in the job
    if info.width * info.height > st.config.max_pixels:
        raise InputError(f"{video.filename}: frames of {info.width}x{info.height} are over the pixel limit")

    def work(report):
        result = anonymize_video(src, dst, method, st.engine.video_detector(),
                                 on_frame=lambda done, total: report(done / total if total else 0.0)).to_dict()
        src.unlink(missing_ok=True)  # the original is not kept
        result.update(video=video.filename, output=None)
        return result, dst

    return st.jobs.start(job_id, folder, "anonymize-video", key, work).to_dict()


@router.get("/jobs/{job_id}", response_model=Job, tags=["jobs"], summary="A job's state, progress and result")
def job(request: Request, job_id: str, key: ApiKey = Depends(requires("read"))) -> dict:
    return state(request).jobs.get(job_id, key).to_dict()


@router.get("/jobs/{job_id}/events", tags=["jobs"], response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}},
            summary="Server-sent events: the job's state and progress as they change, until it ends")
async def job_events(request: Request, job_id: str, key: ApiKey = Depends(requires("read"))) -> StreamingResponse:
    the_job = state(request).jobs.get(job_id, key)

    def wait_change(last: tuple) -> None:
        with the_job.changed:
            the_job.changed.wait_for(lambda: (the_job.state, round(the_job.progress, 2)) != last, timeout=15)

    async def events():
        last = None
        while True:
            now = (the_job.state, round(the_job.progress, 2))
            if now != last:
                last = now
                yield f"data: {json.dumps(the_job.to_dict())}\n\n"
            else:
                yield ": keep-alive\n\n"
            if the_job.finished or await request.is_disconnected():
                return
            await asyncio.to_thread(wait_change, last)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/jobs/{job_id}/result", tags=["jobs"], response_class=FileResponse,
            responses={200: {"content": {"video/mp4": {}}}, 409: {"description": "The job has not finished"}},
            summary="The job's output file")
def job_result(request: Request, job_id: str, key: ApiKey = Depends(requires("read"))) -> FileResponse:
    the_job = state(request).jobs.get(job_id, key)
    if the_job.state != "done" or the_job.output is None or not the_job.output.exists():
        why = f": {the_job.error['message']}" if the_job.error else ""
        return JSONResponse(body(409, "not_ready", f"job {job_id} is {the_job.state}{why}"), status_code=409)
    return FileResponse(the_job.output, media_type="video/mp4", filename="anonymized.mp4")


@router.post("/generate", response_model=Generated, tags=["generate"],
             summary="New faces from mien's GAN (research licence), watermarked, each with a provenance record")
async def generate(request: Request, count: int = Form(4, ge=1, le=16), seed: Optional[int] = Form(None, ge=0, lt=2**32),
                   truncation: float = Form(1.0, ge=0.05, le=1.0), age: Optional[str] = Form(None),
                   gender: Optional[Literal["female", "male"]] = Form(None), size: int = Form(256, ge=128, le=512),
                   key: ApiKey = Depends(requires("read"))) -> dict:
    st = state(request)

    def run() -> dict:
        from ...generate.gan import MODEL, finish
        from ...generate.guard import has_guard
        from ...models.registry import get_spec
        from ...provenance import ProvenanceRecord, save_with_record

        gen = st.engine.generator()
        guard = has_guard(MODEL)
        samples = gen.sample(count, age, gender, seed, truncation, guard=guard)
        licence = get_spec(MODEL).licence_note
        params = {"age": age, "gender": gender, "seed": seed, "truncation": truncation, "size": size, "guard": guard}
        images = []
        with tempfile.TemporaryDirectory(prefix="mien-gen-") as tmp:
            for i, (img, label) in enumerate(zip(finish(samples.images, size), samples.labels())):
                record = ProvenanceRecord("generate", MODEL, params={**params, "index": i, "condition": label}, licence=licence)
                path = save_with_record(img, Path(tmp) / f"face_{i:03d}.png", record)
                images.append({"image": _data_url(path), "condition": label, "provenance": record.to_dict()})
        return {"model": MODEL, "license": licence, "images": images}

    return with_notices(await st.work.run(run))


@router.post("/provenance/check", response_model=ProvenanceReport, tags=["provenance"],
             summary="Read mien's invisible watermark and metadata record in an image")
async def provenance_check(request: Request, image: UploadFile = File(...), key: ApiKey = Depends(requires("read"))) -> dict:
    from ...provenance import check

    st = state(request)
    data = await read_bytes(image, st.config.max_body_bytes)
    check_size(data, image.filename or "upload", st.config.max_pixels)
    suffix = _suffix(image.filename, PHOTO_SUFFIXES | {".gif"}, ".png")

    def run() -> dict:
        with tempfile.TemporaryDirectory(prefix="mien-prov-") as tmp:
            path = Path(tmp) / f"in{suffix}"
            path.write_bytes(data)
            report = check(path).to_dict()
        report["image"] = image.filename
        return report

    return await st.work.run(run)
