"""A textured triangle mesh as Wavefront OBJ + MTL + PNG (three files side by side)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..atomic import write_atomic


def obj_text(positions: np.ndarray, normals: np.ndarray, uv: np.ndarray, triangles: np.ndarray, mtl_name: str,
             material: str = "skin", header: str = "") -> str:
    """OBJ text; ``uv`` has its origin at the image's top left (OBJ's v points up, so it is flipped)."""
    out = io.StringIO()
    for line in header.splitlines():
        out.write(f"# {line}\n")
    out.write(f"mtllib {mtl_name}\nusemtl {material}\n")
    np.savetxt(out, positions, fmt="v %.6f %.6f %.6f")
    np.savetxt(out, np.stack([uv[:, 0], 1.0 - uv[:, 1]], axis=1), fmt="vt %.6f %.6f")
    np.savetxt(out, normals, fmt="vn %.6f %.6f %.6f")
    t = np.asarray(triangles) + 1
    np.savetxt(out, np.repeat(t, 3, axis=1), fmt="f %d/%d/%d %d/%d/%d %d/%d/%d")
    return out.getvalue()


def mtl_text(texture_name: str, material: str = "skin") -> str:
    return (f"newmtl {material}\nKa 1.000 1.000 1.000\nKd 1.000 1.000 1.000\nKs 0.000 0.000 0.000\n"
            f"d 1.0\nillum 1\nmap_Kd {texture_name}\n")


def write_obj(path: str | Path, positions: np.ndarray, normals: np.ndarray, uv: np.ndarray, triangles: np.ndarray,
              png: bytes, header: str = "") -> list[Path]:
    """Write PATH.obj, PATH.mtl and PATH.png; the paths written."""
    path = Path(path)
    mtl, png_path = path.with_suffix(".mtl"), path.with_suffix(".png")
    write_atomic(png_path, png)
    write_atomic(mtl, mtl_text(png_path.name).encode())
    write_atomic(path, obj_text(positions, normals, uv, triangles, mtl.name, header=header).encode())
    return [path, mtl, png_path]
