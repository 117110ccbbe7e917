"""The model list that `mien models list --json` prints and /v1/models answers: one shape for both."""

from __future__ import annotations

from typing import Any

from .registry import list_specs
from .store import is_installed


def model_rows(task: str | None = None) -> list[dict[str, Any]]:
    """Name, task, licence, whether cleared for commercial use, size, whether installed, source package."""
    return [{"name": s.name, "task": s.task, "license": s.license, "commercial": bool(s.commercial),
             "size_bytes": s.size_bytes, "installed": is_installed(s.name), "source": s.source.requirement}
            for s in list_specs(task)]
