"""The one exception tree of mien.

::

    MienError
    ├── InputError                 bad input from the caller
    │   ├── ImageError             unreadable, truncated, empty or oversized image
    │   ├── VideoError             unreadable video, or one with no video stream
    │   ├── NoFaceError            no face where one was needed
    │   ├── MultipleFacesError     several faces where one was expected
    │   ├── ShapeError             an array of the wrong shape or dtype
    │   ├── QualityError           a face that fails the enrolment quality checks (names them)
    │   ├── NotFoundError          an identity or gallery that is not in the store
    │   ├── ConsentError           an identity whose consent has expired or been withdrawn, or an edit
    │   │                          (face swap) whose caller did not state the person's consent
    │   ├── PoseError              a face turned too far for an edit (swap, glasses)
    │   ├── ColourError            a colour that does not parse (names the allowed forms)
    │   └── TooLargeError          a request body over the HTTP service's limit (413)
    ├── ModelError                 problems with model weights
    │   ├── UnknownModelError      a name that is not in the registry
    │   ├── ModelNotInstalledError weights not in the store (names the command that fixes it)
    │   ├── ModelCorruptError      weights whose SHA-256 does not match the registry
    │   ├── FetchError             a fetch failed, or was forbidden by MIEN_OFFLINE
    │   └── ConversionError        a TF.js / TFLite graph mien cannot convert
    ├── EmbeddingMismatchError     embeddings from two different models compared
    ├── StorageError               a gallery or file store problem
    │   ├── TemplateKeyError       a template key that is missing or wrong for the gallery
    │   └── StoreUnavailableError  a store server (Milvus, PostgreSQL) that cannot be reached
    └── ServiceError               refused by the HTTP service before any model ran
        ├── AuthError              no API key, or one that is unknown or revoked (401)
        ├── ScopeError             a key without the scope a route needs (403)
        ├── RateLimitError         a key over its request rate (429, Retry-After)
        └── BusyError              the work queue is full (503, Retry-After)

The CLI maps every ``MienError`` to a one-line message and a non-zero exit code;
the HTTP service maps each class to a status and a stable code (mien/serve/errors.py):
``InputError`` and ``ServiceError`` to 4xx (503 when busy), the rest to 5xx.
"""

from __future__ import annotations


class MienError(Exception):
    """Root of every error mien raises on purpose."""

    exit_code = 1


class InputError(MienError, ValueError):
    """The caller gave mien something it cannot work with."""

    exit_code = 2


class ImageError(InputError):
    """An image could not be read: missing, truncated, not an image, or too large."""


class VideoError(InputError):
    """A video could not be read or written: missing, not a video, no video stream, unknown codec."""


class NoFaceError(InputError):
    """No face was found where one was required."""

    def __init__(self, source: str, detail: str = "") -> None:
        self.source = source
        msg = f"no face found in {source}"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class MultipleFacesError(InputError):
    """Several faces were found where exactly one was expected."""

    def __init__(self, source: str, count: int, hint: str = "pass largest=True (CLI: --largest) to use the largest face") -> None:
        self.source = source
        self.count = count
        super().__init__(f"{count} faces found in {source} where one was expected; {hint}")


class ShapeError(InputError):
    """An array does not have the shape or dtype a function needs."""

    def __init__(self, name: str, expected: str, actual: object) -> None:
        self.name = name
        self.expected = expected
        self.actual = actual
        super().__init__(f"{name}: expected {expected}, got {actual}")


class QualityError(InputError):
    """A face fails the enrolment quality checks; ``failed`` names them."""

    def __init__(self, source: str, failed: tuple[str, ...], detail: str = "") -> None:
        self.source = source
        self.failed = tuple(failed)
        msg = f"{source} fails the enrolment quality checks: {detail or ', '.join(failed)}"
        super().__init__(f"{msg}; pass force=True (CLI: --force) to enrol it anyway")


class NotFoundError(InputError, LookupError):
    """An identity or gallery that is not in the store."""


class ConsentError(InputError):
    """The identity's consent has expired or been withdrawn, so it may not be used."""


class PoseError(InputError):
    """A face turned further (yaw or pitch) than an edit can handle."""

    def __init__(self, source: str, yaw: float, pitch: float, max_yaw: float, max_pitch: float) -> None:
        self.source, self.yaw, self.pitch = source, yaw, pitch
        super().__init__(f"the face in {source} is turned too far to edit (yaw {yaw:.0f}, pitch {pitch:.0f} degrees; "
                         f"allowed: |yaw| <= {max_yaw:.0f}, |pitch| <= {max_pitch:.0f})")


class ColourError(InputError):
    """A colour that does not parse; the message lists the accepted forms and names."""


class ModelError(MienError):
    """Something is wrong with a model's weights or its name."""

    exit_code = 3


class UnknownModelError(ModelError, KeyError):
    """A model name that the registry does not know."""

    def __init__(self, name: str, known: list[str], kind: str = "model") -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(sorted(known))}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ModelNotInstalledError(ModelError):
    """The weights are not in the model store."""

    def __init__(self, name: str, path: object, message: str | None = None) -> None:
        self.name = name
        super().__init__(message or f"model {name!r} is not installed (expected at {path}); run `mien models pull {name}`")


class ModelCorruptError(ModelError):
    """The weights on disk do not match the registry's SHA-256."""

    def __init__(self, name: str, path: object, expected: str, actual: str) -> None:
        self.name = name
        super().__init__(
            f"model {name!r} at {path} is corrupt (sha256 {actual[:16]}..., expected {expected[:16]}...); "
            f"run `mien models pull --force {name}`"
        )


class FetchError(ModelError):
    """A model could not be fetched, or fetching is forbidden (MIEN_OFFLINE=1)."""


class ConversionError(ModelError):
    """A TF.js or TFLite graph uses something mien's converter does not support."""


class EmbeddingMismatchError(MienError, ValueError):
    """Two embeddings made by different models were compared."""

    exit_code = 2


class GuardError(MienError):
    """mien refused to output a generated face that matches a person in the training data."""

    exit_code = 1


class StorageError(MienError):
    """A store could not be read or written."""

    exit_code = 4


class TemplateKeyError(StorageError):
    """The key that protects a gallery's templates is missing, unreadable or not the one it was made with."""


class StoreUnavailableError(StorageError):
    """A store server (Milvus, PostgreSQL) cannot be reached."""


class ServiceError(MienError):
    """The HTTP service refused a request before any model ran."""

    exit_code = 1


class AuthError(ServiceError):
    """No API key, or one that is unknown or revoked."""


class ScopeError(ServiceError):
    """The API key lacks the scope this route needs."""


class RateLimitError(ServiceError):
    """The API key is over its request rate; ``retry_after`` says when to try again (seconds)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BusyError(ServiceError):
    """Every worker is busy and the queue is full; ``retry_after`` says when to try again (seconds)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooLargeError(InputError):
    """A request body larger than the service accepts."""
