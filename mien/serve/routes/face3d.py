"""/v1/measure, /v1/simulate, /v1/avatar: the face in 3D (``mien.face3d``), the CLI's JSON.

Wire with ``app.include_router(face3d.router)``; every route needs the "read" scope.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Optional

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from ..auth import requires
from ...models.notices import with_notices
from .common import ResultRoute, read_image, state

router = APIRouter(prefix="/v1", tags=["face3d"], dependencies=[Depends(requires("read"))], route_class=ResultRoute)


def _lifter(request: Request):
    from ...face3d.capture import FaceLifter

    return FaceLifter(detector=state(request).engine.recognition_detector())


@router.post("/measure", summary="Facial measurements with uncertainty, pose, scale and quality (research, not diagnosis)")
async def measure(request: Request, image: UploadFile = File(...), largest: bool = Form(False),
                  ipd_mm: Optional[float] = Form(None)) -> dict:
    from ...face3d.capture import FaceLifter
    from ...face3d.measures import Measurer

    pixels, name = await read_image(request, image)
    lifter = _lifter(request)

    def run() -> dict:
        measurer = Measurer(FaceLifter(detector=lifter.detector, ipd_mm=ipd_mm))
        return measurer.measure(pixels, largest=largest, source=name).to_dict()

    return with_notices(await state(request).work.run(run))


@router.post("/simulate", summary="What-if simulation of a facial change; a watermarked PNG with a provenance record")
async def simulate(request: Request, image: UploadFile = File(...), nose_width: float = Form(0.0),
                   mouth_width: float = Form(0.0), lips: float = Form(0.0), chin: float = Form(0.0),
                   side_by_side: bool = Form(False), largest: bool = Form(False)) -> dict:
    from ...face3d.simulate import Changes
    from ...face3d.simulate import simulate as run_simulation
    from ...provenance import save_with_record

    changes = Changes(nose_width=nose_width, mouth_width=mouth_width, lips=lips, chin=chin)  # refused before decoding
    pixels, name = await read_image(request, image)
    lifter = _lifter(request)

    def run() -> dict:
        result = run_simulation(pixels, changes, lifter=lifter, largest=largest, source=name)
        out = result.side_by_side() if side_by_side else result.image
        with tempfile.TemporaryDirectory(prefix="mien-sim-") as tmp:
            path = save_with_record(out, Path(tmp) / "simulated.png", result.record(side_by_side))
            data = base64.b64encode(path.read_bytes()).decode()
        return {"report": result.to_dict(), "image": f"data:image/png;base64,{data}"}

    return with_notices(await state(request).work.run(run))


@router.post("/avatar", summary="A textured 3D face as glTF 2.0 binary (model/gltf-binary)",
             response_class=Response, responses={200: {"content": {"model/gltf-binary": {}}}})
async def avatar(request: Request, image: UploadFile = File(...), largest: bool = Form(False),
                 texture_size: int = Form(512)) -> Response:
    from ...face3d.avatar import build_avatar

    pixels, name = await read_image(request, image)
    lifter = _lifter(request)

    def run() -> bytes:
        return build_avatar(pixels, lifter=lifter, largest=largest, source=name, texture_size=texture_size).glb()

    body = await state(request).work.run(run)
    stem = Path(name).stem or "face"
    return Response(body, media_type="model/gltf-binary",
                    headers={"Content-Disposition": f'attachment; filename="{stem}.glb"'})
