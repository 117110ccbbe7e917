"""Annotate images: boxes, scores, landmarks and labels, scaled to the image size."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from .types import Faces

# Colours (RGB) for the 5 landmarks: eyes, nose, mouth corners.
_LANDMARK_COLOURS = [(255, 64, 64), (64, 128, 255), (64, 220, 64), (255, 160, 0), (200, 64, 255)]
_BOX = (0, 230, 118)


def draw_faces(
    image: np.ndarray,
    faces: Faces,
    labels: Sequence[str] | None = None,
    colour: tuple[int, int, int] = _BOX,
    show_scores: bool = True,
) -> np.ndarray:
    """A copy of ``image`` with each face's box, score (or label) and landmarks drawn."""
    out = np.ascontiguousarray(image.copy())
    thick = max(1, round(max(image.shape[:2]) / 500))
    font_scale = max(0.4, max(image.shape[:2]) / 1600)
    for i in range(len(faces)):
        x1, y1, x2, y2 = (int(round(v)) for v in faces.boxes[i])
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick, cv2.LINE_AA)
        text = labels[i] if labels is not None else (f"{faces.scores[i]:.2f}" if show_scores else "")
        if text:
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thick)
            top = max(0, y1 - th - base - 2)
            cv2.rectangle(out, (x1, top), (x1 + tw + 4, top + th + base + 2), colour, -1)
            cv2.putText(out, text, (x1 + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thick, cv2.LINE_AA)
        if faces.landmarks is not None:
            radius = max(2, int(round((x2 - x1) / 40)))
            for j, (x, y) in enumerate(faces.landmarks[i]):
                cv2.circle(out, (int(round(x)), int(round(y))), radius, _LANDMARK_COLOURS[j % 5], -1, cv2.LINE_AA)
    return out
