"""Label placement on annotated images (no weights)."""

from __future__ import annotations

import numpy as np

from mien.draw import _label_place, draw_faces
from mien.types import Faces


def test_labels_stay_inside_the_image_and_clear_of_each_other():
    # two faces side by side near the top-right corner: the long labels would overlap and overflow
    boxes = np.array([[300, 5, 360, 70], [370, 8, 395, 60]], np.float32)
    taken: list = []
    for box in boxes:
        rect = _label_place(box, 150, 20, 400, 300, taken)
        left, top, right, bottom = rect
        assert 0 <= left and right <= 400 and 0 <= top and bottom <= 300
        assert all(right <= lft or left >= r or bottom <= t or top >= b for lft, t, r, b in taken)
        taken.append(rect)


def test_draw_faces_writes_labels_within_the_frame():
    image = np.full((120, 200, 3), 255, np.uint8)
    faces = Faces(np.array([[150, 2, 198, 60]], np.float32), np.array([0.9], np.float32))
    out = draw_faces(image, faces, labels=["a rather long label"])
    assert out.shape == image.shape and (out != 255).any()
    assert (out[:, :150] != 255).any()  # the label was moved left to fit, not cut at the edge
