"""The /v1/edit routes on an app built by create_app, with the edit router mounted by the test
(mien/serve/app.py includes it once the service's owner wires it in)."""

from __future__ import annotations

import base64
import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from mien.serve import ServeConfig, create_app
from mien.serve.keys import KeyStore


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from mien.serve.routes import edit

    home = tmp_path_factory.mktemp("serve-edit")
    config = ServeConfig(home=home, store=f"sqlite://{home / 'gallery'}", max_body_bytes=2_000_000, rate=1000, burst=1000)
    keys = KeyStore(home)
    reader = keys.create("reader", ["read"], "alpha")[0]
    keys.close()
    app = create_app(config)
    if not any(getattr(r, "path", "").startswith("/v1/edit") for r in app.routes):
        app.include_router(edit.router)
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {reader}"}


def upload(lfw, name):
    return (name, (lfw / name).read_bytes(), "image/jpeg")


def decoded(data_url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))


def test_swap_needs_a_key_and_consent(service, lfw):
    client, auth = service
    files = {"source": upload(lfw, "Aaron_Eckhart_0001.jpg"), "target": upload(lfw, "AJ_Lamas_0001.jpg")}
    assert client.post("/v1/edit/swap", files=files).status_code == 401
    r = client.post("/v1/edit/swap", files=files, headers=auth)
    assert r.status_code == 403 and r.json()["error"]["code"] == "consent"  # ConsentError, as the service maps it
    r = client.post("/v1/edit/swap", files=files, data={"consent": "true"}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["report"]["consent"] is True and body["report"]["source"] == "Aaron_Eckhart_0001.jpg"
    assert body["report"]["provenance"]["operation"] == "swap"
    image = decoded(body["image"])
    assert image.size == (150, 150)


def test_tryon_and_bad_colour(service, lfw):
    client, auth = service
    r = client.post("/v1/edit/tryon", files={"image": upload(lfw, "AJ_Lamas_0001.jpg")},
                    data={"glasses": "round", "lipstick": "coral"}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["report"]["glasses"]["lens_error_iod"] < 0.05
    r = client.post("/v1/edit/tryon", files={"image": upload(lfw, "AJ_Lamas_0001.jpg")},
                    data={"lipstick": "blurple"}, headers=auth)
    assert r.status_code == 400 and "#rrggbb" in r.json()["error"]["message"]


def test_morph_gif(service, lfw):
    client, auth = service
    files = [("images", upload(lfw, "Aaron_Eckhart_0001.jpg")), ("images", upload(lfw, "AJ_Lamas_0001.jpg"))]
    r = client.post("/v1/edit/morph", files=files, data={"frames": "3", "size": "160"}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["report"]["faces"] == ["Aaron_Eckhart_0001.jpg", "AJ_Lamas_0001.jpg"]
    assert decoded(r.json()["image"]).format == "GIF"
