"""The FastAPI application: state shared by requests, limits, error handling, metrics, routes, the web page."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._version import __version__
from ..errors import MienError, TooLargeError
from .config import ServeConfig
from .engine import Engine
from .errors import body, headers_of, message_of, status_of
from .jobs import Jobs
from .keys import KeyStore
from .metrics import Metrics
from .schemas import ErrorBody
from .work import RateLimiter, WorkQueue

WEB = Path(__file__).parent / "web"
log = logging.getLogger("mien.serve")

# Every route may answer with these; the OpenAPI document lists them with the error schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (400, "Bad input: unreadable image, bad parameter"), (401, "No API key, or an unknown or revoked one"),
        (403, "The key lacks the scope, or consent was withdrawn"), (404, "Not found in this key's gallery"),
        (413, "Body or image over the limit"), (422, "No face, several faces, failed quality, invalid form"),
        (429, "Over this key's rate (Retry-After)"), (503, "Busy or a store is down (Retry-After)"))}


@dataclass
class State:
    config: ServeConfig
    keys: KeyStore
    engine: Engine
    work: WorkQueue
    limiter: RateLimiter
    metrics: Metrics
    jobs: Jobs


def create_app(config: ServeConfig | None = None) -> FastAPI:
    config = config or ServeConfig()
    metrics = Metrics()
    work = WorkQueue(config.workers, config.queue, config.timeout_s)
    state = State(config, KeyStore(config.home), Engine(config.store, config.gallery_key, metrics.loaded), work,
                  RateLimiter(config.rate, config.burst), metrics,
                  Jobs(config.home / "jobs", work.submit, config.jobs_kept,
                       lambda counts: [metrics.jobs.labels(k).set(v) for k, v in counts.items()]))
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        work.close()
        state.engine.close()
        state.keys.close()

    app = FastAPI(title="mien", version=__version__, responses=ERROR_RESPONSES, lifespan=lifespan,
                  description="Face detection, analysis, recognition, a gallery of people, anonymisation and generation, "
                              "offline. Every /v1 route needs an API key: `Authorization: Bearer mien_...`. Errors are "
                              "JSON: `{\"error\": {\"code\", \"message\", \"status\"}}`.")
    app.state.mien = state
    # added first, so it runs inside the metrics middleware and its 413s are counted
    app.add_middleware(BodyLimit, image_cap=config.max_body_bytes, video_cap=config.max_video_bytes)
    _limits_and_metrics(app, state)
    _error_handlers(app)
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type", "X-API-Key"])

    from .routes import faces, gallery, media, service

    for module in (service, faces, gallery, media):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB / "index.html", headers={"Cache-Control": "no-cache"})

    return app


def _limits_and_metrics(app: FastAPI, state: State) -> None:
    @app.middleware("http")
    async def measure(request: Request, call_next):
        start = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:  # never a bare 500 page, never the request's content in the log
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            response = JSONResponse(body(500, "internal", "internal error (logged)"), status_code=500)
        route = request.scope.get("route")
        name = getattr(route, "path", None) or "unmatched"
        state.metrics.requests.labels(name, request.method, str(response.status_code)).inc()
        state.metrics.latency.labels(name).observe(time.perf_counter() - start)
        state.metrics.queue.set(state.work.length)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if name in ("/", "/static"):
            response.headers.setdefault("Content-Security-Policy",
                                        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:")
        return response


class BodyLimit:
    """A body over the cap gets 413: at once when its Content-Length says so, else when the bytes counted
    as they arrive (chunked uploads name no length) pass it."""

    def __init__(self, app: Any, image_cap: int, video_cap: int) -> None:
        self.app, self.image_cap, self.video_cap = app, image_cap, video_cap

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap = self.video_cap if scope["path"].startswith("/v1/jobs/") else self.image_cap
        declared = dict(scope.get("headers", ())).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > cap:  # refused before a byte of the body is read
            return await _error_response(TooLargeError(
                f"the request body is {int(declared)} bytes; the limit is {cap}"))(scope, receive, send)
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > cap:
                raise TooLargeError(f"the request body is over the limit of {cap} bytes")
            return message

        try:
            await self.app(scope, counted, send)
        except TooLargeError as exc:
            await _error_response(exc)(scope, receive, send)


def _error_response(exc: BaseException, uploads: dict[str, str] | None = None) -> JSONResponse:
    status, code = status_of(exc)
    return JSONResponse(body(status, code, message_of(exc, uploads)), status_code=status, headers=headers_of(exc))


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MienError)
    async def mien_error(request: Request, exc: MienError) -> JSONResponse:
        return _error_response(exc, getattr(request.state, "uploads", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return JSONResponse(body(422, "invalid_request", problems or "invalid request"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(body(exc.status_code, code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
