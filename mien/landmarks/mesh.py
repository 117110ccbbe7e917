"""MediaPipe face mesh (468 points) and iris (5 points per eye), converted to ONNX.

For each detected face the mesh model sees a 192x192 crop of a square ROI: the
detector box's long side times 1.5, rotated so the eyes are level (from the
detector's 5 landmarks when it has them). By default it runs a second pass on the
ROI of the first pass's landmarks, as MediaPipe does between video frames, which
makes the result independent of the detector's box convention. Input RGB in [0, 1].

Iris: a 64x64 crop around each eye's corners (2.3x their distance), the eye on the
image's right mirrored, as in MediaPipe's iris graph. Apache-2.0 (Google).
"""

from __future__ import annotations

import numpy as np

from ..attributes.base import check_rgb
from ..models.runtime import onnx_session
from ..types import Faces
from .base import Landmarks, roi_matrix, to_image, warp

MESH_SIZE, IRIS_SIZE = 192, 64
MESH_SCALE, IRIS_SCALE = 1.5, 2.3
# Eye corners in the mesh: (outer, inner) of the eye on the image's left, then the right one.
EYE_CORNERS = ((33, 133), (362, 263))
# Points that set the eye line for the ROI of the second pass (eye outer corners).
_EYE_LINE = (33, 263)


class FaceMesh:
    model = "face-mesh"

    def __init__(self, refine: bool = True, iris: bool = False) -> None:
        self.refine = refine
        self.iris = iris

    def predict(self, image: np.ndarray, faces: Faces) -> Landmarks:
        check_rgb(image)
        pts, scores = [], []
        for i in range(len(faces)):
            center, side, angle = _roi_from_face(faces, i)
            p, s = self._run(image, center, side, angle)
            if self.refine:
                p, s = self._run(image, *_roi_from_points(p))
            pts.append(p)
            scores.append(s)
        points = np.stack(pts) if pts else np.zeros((0, 468, 3), np.float32)
        extras = {}
        if self.iris:
            extras["iris"] = np.stack([iris_points(image, p) for p in points]) if pts else np.zeros((0, 10, 3), np.float32)
        return Landmarks(points, np.array(scores, np.float32), self.model, extras)

    def __call__(self, image: np.ndarray, faces: Faces) -> Landmarks:
        return self.predict(image, faces)

    def follow(self, image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, float]:
        """One face's mesh from the ROI of its mesh in the previous video frame (no detector), as
        MediaPipe tracks between frames: (468, 3) points and the face-presence score."""
        check_rgb(image)
        return self._run(image, *_roi_from_points(np.asarray(points, np.float64)))

    def _run(self, image: np.ndarray, center: np.ndarray, side: float, angle: float) -> tuple[np.ndarray, float]:
        m = roi_matrix(center, side, angle, MESH_SIZE)
        crop = warp(image, m, MESH_SIZE).astype(np.float32) / np.float32(255.0)
        session = onnx_session(self.model)
        raw, presence = session.run(None, {session.get_inputs()[0].name: crop[None]})
        pts = to_image(raw.reshape(468, 3), m)
        return pts, float(1.0 / (1.0 + np.exp(-float(np.ravel(presence)[-1]))))


def _roi_from_face(faces: Faces, i: int) -> tuple[np.ndarray, float, float]:
    x0, y0, x1, y1 = faces.boxes[i].astype(np.float64)
    center = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    angle = 0.0
    if faces.landmarks is not None and faces.landmarks.shape[1] >= 2:
        (lx, ly), (rx, ry) = faces.landmarks[i, 0], faces.landmarks[i, 1]
        angle = float(np.arctan2(ry - ly, rx - lx))
    return center, max(x1 - x0, y1 - y0) * MESH_SCALE, angle


def _roi_from_points(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    a, b = points[_EYE_LINE[0], :2], points[_EYE_LINE[1], :2]
    angle = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
    # Box of the landmarks in the rotated frame, so the ROI follows the face's own axes.
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, s], [-s, c]])
    local = points[:, :2] @ rot.T
    lo, hi = local.min(0), local.max(0)
    center = ((lo + hi) / 2) @ rot
    return center, float(max(hi - lo)) * MESH_SCALE, angle


def iris_points(image: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """(10, 3) iris points (centre, then 4 on the rim) for both eyes, image's left eye first."""
    session = onnx_session("iris")
    out = []
    for k, (a, b) in enumerate(EYE_CORNERS):
        p, q = mesh[a, :2], mesh[b, :2]
        if k == 1:  # the eye on the image's right is mirrored, so its corners swap sides
            p, q = q, p
        angle = float(np.arctan2(q[1] - p[1], q[0] - p[0]))
        center = (p + q) / 2
        side = float(np.linalg.norm(q - p)) * IRIS_SCALE
        m = roi_matrix(center, side, angle, IRIS_SIZE)
        if k == 1:
            m = np.array([[-1.0, 0.0, IRIS_SIZE], [0.0, 1.0, 0.0]]) @ np.vstack([m, [0, 0, 1]])
        crop = warp(image, m, IRIS_SIZE).astype(np.float32) / np.float32(255.0)
        _, iris = session.run(None, {session.get_inputs()[0].name: crop[None]})
        out.append(to_image(iris.reshape(5, 3), m))
    return np.concatenate(out).astype(np.float32)
