"""Who is calling: the API key in ``Authorization: Bearer`` (or ``X-API-Key``), its scope and rate."""

from __future__ import annotations

import time

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from ..errors import AuthError, ScopeError
from .keys import ApiKey


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


async def caller(request: Request, scope: str) -> ApiKey:
    """The key of this request if it may use ``scope``; AuthError or ScopeError otherwise.

    On the event loop: the lookup is one indexed read of a small table, cheaper than the hop to a
    worker thread that a plain function dependency costs; the rare write goes to a thread."""
    state = request.app.state.mien
    presented = presented_key(request)
    if presented is None:
        raise AuthError("this route needs an API key: send 'Authorization: Bearer mien_...'")
    key = state.keys.authenticate(presented)
    if key is None:
        raise AuthError("the API key is unknown or revoked")
    request.state.key_id = key.id  # for the access log and metrics; never the key itself
    state.limiter.take(key.id, key.rate)
    if key.last_used is None or time.time() - key.last_used > 60:  # a write per minute, not per request
        await run_in_threadpool(state.keys.touch, key.id)
    if not key.allows(scope):
        raise ScopeError(f"key {key.display} ({key.name!r}) lacks the {scope!r} scope")
    return key


def requires(scope: str):
    """A FastAPI dependency: ``key: ApiKey = Depends(requires("identify"))``."""
    async def dependency(request: Request) -> ApiKey:
        return await caller(request, scope)

    dependency.__name__ = f"requires_{scope}"
    return dependency
