"""Run mien's attribute models over a labelled image list, for audits and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..attributes import get_attribute_model, withholding
from ..detect import Detector, get_detector
from ..errors import ImageError
from ..image import load_image
from ..types import Faces
from .checkpoint import RowLog


def face_or_frame(detector: Detector, image: np.ndarray) -> tuple[Faces, bool]:
    """The largest detected face, or the whole frame as the box when none is found
    (for sets of face crops such as UTKFace); the flag says whether one was detected."""
    faces = detector.detect(image)
    if len(faces):
        return faces.largest(), True
    h, w = image.shape[:2]
    return Faces(np.array([[0, 0, w - 1, h - 1]], np.float32), np.zeros(1, np.float32)), False


def predict_rows(rows: Sequence[dict[str, Any]], tasks: Iterable[str], image_column: str, root: str | Path,
                 detector: str | Detector = "centerface",
                 progress: Callable[[Iterable], Iterable] = lambda x: x,
                 min_probability: Mapping[str, float] | None = None,
                 unreadable: list[tuple[str, str]] | None = None,
                 checkpoint: str | Path | None = None) -> list[dict[str, Any]]:
    """New rows with ``pred_<task>`` and ``prob_<task>`` for each task, plus ``detected`` (and
    ``low_<task>`` / ``high_<task>`` where the model gives a calibrated range).

    ``min_probability`` (per task) withholds low-probability classes as ``ABSTAIN``. A row
    whose image cannot be read raises ``ImageError``, unless ``unreadable`` is a list: then
    the row is left out and ``(path, reason)`` appended, so one bad file in a long audit
    does not end it. ``checkpoint``: a file logging every row as it is predicted
    (``RowLog``); a run killed half-way and started again with the same file, rows and
    settings predicts only the rows not yet logged. It is removed when all rows are done.
    """
    det = detector if isinstance(detector, Detector) else get_detector(detector)
    tasks = list(tasks)
    models = dict(zip(tasks, withholding([get_attribute_model(t) for t in tasks], min_probability or {})))
    root = Path(root)
    out: list[dict[str, Any]] = []
    log, done = None, []
    if checkpoint is not None:
        config = {"tasks": tasks, "models": [m.model for m in models.values()], "detector": det.name,
                  "min_probability": dict(min_probability or {}), "image_column": image_column, "root": str(root)}
        log = RowLog(checkpoint, config)
        done = log.resume([str(r[image_column]) for r in rows])
        for entry in done:
            if "error" in entry:
                if unreadable is None:
                    raise ImageError(entry["error"])
                unreadable.append((entry["key"], entry["error"]))
            else:
                out.append(entry["row"])
    finished = False
    try:
        for row in progress(rows[len(done):]):
            key = str(row[image_column])
            try:
                image = load_image(root / row[image_column])
            except ImageError as exc:
                if unreadable is None:
                    raise
                unreadable.append((key, str(exc)))
                if log is not None:
                    log.append({"key": key, "error": str(exc)})
                continue
            face, found = face_or_frame(det, image)
            new = {**row, "detected": int(found)}
            for task, model in models.items():
                p = model.predict(image, face)[0]
                new[f"pred_{task}"] = round(p.value, 2) if isinstance(p.value, float) else p.value
                new[f"prob_{task}"] = round(p.probability, 4)
                if p.interval is not None:
                    new[f"low_{task}"], new[f"high_{task}"] = (round(v, 2) for v in p.interval)
            out.append(new)
            if log is not None:
                log.append({"key": key, "row": new})
        finished = True
    finally:  # interrupted: the log stays, to resume from
        if log is not None:
            log.close(remove=finished)
    return out
