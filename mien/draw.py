"""Annotate images: boxes, scores, landmarks and labels, scaled to the image size."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from .types import Faces

# Colours (RGB) for the 5 landmarks: eyes, nose, mouth corners.
_LANDMARK_COLOURS = [(255, 64, 64), (64, 128, 255), (64, 220, 64), (255, 160, 0), (200, 64, 255)]
_BOX = (0, 230, 118)


def _label_place(box: np.ndarray, w: int, h: int, width: int, height: int,
                 taken: Sequence[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """Where a w x h label of ``box`` goes: above the box, else below it, else further up, inside
    the image and clear of the labels already ``taken`` where it can be (crowded photos)."""
    x1, y1, _, y2 = (int(round(v)) for v in box)
    left = int(np.clip(x1, 0, max(0, width - w)))

    def free(top: int) -> bool:
        return all(left >= r or left + w <= lft or top >= b or top + h <= t for lft, t, r, b in taken)

    tops = [y1 - h, y2 + 1] + [y1 - h - k * h for k in range(1, 6)]
    tops = [int(np.clip(t, 0, max(0, height - h))) for t in tops]
    top = next((t for t in tops if free(t)), tops[0])
    return left, top, left + w, top + h


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
    placed: list[tuple[int, int, int, int]] = []
    for i in range(len(faces)):
        x1, y1, x2, y2 = (int(round(v)) for v in faces.boxes[i])
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick, cv2.LINE_AA)
        if faces.landmarks is not None:
            radius = max(2, int(round((x2 - x1) / 40)))
            for j, (x, y) in enumerate(faces.landmarks[i]):
                cv2.circle(out, (int(round(x)), int(round(y))), radius, _LANDMARK_COLOURS[j % 5], -1, cv2.LINE_AA)
    for i in range(len(faces)):  # labels last, so that no box or landmark covers one
        text = labels[i] if labels is not None else (f"{faces.scores[i]:.2f}" if show_scores else "")
        if not text:
            continue
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thick)
        rect = _label_place(faces.boxes[i], tw + 4, th + base + 2, out.shape[1], out.shape[0], placed)
        placed.append(rect)
        left, top, right, bottom = rect
        cv2.rectangle(out, (left, top), (right, bottom), colour, -1)
        cv2.putText(out, text, (left + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thick, cv2.LINE_AA)
    return out
