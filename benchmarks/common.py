"""Shared benchmark plumbing: where the data is, machine and commit metadata, output tables."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    return Path(os.environ.get("MIEN_DATA") or REPO.parent / "shared" / "data")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def header() -> dict[str, Any]:
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit(), "machine": machine()}


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_outputs(name: str, result: dict[str, Any], table: str, out_dir: Path | None = None) -> None:
    """Print JSON and the table; also write both under docs/benchmarks/."""
    out_dir = out_dir or REPO / "docs" / "benchmarks"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(result, indent=2))
    meta = result.get("meta", {})
    md = (
        f"# {name} benchmark\n\n{table}\n\n"
        f"Machine: {meta.get('machine', {}).get('cpu')} ({meta.get('machine', {}).get('cores')} cores), "
        f"commit {meta.get('commit')}, {meta.get('date')}.\n"
    )
    (out_dir / f"{name}.md").write_text(md)
    print(json.dumps(result, indent=2))
    print()
    print(table)
