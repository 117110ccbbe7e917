"""mien's error tree as HTTP: a status and a stable code per class, one JSON body shape.

    {"error": {"code": "no_face", "message": "no face found in upload.jpg", "status": 422}}

The most specific class wins (the table is walked along the exception's MRO), so a new
subclass inherits its parent's status until it is given its own row.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from .. import errors as E

# class -> (status, code)
STATUS: dict[type, tuple[int, str]] = {
    E.AuthError: (401, "unauthorized"),
    E.ScopeError: (403, "forbidden"),
    E.RateLimitError: (429, "rate_limited"),
    E.BusyError: (503, "busy"),
    E.ServiceError: (400, "bad_request"),
    E.TooLargeError: (413, "payload_too_large"),
    E.ImageError: (400, "bad_image"),
    E.VideoError: (400, "bad_video"),
    E.NoFaceError: (422, "no_face"),
    E.MultipleFacesError: (422, "multiple_faces"),
    E.ShapeError: (400, "bad_shape"),
    E.QualityError: (422, "quality"),
    E.NotFoundError: (404, "not_found"),
    E.ConsentError: (403, "consent"),
    E.InputError: (400, "bad_request"),
    E.EmbeddingMismatchError: (409, "embedding_mismatch"),
    E.UnknownModelError: (400, "unknown_model"),
    E.ModelNotInstalledError: (503, "model_not_installed"),
    E.ModelError: (500, "model"),
    E.GuardError: (500, "guard"),
    E.TemplateKeyError: (500, "template_key"),
    E.StoreUnavailableError: (503, "store_unavailable"),
    E.StorageError: (503, "storage"),
    E.MienError: (500, "internal"),
}


def status_of(exc: BaseException) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500, "internal"


def message_of(exc: BaseException, uploads: Mapping[str, str] | None = None) -> str:
    """The library's message in the API's words: an upload's file name instead of the array it was decoded
    into, and the form field instead of the Python argument and CLI flag that a hint names."""
    message = str(exc)
    for described, name in (uploads or {}).items():
        message = message.replace(described, name)
    return _HINT.sub(lambda m: f"set the form field {m.group(1)}=true", message)


_HINT = re.compile(r"pass (\w+)=True \(CLI: [^)]*\)")


def body(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, **extra}}


def headers_of(exc: BaseException) -> dict[str, str]:
    retry = getattr(exc, "retry_after", None)
    return {} if retry is None else {"Retry-After": str(max(1, round(retry)))}
