"""Head pose (yaw, pitch, roll in degrees) by fitting MediaPipe's canonical 3D face.

The 468 mesh points (x right, y down, z away from the camera, in pixels) are turned
into a right-handed camera frame (x right, y up, z towards the camera) and the
canonical face is fitted to them by weighted similarity Procrustes (Umeyama) under a
weak-perspective camera, with MediaPipe's own Procrustes weights. The rotation is
split as R = Rz(roll) @ Ry(yaw) @ Rx(pitch):

* yaw > 0: the face turns towards the viewer's right (the person's left);
* pitch > 0: the face tilts down (nose towards the chest);
* roll > 0: the head leans counter-clockwise as seen in the image.

0/0/0 is a frontal face looking into the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ShapeError
from .geometry import canonical_face


@dataclass(frozen=True)
class HeadPose:
    yaw: float
    pitch: float
    roll: float
    rotation: np.ndarray  # (3, 3) canonical face -> camera frame
    scale: float  # pixels per centimetre of the canonical face
    translation: np.ndarray  # (3,) pixels, camera frame
    residual: float  # weighted RMS fitting error in pixels

    def to_dict(self) -> dict[str, float]:
        return {"yaw": round(self.yaw, 1), "pitch": round(self.pitch, 1), "roll": round(self.roll, 1)}


def _camera_frame(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, np.float64)
    return np.stack([p[:, 0], -p[:, 1], -p[:, 2]], axis=1)


def umeyama(src: np.ndarray, dst: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Weighted similarity transform minimising sum w |s R src + t - dst|^2."""
    w = weights / weights.sum()
    mu_s, mu_d = w @ src, w @ dst
    a, b = src - mu_s, dst - mu_d
    cov = (b * w[:, None]).T @ a
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[2] = -1
    rot = u @ np.diag(d) @ vt
    var = (w * (a ** 2).sum(1)).sum()
    scale = float((sig * d).sum() / var)
    return rot, scale, mu_d - scale * rot @ mu_s


def euler(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees for R = Rz(roll) Ry(yaw) Rx(pitch)."""
    yaw = np.arcsin(np.clip(-rot[2, 0], -1.0, 1.0))
    pitch = np.arctan2(rot[2, 1], rot[2, 2])
    roll = np.arctan2(rot[1, 0], rot[0, 0])
    return float(np.degrees(yaw)), float(np.degrees(pitch)), float(np.degrees(roll))


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Rz(roll) Ry(yaw) Rx(pitch) from degrees (the inverse of ``euler``)."""
    y, p, r = np.radians([yaw, pitch, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def head_pose(mesh: np.ndarray) -> HeadPose:
    """Head pose of one face from its (468, 3) mesh points in image pixels."""
    mesh = np.asarray(mesh)
    if mesh.shape != (468, 3):
        raise ShapeError("mesh", "(468, 3) face-mesh points (x, y, z)", mesh.shape)
    face = canonical_face()
    weights = face.weights.astype(np.float64)
    if weights.sum() <= 0:
        weights = np.ones(468)
    src, dst = face.vertices.astype(np.float64), _camera_frame(mesh)
    rot, scale, t = umeyama(src, dst, weights)
    fit = scale * src @ rot.T + t
    residual = float(np.sqrt((weights * ((fit - dst) ** 2).sum(1)).sum() / weights.sum()))
    yaw, pitch, roll = euler(rot)
    return HeadPose(yaw, pitch, roll, rot, scale, t, residual)


def head_poses(meshes: np.ndarray) -> list[HeadPose]:
    return [head_pose(m) for m in np.asarray(meshes)]


def project(pose: HeadPose, points: np.ndarray) -> np.ndarray:
    """Canonical-frame 3D points (cm) to image pixels (x, y) under the fitted pose."""
    cam = pose.scale * np.asarray(points, np.float64) @ pose.rotation.T + pose.translation
    return np.stack([cam[:, 0], -cam[:, 1]], axis=1)
