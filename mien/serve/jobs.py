"""Asynchronous jobs (video anonymisation): queued, run on the service's workers, progress, a result file.

A job belongs to the key that made it (and that key's gallery's admins); nobody else sees
it. Finished jobs are kept, oldest dropped first past ``kept``; their files with them.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import MienError, NotFoundError
from .errors import status_of
from .keys import ApiKey


@dataclass
class Job:
    id: str
    kind: str
    owner: str  # key id
    gallery: str
    folder: Path
    state: str = "queued"
    progress: float = 0.0
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    output: Path | None = None
    created: float = field(default_factory=time.time)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.id, "kind": self.kind, "state": self.state, "progress": round(self.progress, 4),
                "result": self.result, "error": self.error}

    def update(self, **fields: Any) -> None:
        with self.changed:
            for k, v in fields.items():
                setattr(self, k, v)
            self.changed.notify_all()

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


class Jobs:
    def __init__(self, root: Path, submit: Callable[..., Any], kept: int, on_change: Callable[[dict], None]) -> None:
        self.root = root
        self._submit = submit
        self._kept = kept
        self._on_change = on_change
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        shutil.rmtree(root, ignore_errors=True)  # files of a previous process's jobs: their records are gone
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def folder(self) -> tuple[str, Path]:
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        return job_id, folder

    def start(self, job_id: str, folder: Path, kind: str, key: ApiKey,
              work: Callable[[Callable[[float], None]], tuple[dict[str, Any], Path]]) -> Job:
        """Queue ``work(report_progress) -> (result, output file)``."""
        job = Job(job_id, kind, key.id, key.gallery, folder)
        with self._lock:
            self._jobs[job.id] = job
            self._drop_old()
        self._counts()

        def run() -> None:
            job.update(state="running")
            self._counts()
            try:
                result, output = work(lambda p: job.update(progress=min(1.0, max(job.progress, p))))
            except MienError as exc:
                status, code = status_of(exc)
                job.update(state="failed", error={"code": code, "message": str(exc), "status": status})
            except Exception as exc:  # a bug: say so in the job, not only in the log
                job.update(state="failed", error={"code": "internal", "message": f"{type(exc).__name__}: {exc}",
                                                  "status": 500})
            else:
                job.update(state="done", progress=1.0, result=result, output=output)
            self._counts()

        self._submit(run)
        return job

    def get(self, job_id: str, key: ApiKey) -> Job:
        job = self._jobs.get(job_id)
        # another key's job reads as missing: its existence is not this caller's business
        if job is None or not (job.owner == key.id or (key.allows("admin") and job.gallery == key.gallery)):
            raise NotFoundError(f"no job {job_id!r}")
        return job

    def _drop_old(self) -> None:
        done = sorted((j for j in self._jobs.values() if j.finished), key=lambda j: j.created)
        for job in done[:max(0, len(done) - self._kept)]:
            del self._jobs[job.id]
            shutil.rmtree(job.folder, ignore_errors=True)

    def _counts(self) -> None:
        counts = {"queued": 0, "running": 0, "done": 0, "failed": 0}
        for job in list(self._jobs.values()):
            counts[job.state] += 1
        self._on_change(counts)
