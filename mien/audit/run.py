"""Run mien's attribute models over a labelled image list, for audits and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..attributes import get_attribute_model
from ..detect import Detector, get_detector
from ..image import load_image
from ..types import Faces


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
                 progress: Callable[[Iterable], Iterable] = lambda x: x) -> list[dict[str, Any]]:
    """New rows with ``pred_<task>`` and ``prob_<task>`` for each task, plus ``detected``."""
    det = detector if isinstance(detector, Detector) else get_detector(detector)
    models = {t: get_attribute_model(t) for t in tasks}
    root = Path(root)
    out = []
    for row in progress(rows):
        image = load_image(root / row[image_column])
        face, found = face_or_frame(det, image)
        new = {**row, "detected": int(found)}
        for task, model in models.items():
            p = model.predict(image, face)[0]
            new[f"pred_{task}"] = round(p.value, 2) if isinstance(p.value, float) else p.value
            new[f"prob_{task}"] = round(p.probability, 4)
        out.append(new)
    return out
