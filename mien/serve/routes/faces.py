"""/v1/detect, /v1/analyze, /v1/embed, /v1/verify: the library's single-image and pair calls."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from ..auth import requires
from ..schemas import Analysis, Detection, EmbeddingResult, Verification
from ...models.notices import with_notices
from .common import ResultRoute, on_image, read_image, state

router = APIRouter(prefix="/v1", tags=["faces"], dependencies=[Depends(requires("read"))], route_class=ResultRoute)


@router.post("/detect", response_model=Detection, summary="Faces in a photo: boxes, scores, 5 landmarks")
async def detect(request: Request, image: UploadFile = File(...)) -> dict:
    st = state(request)

    def run(pixels) -> dict:
        det = st.engine.detector()
        faces = det.detect(pixels)
        return {"detector": det.name, "width": pixels.shape[1], "height": pixels.shape[0], "faces": faces.to_list()}

    return with_notices(await on_image(request, image, run))


@router.post("/analyze", response_model=Analysis,
             summary="Landmarks, head pose, age, gender, expression; with quality checks and (experimental) liveness")
async def analyze(request: Request, image: UploadFile = File(...), quality: bool = Form(False),
                  liveness: bool = Form(False), mesh: bool = Form(False)) -> dict:
    st = state(request)

    def run(pixels) -> dict:
        analyzer = st.engine.analyzer(quality, liveness)
        result = analyzer.analyze(pixels)
        return {"detector": analyzer.detector.name, "landmark_model": analyzer.landmarks,
                **result.to_dict(mesh)}

    return with_notices(await on_image(request, image, run))


@router.post("/embed", response_model=EmbeddingResult, summary="The face embedding of the one face in a photo")
async def embed(request: Request, image: UploadFile = File(...), largest: bool = Form(False)) -> dict:
    from ...match import embed_image

    pixels, name = await read_image(request, image)
    st = state(request)

    def run() -> dict:
        vectors = embed_image(pixels, st.engine.embedder(), st.engine.recognition_detector(), largest=largest, source=name)
        out = {"model": vectors.model, "metric": vectors.metric, "dim": vectors.dim, "embedding": vectors.to_list()[0]}
        if vectors.spread is not None:
            out["spread"] = round(float(vectors.spread[0]), 6)
        return out

    return with_notices(await st.work.run(run))


@router.post("/verify", response_model=Verification,
             summary="Are the faces in two photos the same person? Calibrated threshold at a target FMR")
async def verify(request: Request, image_a: UploadFile = File(...), image_b: UploadFile = File(...),
                 fmr: float = Form(1e-3, gt=0, lt=1), largest: bool = Form(False)) -> dict:
    from ...match import verify_images

    a, _ = await read_image(request, image_a)
    b, _ = await read_image(request, image_b)
    st = state(request)

    def run() -> dict:
        return verify_images(a, b, fmr=fmr, embedder=st.engine.embedder(), detector=st.engine.recognition_detector(),
                             largest=largest).to_dict()

    return with_notices(await st.work.run(run))
