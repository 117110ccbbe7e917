"""Avatars: glTF binary and OBJ that load, with the mesh's vertex count and a filled texture."""

from __future__ import annotations

import numpy as np
import pytest

from mien.errors import InputError
from mien.face3d.avatar import build_avatar
from mien.face3d.gltf import read_glb
from mien.face3d.regions import face_triangles


@pytest.fixture(scope="module")
def avatar(lifter, lfw_dir):
    return build_avatar(lfw_dir / "Aaron_Peirsol_0001.jpg", lifter=lifter, texture_size=256)


def test_glb_has_the_mesh_and_its_texture(avatar, tmp_path):
    path = avatar.write(tmp_path / "face.glb")[0]
    doc, blob = read_glb(path.read_bytes())
    assert doc["asset"]["version"] == "2.0"
    acc = doc["accessors"]
    assert acc[0]["count"] == 468 and acc[3]["count"] == 3 * len(face_triangles())
    assert doc["images"][0]["mimeType"] == "image/png"
    view = doc["bufferViews"][0]
    positions = np.frombuffer(blob[view["byteOffset"]:view["byteOffset"] + view["byteLength"]], np.float32).reshape(-1, 3)
    np.testing.assert_allclose(positions.min(0), acc[0]["min"])
    width = positions[:, 0].max() - positions[:, 0].min()
    assert 0.10 < width < 0.22  # metres: a face, not a house
    pose = doc["nodes"][0]["extras"]["mien"]["head_pose_in_photo"]
    assert set(pose) == {"yaw", "pitch", "roll"}


def test_glb_loads_in_pygltflib(avatar, tmp_path):
    import pygltflib  # a test dependency (pyproject [test]): never skipped
    path = avatar.write(tmp_path / "face.glb")[0]
    gltf = pygltflib.GLTF2().load(str(path))
    assert len(gltf.meshes) == 1 and gltf.accessors[gltf.meshes[0].primitives[0].attributes.POSITION].count == 468
    assert gltf.binary_blob() is not None


def test_obj_mtl_png(avatar, tmp_path):
    written = avatar.write(tmp_path / "face.obj")
    assert [p.suffix for p in written] == [".obj", ".mtl", ".png"]
    lines = written[0].read_text().splitlines()
    assert sum(line.startswith("v ") for line in lines) == 468
    assert sum(line.startswith("f ") for line in lines) == len(face_triangles())
    assert "map_Kd face.png" in written[1].read_text()


def test_texture_is_filled_and_reprojects(avatar):
    tex = avatar.texture.image
    assert tex.shape == (256, 256, 3) and tex.std() > 5
    assert 0 <= avatar.texture.filled_share < 0.6
    err = np.linalg.norm(avatar.reprojection() - avatar.face.image_points[:, :2], axis=1)
    assert np.median(err) < 0.01  # the avatar is the lifted mesh: back through the pose it lands on it


def test_unknown_format_and_bad_texture_size(avatar, tmp_path, lfw_dir):
    with pytest.raises(InputError, match=".glb or .obj"):
        avatar.write(tmp_path / "face.stl")
    with pytest.raises(InputError, match="texture size"):
        build_avatar(lfw_dir / "Aaron_Peirsol_0001.jpg", texture_size=10)
