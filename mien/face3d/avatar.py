"""A textured 3D face from one photo: the metric mesh, its UV texture, written as .glb or .obj.

    >>> avatar = build_avatar("me.jpg")
    >>> avatar.write("face.glb")        # or "face.obj": face.obj + face.mtl + face.png

The geometry is the metric, pose-normalised face (``Face3D``) in metres, on MediaPipe's
canonical triangles with the eyes and mouth closed; the texture is the photo unwrapped into
the canonical UV layout, the half turned away from the camera filled from the visible half
(``texture``). The file's node ``extras`` carry the photo's head pose, the scale and what it
rests on, and a few blendshape-like expression values (mouth open, eyes open, smile).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import InputError
from ..image import ImageInput, describe, load_image
from ..landmarks.geometry import canonical_face
from .metric import Face3D
from .regions import POINTS, face_triangles
from .texture import TEXTURE_SIZE, Texture, bake_texture

FORMATS = (".glb", ".obj")


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit normals per vertex (counter-clockwise triangles face outwards)."""
    v = np.asarray(vertices, np.float64)
    n = np.cross(v[triangles[:, 1]] - v[triangles[:, 0]], v[triangles[:, 2]] - v[triangles[:, 0]])
    out = np.zeros_like(v)
    for k in range(3):
        np.add.at(out, triangles[:, k], n)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def expression(v: np.ndarray) -> dict[str, float]:
    """Blendshape-like values from the metric mesh: openings as shares of a width, smile in mm."""
    def gap(a: int, b: int) -> float:
        return float(np.linalg.norm(v[a] - v[b]))

    mouth = gap(POINTS["cheilion_right"], POINTS["cheilion_left"])
    lift = ((v[POINTS["cheilion_right"], 1] + v[POINTS["cheilion_left"], 1]) / 2
            - (v[POINTS["stomion_upper"], 1] + v[POINTS["stomion_lower"], 1]) / 2)
    return {"mouth_open": round(gap(13, 14) / mouth, 3), "eye_open_right": round(gap(159, 145) / gap(33, 133), 3),
            "eye_open_left": round(gap(386, 374) / gap(263, 362), 3), "smile_mm": round(float(lift), 2)}


@dataclass(frozen=True, eq=False)
class Avatar:
    vertices: np.ndarray  # (468, 3) metres, pose removed
    normals: np.ndarray  # (468, 3)
    uv: np.ndarray  # (468, 2), origin at the texture's top left
    triangles: np.ndarray  # (T, 3)
    texture: Texture
    face: Face3D
    source: str = "image"

    def extras(self) -> dict[str, Any]:
        return {"mien": {"version": __version__, "units": "metres", "source": self.source,
                         "head_pose_in_photo": self.face.pose.to_dict(), "scale": self.face.scale.to_dict(),
                         "expression": expression(self.face.vertices),
                         "texture_filled_share": round(self.texture.filled_share, 3)}}

    def png(self) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(self.texture.image).save(buf, "PNG")
        return buf.getvalue()

    def glb(self) -> bytes:
        from .gltf import glb_bytes

        return glb_bytes(self.vertices, self.normals, self.uv, self.triangles, self.png(), extras=self.extras(),
                         generator=f"mien {__version__}")

    def write(self, path: str | Path) -> list[Path]:
        """Write a .glb (one file) or a .obj (with its .mtl and .png); the paths written."""
        from ..atomic import write_atomic
        from .obj import write_obj

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".glb":
            return [write_atomic(path, self.glb())]
        if suffix == ".obj":
            header = f"mien {__version__} avatar of {self.source}; metres, +y up, face towards +z"
            return write_obj(path, self.vertices, self.normals, self.uv, self.triangles, self.png(), header)
        raise InputError(f"cannot write an avatar as {suffix or 'an extension-less file'}; use .glb or .obj")

    def reprojection(self) -> np.ndarray:
        """(468, 2) the avatar's vertices projected back into the photo through its head pose."""
        return self.face.to_image(self.vertices * 1000.0)[:, :2]

    def to_dict(self) -> dict[str, Any]:
        return {"image": self.source, "vertices": len(self.vertices), "triangles": len(self.triangles),
                "texture_size": int(self.texture.image.shape[0]), **self.extras()["mien"], **self.face.to_dict()}


def build_avatar(image: ImageInput, lifter: Any = None, largest: bool = False, source: str | None = None,
                 texture_size: int = TEXTURE_SIZE) -> Avatar:
    """The avatar of the one face in ``image`` (the largest with ``largest``)."""
    from .capture import FaceLifter

    if not 64 <= texture_size <= 4096:
        raise InputError(f"texture size must be 64..4096 pixels, not {texture_size}")
    source = source or describe(image)
    pixels = load_image(image)
    face = (lifter or FaceLifter()).lift(pixels, largest=largest, source=source)
    triangles = face_triangles()
    vertices = face.vertices / 1000.0
    return Avatar(vertices.astype(np.float32), vertex_normals(vertices, triangles).astype(np.float32),
                  canonical_face().uv.astype(np.float32), triangles, bake_texture(pixels, face, texture_size), face, source)
