"""The FastAPI application: state shared by requests, limits, error handling, metrics, routes, the web page."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
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
from ..errors import MienError, ModelNotInstalledError, TooLargeError
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
    state = State(config, KeyStore(config.home), Engine(config.store, config.gallery_key, metrics.loaded, config.collection), work,
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
    # added first, so it runs inside Measure and its 413s are counted
    app.add_middleware(BodyLimit, image_cap=config.max_body_bytes, video_cap=config.max_video_bytes)
    app.add_middleware(Measure, state=state)
    _error_handlers(app)
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type", "X-API-Key"])

    from .routes import collection, edit, face3d, faces, gallery, media, service

    for module in (service, faces, gallery, media, edit, face3d, collection):
        app.include_router(module.router)
    @app.get("/static/vendor/three/{path:path}", include_in_schema=False)
    def vendor(path: str) -> FileResponse:
        """three.js files for the avatar viewer, from the model store (verified), never a CDN."""
        from ..models import store
        from ..models.catalog.web import PULL_COMMAND, WEB_FILES

        if path not in WEB_FILES:
            raise StarletteHTTPException(404, f"no vendor file {path!r}")
        if not store.is_installed(WEB_FILES[path]):
            missing = [name for name in WEB_FILES.values() if not store.is_installed(name)]
            raise ModelNotInstalledError(WEB_FILES[path], store.model_dir(WEB_FILES[path]),
                                         f"three.js for the 3D viewer is not installed ({', '.join(missing)}): "
                                         f"run `{PULL_COMMAND}`")
        media = "text/javascript" if path.endswith(".js") else "text/plain"
        return FileResponse(store.model_path(WEB_FILES[path]), media_type=media, headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB / "index.html", headers={"Cache-Control": "no-cache"})

    return app


SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))


def _page_policy() -> bytes:
    """The page's CSP: its own files only; scripts also the one inline import map (by its hash), and blob:
    for the glb and its texture that the 3D viewer loads (connect-src, img-src)."""
    found = re.search(r'<script type="importmap">(.*?)</script>', (WEB / "index.html").read_text(), re.S)
    maps = f" 'sha256-{base64.b64encode(hashlib.sha256(found.group(1).encode()).digest()).decode()}'" if found else ""
    return (f"default-src 'self'; script-src 'self'{maps}; connect-src 'self' blob:; img-src 'self' data: blob:; "
            "media-src 'self' blob:").encode()


PAGE_POLICY = (b"content-security-policy", _page_policy())


class Measure:
    """Counts and times every request by route and status, sets the security headers, and turns an
    unhandled error into a JSON 500 (never a bare page, never the request's content in the log).

    Plain ASGI rather than ``@app.middleware("http")``: that wrapper runs each request through an
    extra task and body stream, a measurable share of a detect call's time (docs/serve.md)."""

    def __init__(self, app: Any, state: State) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_headers(message: dict) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                route = getattr(scope.get("route"), "path", None)
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [h for h in (*SECURITY_HEADERS, *((PAGE_POLICY,) if route in ("/", "/static") else ()))
                         if h[0] not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await JSONResponse(body(500, "internal", "internal error (logged)"), status_code=500)(
                    scope, receive, send_with_headers)
        finally:
            name = getattr(scope.get("route"), "path", None) or "unmatched"
            metrics = self.state.metrics
            metrics.requests.labels(name, scope.get("method", ""), str(status)).inc()
            metrics.latency.labels(name).observe(time.perf_counter() - start)
            metrics.queue.set(self.state.work.length)


class BodyLimit:
    """A body over the cap gets 413: at once when its Content-Length says so, else when the bytes counted
    as they arrive (chunked uploads name no length) pass it."""

    def __init__(self, app: Any, image_cap: int, video_cap: int) -> None:
        self.app, self.image_cap, self.video_cap = app, image_cap, video_cap

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # video uploads go to the job routes (/v1/jobs/..., /v1/edit/jobs/...)
        cap = self.video_cap if "/jobs/" in scope["path"] else self.image_cap
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
