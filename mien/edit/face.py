"""One face's geometry for editing: detector box, 468-point mesh (+ iris) and head pose.

Every editor starts here, so the rules for "which face" and "too turned" live once:
no face raises ``NoFaceError``; several raise ``MultipleFacesError`` unless ``largest``;
a face turned further than the editor can handle raises ``PoseError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import MultipleFacesError, NoFaceError, PoseError
from ..landmarks.pose import HeadPose, head_pose

MAX_YAW = 50.0  # degrees: beyond this the far half of the face is mostly hidden
MAX_PITCH = 40.0


@dataclass(frozen=True, eq=False)
class FaceGeometry:
    """One face: ``points`` (468, 3) mesh in image pixels, ``iris`` (10, 3) or None, ``pose``."""

    box: np.ndarray
    points: np.ndarray
    pose: HeadPose
    iris: np.ndarray | None = None

    @property
    def xy(self) -> np.ndarray:
        return self.points[:, :2]

    @property
    def eye_centres(self) -> np.ndarray:
        """(2, 2) pupil centres (iris model) or, without it, the eye contours' centres; image-left first."""
        if self.iris is not None:
            return self.iris[[0, 5], :2].astype(np.float64)
        from ..landmarks.regions import EYE_LEFT, EYE_RIGHT

        return np.stack([self.xy[list(EYE_LEFT)].mean(0), self.xy[list(EYE_RIGHT)].mean(0)]).astype(np.float64)

    @property
    def iod(self) -> float:
        """Inter-ocular distance in pixels (between the eye centres)."""
        a, b = self.eye_centres
        return float(np.linalg.norm(b - a))

    def to_dict(self) -> dict[str, Any]:
        return {"box": [round(float(v), 1) for v in self.box], "pose": self.pose.to_dict()}


def check_pose(geometry: FaceGeometry, source: str, max_yaw: float = MAX_YAW, max_pitch: float = MAX_PITCH) -> None:
    pose = geometry.pose
    if abs(pose.yaw) > max_yaw or abs(pose.pitch) > max_pitch:
        raise PoseError(source, pose.yaw, pose.pitch, max_yaw, max_pitch)


def find_faces(image: np.ndarray, detector: Any = None, iris: bool = False) -> list[FaceGeometry]:
    """Every face in an RGB image, largest first."""
    from ..api import detect
    from ..landmarks.mesh import FaceMesh

    faces = detect(image) if detector is None else detector.detect(image)
    if not len(faces):
        return []
    faces = faces.sorted("area")
    marks = FaceMesh(iris=iris).predict(image, faces)
    out = []
    for i in range(len(faces)):
        pts = marks.points[i].astype(np.float64)
        out.append(FaceGeometry(faces.boxes[i].copy(), pts, head_pose(pts),
                                marks.extras["iris"][i].astype(np.float64) if iris else None))
    return out


def find_face(image: np.ndarray, source: str = "image", largest: bool = False, detector: Any = None,
              iris: bool = False) -> FaceGeometry:
    """The one face of an image (the largest with ``largest``); typed errors otherwise."""
    found = find_faces(image, detector, iris)
    if not found:
        raise NoFaceError(source)
    if len(found) > 1 and not largest:
        raise MultipleFacesError(source, len(found), "pass largest=True (CLI: --largest) to edit the largest face")
    return found[0]
