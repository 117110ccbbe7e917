"""The canonical 3D face of MediaPipe's face geometry module, read from the store.

``face-geometry`` is ``face_mesh_solution_packed_assets.data`` from npm
``@mediapipe/face_mesh``; the ``geometry_pipeline_metadata_landmarks.binarypb`` inside
it (byte range in the spec) is a small protobuf, decoded here by hand (no protobuf
schema needed)::

    GeometryPipelineMetadata { Mesh3d canonical_mesh = 1;
                               repeated WeightedLandmarkRef procrustes_landmark_basis = 2; }
    Mesh3d { vertex_type = 1; primitive_type = 2;
             repeated float vertex_buffer = 3 [packed];   # x, y, z, u, v per vertex
             repeated uint32 index_buffer = 4 [packed]; } # triangles
    WeightedLandmarkRef { uint32 landmark_id = 1; float weight = 2; }

Coordinates are centimetres in a right-handed frame: x to the face's left (the
viewer's right), y up, z out of the face towards the camera.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import ModelCorruptError
from ..models.registry import get_spec
from ..models.store import model_path


@dataclass(frozen=True)
class CanonicalFace:
    vertices: np.ndarray  # (468, 3) float32, cm
    uv: np.ndarray  # (468, 2) float32
    triangles: np.ndarray  # (898, 3) int32
    weights: np.ndarray  # (468,) float32 Procrustes weights (0 for unused vertices)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int, object]]:
    """(field number, wire type, value) for one protobuf message."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.append((num, wire, value))
    return out


def parse_geometry(blob: bytes) -> CanonicalFace:
    vertex_buffer: list[float] = []
    index_buffer: list[int] = []
    weights = np.zeros(468, np.float32)
    for num, wire, value in _fields(blob):
        if num == 1 and wire == 2:
            for mnum, mwire, mval in _fields(value):
                if mnum == 3 and mwire == 2:
                    vertex_buffer.extend(struct.unpack(f"<{len(mval) // 4}f", mval))
                elif mnum == 3 and mwire == 5:
                    vertex_buffer.append(struct.unpack("<f", mval)[0])
                elif mnum == 4 and mwire == 2:
                    j = 0
                    while j < len(mval):
                        v, j = _varint(mval, j)
                        index_buffer.append(v)
                elif mnum == 4 and mwire == 0:
                    index_buffer.append(mval)
        elif num == 2 and wire == 2:
            ref = {n: v for n, _, v in _fields(value)}
            weights[int(ref.get(1, 0))] = struct.unpack("<f", ref[2])[0] if 2 in ref else 0.0
    vb = np.asarray(vertex_buffer, np.float32).reshape(-1, 5)
    return CanonicalFace(vb[:, :3].copy(), vb[:, 3:].copy(), np.asarray(index_buffer, np.int32).reshape(-1, 3), weights)


@lru_cache(maxsize=1)
def canonical_face() -> CanonicalFace:
    """The canonical face from the installed ``face-geometry`` model."""
    spec = get_spec("face-geometry")
    start, end = spec.normalization["geometry_offsets"]
    path = model_path("face-geometry")
    with open(path, "rb") as fh:
        fh.seek(start)
        blob = fh.read(end - start)
    try:
        face = parse_geometry(blob)
    except (ValueError, IndexError, struct.error) as exc:
        raise ModelCorruptError("face-geometry", path, spec.sha256, f"unparseable geometry ({exc})") from exc
    if face.vertices.shape != (468, 3):
        raise ModelCorruptError("face-geometry", path, spec.sha256, f"{face.vertices.shape} vertices")
    return face
