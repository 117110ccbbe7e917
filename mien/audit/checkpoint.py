"""An append-only log of predicted rows, so that a long audit killed half-way resumes where it stopped.

One JSON object per line: first the run's configuration, then one entry per input row in
order, ``{"key": <image>, "row": {...}}`` or ``{"key": <image>, "error": "..."}``. Each line is
flushed as it is written; a kill can leave at most one torn last line, which resuming drops.
A log written with another configuration (other tasks, models or minimum probability) or for
other rows is not resumed but started again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..atomic import write_atomic
from ..errors import StorageError


class RowLog:
    def __init__(self, path: str | os.PathLike, config: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.config = json.loads(json.dumps(dict(config)))  # as it reads back
        self._fh = None

    def resume(self, keys: Sequence[str]) -> list[dict[str, Any]]:
        """The entries already logged for a prefix of ``keys`` (in order); the log is rewritten
        to hold exactly those, then opened for appending."""
        entries = self._read(keys)
        lines = [json.dumps({"config": self.config})] + [json.dumps(e) for e in entries]
        try:
            write_atomic(self.path, ("\n".join(lines) + "\n").encode())
            self._fh = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise StorageError(f"cannot write the prediction log {self.path}: {exc}") from exc
        return entries

    def append(self, entry: Mapping[str, Any]) -> None:
        if self._fh is None:
            raise StorageError("RowLog.append before resume")
        try:
            self._fh.write(json.dumps(dict(entry)) + "\n")
            self._fh.flush()
        except OSError as exc:
            raise StorageError(f"cannot write the prediction log {self.path}: {exc}") from exc

    def close(self, remove: bool = False) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if remove:
            self.path.unlink(missing_ok=True)

    def _read(self, keys: Sequence[str]) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        entries: list[dict[str, Any]] = []
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh):
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:
                    break  # the torn last line of a kill
                if n == 0:
                    if item.get("config") != self.config:
                        return []
                    continue
                if len(entries) >= len(keys) or item.get("key") != keys[len(entries)]:
                    break
                entries.append(item)
        return entries
