"""Which models a result used that are not cleared for commercial use: the notice every CLI and API result carries."""

from __future__ import annotations

import re
from typing import Any

# Model ids in outputs that differ from their registry names.
_MODEL_ALIASES = {"dlib68": "dlib-shape68"}


def non_commercial_models(document: Any) -> list[dict[str, str]]:
    """Registry models named anywhere in an output ("model"/"detector" fields) that are not cleared for commercial use."""
    from .registry import list_specs

    specs = {spec.name: spec for spec in list_specs()}
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("model", "detector", "landmark_model") and isinstance(value, str):
                    names.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    notices = []
    for name in sorted(names):
        base = re.split(r"[+:]", name)[0]  # "faceres+flip" -> "faceres"
        spec = specs.get(_MODEL_ALIASES.get(base, base))
        if spec is not None and not spec.commercial:
            notices.append({"model": spec.name, "license": spec.license, "commercial_use": "no"})
    return notices


def with_notices(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``non_commercial_models`` naming such models, when it used any."""
    notices = non_commercial_models(document)
    if notices:
        document["non_commercial_models"] = notices
    return document
