"""Anonymisation methods by name, for the CLI, HTTP API and config files."""

from __future__ import annotations

from typing import Any

from ..errors import UnknownModelError
from .base import Method
from .blur import Blur
from .ellipse import EllipseMask
from .fill import Fill
from .pixelate import Pixelate

METHODS: dict[str, type[Method]] = {"blur": Blur, "pixelate": Pixelate, "fill": Fill, "ellipse": EllipseMask}
DEFAULT_METHOD = "blur"


def get_method(method: str | Method = DEFAULT_METHOD, **options: Any) -> Method:
    """A method instance from a name (with options) or an instance (returned as is)."""
    if isinstance(method, Method):
        return method
    try:
        cls = METHODS[method]
    except (KeyError, TypeError):
        raise UnknownModelError(str(method), list(METHODS), kind="anonymisation method") from None
    return cls(**options)
