"""Hard cuts between shots: consecutive frames that differ wholesale.

A tracker must not carry a face's identity across a cut (the next shot's face at the
same place is someone else, or the same person seen anew), so video loops ask
``scene_cut`` about every frame and call ``FaceTracker.cut()`` when it says so.
"""

from __future__ import annotations

import cv2
import numpy as np

# A hard cut: the mean absolute difference of two consecutive 32x18 grey thumbnails above this.
CUT_THRESHOLD = 40.0


def scene_cut(previous: np.ndarray | None, image: np.ndarray) -> tuple[np.ndarray, bool]:
    """(this frame's thumbnail, whether it starts a new shot); pass the thumbnail back in for the next frame."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    thumb = cv2.resize(grey, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)
    cut = previous is not None and float(np.abs(thumb - previous).mean()) > CUT_THRESHOLD
    return thumb, cut
