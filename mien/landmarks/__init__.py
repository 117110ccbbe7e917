"""Dense landmarks and head pose.

* ``FaceMesh``: MediaPipe's 468-point mesh (+ iris), Apache-2.0, the default.
* ``Dlib68``: dlib's 68 points; iBUG 300-W licence, NOT for commercial use.
* ``head_pose(mesh)``: yaw, pitch, roll by fitting the canonical 3D face.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ..errors import UnknownModelError
from .base import Landmarks

LANDMARKERS: dict[str, str] = {
    "face-mesh": "mien.landmarks.mesh:FaceMesh",
    "dlib68": "mien.landmarks.dlib68:Dlib68",
}


def get_landmarker(name: str = "face-mesh", **options: Any) -> Any:
    try:
        module, cls = LANDMARKERS[name].split(":")
    except KeyError:
        raise UnknownModelError(name, list(LANDMARKERS), kind="landmark model") from None
    return getattr(import_module(module), cls)(**options)


def __getattr__(name: str) -> Any:
    lazy = {"FaceMesh": "mien.landmarks.mesh", "Dlib68": "mien.landmarks.dlib68",
            "head_pose": "mien.landmarks.pose", "HeadPose": "mien.landmarks.pose"}
    if name in lazy:
        return getattr(import_module(lazy[name]), name)
    raise AttributeError(f"module 'mien.landmarks' has no attribute {name!r}")


__all__ = ["LANDMARKERS", "Landmarks", "get_landmarker", "FaceMesh", "Dlib68", "head_pose", "HeadPose"]
