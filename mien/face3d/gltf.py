"""A textured triangle mesh as glTF 2.0 binary (.glb), written with numpy and struct.

One mesh, one primitive (POSITION, NORMAL, TEXCOORD_0, uint16/uint32 indices), one PBR
material whose base colour is the embedded PNG texture, one node carrying ``extras``. Units
are metres, +y up, the face looking along +z (glTF's conventions).
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

GLB_MAGIC, JSON_CHUNK, BIN_CHUNK = 0x46546C67, 0x4E4F534A, 0x004E4942
FLOAT, USHORT, UINT = 5126, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


def _pad(data: bytes, fill: bytes = b"\0") -> bytes:
    return data + fill * (-len(data) % 4)


def glb_bytes(positions: np.ndarray, normals: np.ndarray, uv: np.ndarray, triangles: np.ndarray, png: bytes,
              name: str = "face", extras: dict[str, Any] | None = None, generator: str = "mien") -> bytes:
    """The .glb file for a mesh: positions/normals (N, 3), uv (N, 2) with the origin at the image's top left."""
    pos = np.ascontiguousarray(positions, np.float32)
    nor = np.ascontiguousarray(normals, np.float32)
    tex = np.ascontiguousarray(uv, np.float32)
    wide = len(pos) > 65535
    idx = np.ascontiguousarray(triangles, np.uint32 if wide else np.uint16).ravel()
    blobs = [pos.tobytes(), nor.tobytes(), tex.tobytes(), idx.tobytes(), png]
    views, offset, body = [], 0, b""
    targets = [ARRAY_BUFFER, ARRAY_BUFFER, ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, None]
    for blob, target in zip(blobs, targets):
        view: dict[str, Any] = {"buffer": 0, "byteOffset": offset, "byteLength": len(blob)}
        if target is not None:
            view["target"] = target
        views.append(view)
        padded = _pad(blob)
        body += padded
        offset += len(padded)
    doc = {
        "asset": {"version": "2.0", "generator": generator},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": name, **({"extras": extras} if extras else {})}],
        "meshes": [{"name": name, "primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
                                                  "indices": 3, "material": 0, "mode": 4}]}],
        "materials": [{"name": f"{name}-skin", "pbrMetallicRoughness": {"baseColorTexture": {"index": 0},
                                                                        "metallicFactor": 0.0, "roughnessFactor": 0.9},
                       "doubleSided": True}],
        "textures": [{"sampler": 0, "source": 0}],
        "samplers": [{"magFilter": 9729, "minFilter": 9729, "wrapS": 33071, "wrapT": 33071}],
        "images": [{"bufferView": 4, "mimeType": "image/png"}],
        "accessors": [
            {"bufferView": 0, "componentType": FLOAT, "count": len(pos), "type": "VEC3",
             "min": pos.min(0).tolist(), "max": pos.max(0).tolist()},
            {"bufferView": 1, "componentType": FLOAT, "count": len(nor), "type": "VEC3"},
            {"bufferView": 2, "componentType": FLOAT, "count": len(tex), "type": "VEC2"},
            {"bufferView": 3, "componentType": UINT if wide else USHORT, "count": len(idx), "type": "SCALAR"},
        ],
        "bufferViews": views,
        "buffers": [{"byteLength": len(body)}],
    }
    js = _pad(json.dumps(doc, separators=(",", ":")).encode("utf-8"), b" ")
    total = 12 + 8 + len(js) + 8 + len(body)
    return (struct.pack("<III", GLB_MAGIC, 2, total) + struct.pack("<II", len(js), JSON_CHUNK) + js
            + struct.pack("<II", len(body), BIN_CHUNK) + body)


def read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON document and the binary chunk of a .glb (for checks; no validation beyond the framing)."""
    magic, version, total = struct.unpack_from("<III", data, 0)
    if magic != GLB_MAGIC or version != 2 or total != len(data):
        raise ValueError(f"not a glTF 2.0 binary (magic {magic:#x}, version {version}, length {total} of {len(data)})")
    js_len, js_type = struct.unpack_from("<II", data, 12)
    if js_type != JSON_CHUNK:
        raise ValueError("first chunk is not JSON")
    doc = json.loads(data[20:20 + js_len])
    bin_len, bin_type = struct.unpack_from("<II", data, 20 + js_len)
    if bin_type != BIN_CHUNK:
        raise ValueError("second chunk is not BIN")
    start = 28 + js_len
    return doc, data[start:start + bin_len]
