"""/health, /metrics, /v1/whoami, /v1/models."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..._version import __version__
from ..auth import requires
from ..keys import ApiKey
from ..schemas import Health, ModelList, WhoAmI
from .common import ResultRoute, state

router = APIRouter(route_class=ResultRoute)


@router.get("/health", response_model=Health, tags=["service"], summary="Liveness of the service (no key needed)")
def health(request: Request) -> dict:
    store = state(request).engine.store_url
    if store is None:
        from ...gallery.url import default_url

        store = default_url()
    return {"status": "ok", "version": __version__, "gallery_store": store.split("?", 1)[0]}


@router.get("/metrics", tags=["service"], summary="Prometheus metrics (no key needed; the service binds loopback)",
            response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/whoami", response_model=WhoAmI, tags=["service"], summary="The calling key: name, scopes, gallery")
def whoami(key: ApiKey = Depends(requires("read"))) -> dict:
    return {"key_id": key.id, "key": key.display, "name": key.name, "scopes": list(key.scopes), "gallery": key.gallery}


@router.get("/v1/models", response_model=ModelList, tags=["service"], summary="Models, their licences and whether installed")
def models(key: ApiKey = Depends(requires("read"))) -> dict:
    from ...models.listing import model_rows

    return {"models": model_rows()}
