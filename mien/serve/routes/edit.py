"""/v1/edit/*: face swap, try-on, morph and mean face; the same JSON as ``mien swap|tryon|morph --json``.

Thin routes over ``mien.edit``'s file-level functions: uploads go to a temporary folder, the
library edits them and writes the result with mien's watermark and provenance record, and the
route returns the report plus the result as a data URL. Videos run as background jobs
(``/v1/jobs/{id}``). A swap needs ``consent=true`` (a form field), which the provenance
record keeps; without it the request is refused (400) before any model runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, List, Literal, Optional

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel

from ...models.notices import with_notices
from ..auth import requires
from ..keys import ApiKey
from ..schemas import Job
from .common import ResultRoute, check_size, read_bytes, state
from .media import PHOTO_SUFFIXES, VIDEO_SUFFIXES, _data_url, _suffix

router = APIRouter(prefix="/v1/edit", tags=["edit"], route_class=ResultRoute)

OUTPUT_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
Style = Literal["round", "rectangle", "aviator", "cat-eye"]


class Edited(BaseModel):
    """An edited photo (or GIF): the report ``mien ... --json`` prints, and the file as a data URL."""

    report: dict[str, Any]
    image: str


async def _save_photo(request: Request, upload: UploadFile, folder: Path, stem: str) -> Path:
    st = state(request)
    data = await read_bytes(upload, st.config.max_body_bytes)
    check_size(data, upload.filename or stem, st.config.max_pixels)  # the pixel limit, before any model runs
    path = folder / f"{stem}{_suffix(upload.filename, PHOTO_SUFFIXES - {'.bmp', '.tif', '.tiff'}, '.png')}"
    path.write_bytes(data)
    return path


def _out_suffix(upload: UploadFile) -> str:
    return _suffix(upload.filename, OUTPUT_SUFFIXES, ".png")


def _finish(report: dict[str, Any], output: Path, names: dict[str, str]) -> dict[str, Any]:
    """The report with upload names instead of temporary paths, and the output inline."""
    for key, name in names.items():
        if key in report:
            report[key] = name
    report["output"] = None
    return with_notices({"report": report, "image": _data_url(output)})


@router.post("/swap", response_model=Edited, summary="Put the face of one photo onto the face in another (needs consent)")
async def swap(request: Request, source: UploadFile = File(...), target: UploadFile = File(...),
               consent: bool = Form(False, description="The person in the source photo agreed to this use of their face"),
               largest: bool = Form(False), shape: Optional[float] = Form(None, ge=0, le=1),
               key: ApiKey = Depends(requires("read"))) -> dict:
    from ...edit import swap_file
    from ...edit.swap import require_consent

    require_consent(consent)
    st = state(request)
    with tempfile.TemporaryDirectory(prefix="mien-swap-") as tmp:
        folder = Path(tmp)
        src = await _save_photo(request, source, folder, "source")
        dst = await _save_photo(request, target, folder, "target")
        out = folder / f"swapped{_out_suffix(target)}"
        report = await st.work.run(swap_file, src, dst, out, consent=True, largest=largest, shape=shape)
        return _finish(report, out, {"source": source.filename or "source", "target": target.filename or "target"})


@router.post("/tryon", response_model=Edited, summary="Try glasses, lipstick and blush on the face in a photo")
async def tryon(request: Request, image: UploadFile = File(...), glasses: Optional[Style] = Form(None),
                glasses_png: Optional[UploadFile] = File(None, description="A transparent front-view PNG of a frame"),
                frame_colour: Optional[str] = Form(None), lipstick: Optional[str] = Form(None),
                blush: Optional[str] = Form(None), eyeliner: Optional[str] = Form(None),
                eyeshadow: Optional[str] = Form(None), foundation: Optional[str] = Form(None),
                hair_colour: Optional[str] = Form(None), strength: float = Form(0.6, gt=0, le=1),
                largest: bool = Form(False), key: ApiKey = Depends(requires("read"))) -> dict:
    from ...edit import tryon_file

    st = state(request)
    with tempfile.TemporaryDirectory(prefix="mien-tryon-") as tmp:
        folder = Path(tmp)
        src = await _save_photo(request, image, folder, "image")
        frame: Any = glasses
        if glasses_png is not None:
            frame = folder / "frame.png"
            frame.write_bytes(await read_bytes(glasses_png, st.config.max_body_bytes))
        out = folder / f"tryon{_out_suffix(image)}"
        report = await st.work.run(tryon_file, src, out, glasses=frame, lipstick=lipstick, blush=blush,
                                   strength=strength, frame_colour=frame_colour, largest=largest, eyeliner=eyeliner,
                                   eyeshadow=eyeshadow, foundation=foundation, hair=hair_colour)
        return _finish(report, out, {"image": image.filename or "image"})


@router.post("/morph", response_model=Edited, summary="An animated GIF morphing through two or more faces, or their mean")
async def morph(request: Request, images: List[UploadFile] = File(...), mean: bool = Form(False),
                frames: int = Form(24, ge=2, le=120), size: int = Form(384, ge=128, le=768),
                key: ApiKey = Depends(requires("read"))) -> dict:
    from ...edit import mean_face_files, morph_files

    st = state(request)
    with tempfile.TemporaryDirectory(prefix="mien-morph-") as tmp:
        folder = Path(tmp)
        paths = [await _save_photo(request, up, folder, f"face{i:03d}") for i, up in enumerate(images)]
        names = {str(p): up.filename or p.name for p, up in zip(paths, images)}
        if mean:
            out = folder / "mean.png"
            report = await st.work.run(mean_face_files, paths, out, size=size)
            report["used"] = [names.get(u, u) for u in report["used"]]
            for item in report["skipped"]:
                item["image"] = names.get(item["image"], item["image"])
        else:
            out = folder / "morph.gif"
            report = await st.work.run(morph_files, paths, out, frames=frames, size=size)
            report["faces"] = [names.get(f, f) for f in report["faces"]]
        return _finish(report, out, {})


@router.post("/jobs/swap-video", response_model=Job, status_code=202, tags=["jobs"],
             summary="Swap a photo's face onto a video's in the background (needs consent); follow /v1/jobs/{id}")
async def swap_video_job(request: Request, source: UploadFile = File(...), video: UploadFile = File(...),
                         consent: bool = Form(False), largest: bool = Form(False),
                         key: ApiKey = Depends(requires("read"))) -> dict:
    from ...edit import swap_video
    from ...edit.swap import require_consent

    require_consent(consent)
    st = state(request)
    job_id, folder = st.jobs.folder()
    src = await _save_photo(request, source, folder, "source")
    clip = folder / f"in{_suffix(video.filename, VIDEO_SUFFIXES, '.mp4')}"
    clip.write_bytes(await read_bytes(video, st.config.max_video_bytes, "video"))
    dst = folder / "swapped.mp4"

    def work(report):
        result = swap_video(src, clip, dst, consent=True, largest=largest)
        src.unlink(missing_ok=True)
        clip.unlink(missing_ok=True)
        result.update(video=video.filename, source=source.filename, output=None)
        return result, dst

    return st.jobs.start(job_id, folder, "swap-video", key, work).to_dict()


@router.post("/jobs/tryon-video", response_model=Job, status_code=202, tags=["jobs"],
             summary="Try glasses and make-up on a video in the background; follow /v1/jobs/{id}")
async def tryon_video_job(request: Request, video: UploadFile = File(...), glasses: Optional[Style] = Form(None),
                          frame_colour: Optional[str] = Form(None), lipstick: Optional[str] = Form(None),
                          blush: Optional[str] = Form(None), eyeliner: Optional[str] = Form(None),
                          eyeshadow: Optional[str] = Form(None), foundation: Optional[str] = Form(None),
                          hair_colour: Optional[str] = Form(None), strength: float = Form(0.6, gt=0, le=1),
                          largest: bool = Form(False), key: ApiKey = Depends(requires("read"))) -> dict:
    from ...edit import tryon_video
    from ...edit.colour import parse_colour
    from ...edit.tryon import check_request, parse_makeup

    makeup = dict(lipstick=lipstick, blush=blush, eyeliner=eyeliner, eyeshadow=eyeshadow, foundation=foundation,
                  hair=hair_colour)
    check_request(glasses, parse_makeup(**makeup), strength)  # bad colours are refused now (400), not in the job
    if frame_colour is not None:
        parse_colour(frame_colour)
    st = state(request)
    job_id, folder = st.jobs.folder()
    clip = folder / f"in{_suffix(video.filename, VIDEO_SUFFIXES, '.mp4')}"
    clip.write_bytes(await read_bytes(video, st.config.max_video_bytes, "video"))
    dst = folder / "tryon.mp4"

    def work(report):
        result = tryon_video(clip, dst, glasses=glasses, strength=strength, frame_colour=frame_colour,
                             largest=largest, **makeup)
        clip.unlink(missing_ok=True)
        result.update(video=video.filename, output=None)
        return result, dst

    return st.jobs.start(job_id, folder, "tryon-video", key, work).to_dict()
