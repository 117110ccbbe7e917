"""The face3d routes (mien/serve/routes/face3d.py) on a real app, with the router included here:
same JSON as the CLI, the "read" scope, refusals as 4xx, a glb that parses."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from fastapi.testclient import TestClient

from mien.face3d.gltf import read_glb
from mien.serve import ServeConfig, create_app
from mien.serve.keys import KeyStore


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from mien.serve.routes import face3d

    home = tmp_path_factory.mktemp("face3d-http")
    keys = KeyStore(home)
    key = keys.create("face3d", ["read"], "default")[0]
    keys.close()
    app = create_app(ServeConfig(home=home, store=f"sqlite://{home / 'gallery'}", rate=1000, burst=1000))
    if not any(getattr(r, "path", "") == "/v1/measure" for r in app.routes):
        app.include_router(face3d.router)
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        yield c


def _photo(lfw_dir, name="Aaron_Peirsol_0001.jpg"):
    return {"image": (name, (lfw_dir / name).read_bytes(), "image/jpeg")}


def test_measure_answers_the_cli_json(client, lfw_dir, lifter):
    from mien.face3d.measures import Measurer

    r = client.post("/v1/measure", files=_photo(lfw_dir))
    assert r.status_code == 200, r.text
    doc = r.json()
    local = Measurer(lifter).measure(lfw_dir / "Aaron_Peirsol_0001.jpg", source="Aaron_Peirsol_0001.jpg").to_dict()
    assert set(doc) - {"non_commercial_models"} == set(local)
    assert set(doc["measures"]) == set(local["measures"])
    assert doc["measures"]["ipd"]["value"] == pytest.approx(local["measures"]["ipd"]["value"], rel=1e-3)


def test_simulate_returns_a_marked_png(client, lfw_dir):
    from PIL import Image

    from mien.provenance import detect_watermark

    r = client.post("/v1/simulate", files=_photo(lfw_dir), data={"nose_width": "-10", "side_by_side": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["report"]["changes"] == {"nose_width": -10.0}
    png = base64.b64decode(body["image"].split(",", 1)[1])
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape == (150, 300, 3) and detect_watermark(image).detected


def test_simulate_refuses_impossible_amounts(client, lfw_dir):
    r = client.post("/v1/simulate", files=_photo(lfw_dir), data={"chin": "40"})
    assert r.status_code == 400 and "-6mm to +6mm" in r.text


def test_avatar_is_a_glb(client, lfw_dir):
    r = client.post("/v1/avatar", files=_photo(lfw_dir), data={"texture_size": "128"})
    assert r.status_code == 200 and r.headers["content-type"] == "model/gltf-binary"
    doc, _ = read_glb(r.content)
    assert doc["accessors"][0]["count"] == 468


def test_routes_need_a_key(client, lfw_dir):
    r = client.post("/v1/measure", files=_photo(lfw_dir), headers={"Authorization": ""})
    assert r.status_code == 401
