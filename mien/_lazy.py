"""Name tables whose entries import only when used, so importing mien loads no model code."""

from __future__ import annotations

from importlib import import_module
from typing import Any, Mapping

from .errors import UnknownModelError


def resolve(table: Mapping[str, str], name: str, kind: str) -> Any:
    """Import and return the object behind ``table[name]`` ("package.module:attribute")."""
    try:
        target = table[name]
    except KeyError:
        raise UnknownModelError(name, list(table), kind=kind) from None
    module, attribute = target.split(":")
    return getattr(import_module(module), attribute)
