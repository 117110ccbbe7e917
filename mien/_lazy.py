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


def lazy_exports(package: str, table: Mapping[str, str], namespace: dict[str, Any]) -> tuple[Any, Any]:
    """A package's ``__getattr__`` and ``__dir__`` for names that import on first use.

    ``table`` maps each name to the module that defines it: absolute ("mien.errors") or a
    submodule of ``package`` ("photo"). The value is kept in ``namespace`` (the package's
    globals) so the import happens once. ``__dir__`` lists the package's ``__all__``."""
    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path = module if module.startswith("mien.") else f"{package}.{module}"
        value = getattr(import_module(path), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(namespace["__all__"])

    return __getattr__, __dir__
