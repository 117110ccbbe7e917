"""One schema per result type: what `mien ... --json` prints and what the API answers for the same
input validate against the same model in mien/serve/schemas.py and have the same fields."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from mien.serve import ServeConfig, create_app, schemas
from mien.serve.keys import KeyStore

# Fields only one door has, by design: the CLI names the local file it read; the API answers for
# the tenant of its key, and lists notices only when a model needs one.
CLI_ONLY = {"image", "image_a", "image_b", "images", "file", "files", "path", "output"}


def shape(value, path="$"):
    """Every field path in a JSON value (lists by their first item), the way two doors are compared."""
    if isinstance(value, dict):
        return {f"{path}.{k}" for k in value if k not in CLI_ONLY} | {
            p for k, v in value.items() if k not in CLI_ONLY for p in shape(v, f"{path}.{k}")}
    if isinstance(value, list) and value and isinstance(value[0], (dict, list)):
        return shape(value[0], f"{path}[]")
    return set()


@pytest.fixture(scope="module")
def doors(tmp_path_factory, data_dir):
    home = tmp_path_factory.mktemp("doors")
    store = f"sqlite://{home / 'gallery'}"
    keys = KeyStore(home)
    key = keys.create("shapes", ["admin"], "default")[0]
    keys.close()
    lfw = data_dir / "lfw" / "images"

    def cli(*args, flag="--json"):
        done = subprocess.run([sys.executable, "-m", "mien", *args, *([flag] if flag else [])], capture_output=True, text=True,
                              timeout=300, env={**__import__("os").environ, "MIEN_GALLERY_URL": store})
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    with TestClient(create_app(ServeConfig(home=home, store=store, rate=1000, burst=1000))) as client:
        def api(method, route, files=None, **form):
            r = client.request(method, route, headers={"Authorization": f"Bearer {key}"},
                               files={k: (p.name, p.read_bytes(), "image/jpeg") for k, p in (files or {}).items()},
                               data=form or None)
            assert r.status_code == 200, r.text
            return r.json()

        yield cli, api, lfw


def same(schema, from_cli, from_api):
    schema.model_validate(from_cli)
    schema.model_validate(from_api)
    assert shape(from_cli) == shape(from_api), (shape(from_cli) ^ shape(from_api))


def test_detect_analyze_verify_models(doors):
    cli, api, lfw = doors
    photo, other = lfw / "Tony_Blair_0053.jpg", lfw / "Tony_Blair_0092.jpg"
    same(schemas.Detection, cli("detect", str(photo)), api("POST", "/v1/detect", {"image": photo}))
    same(schemas.Analysis, cli("analyze", str(photo)), api("POST", "/v1/analyze", {"image": photo}))
    same(schemas.Verification, cli("verify", str(photo), str(other)),
         api("POST", "/v1/verify", {"image_a": photo, "image_b": other}))
    same(schemas.ModelList, cli("models", "list"), api("GET", "/v1/models"))


def test_gallery_results(doors):
    cli, api, lfw = doors
    tony, probe = lfw / "Tony_Blair_0053.jpg", lfw / "Tony_Blair_0121.jpg"
    same(schemas.Enrolment, cli("gallery", "enroll", "cli-tony", str(tony), "--force"),
         api("POST", "/v1/gallery/enrol", {"images": tony}, name="api-tony", force="true"))
    same(schemas.Identification, cli("gallery", "identify", str(probe)),
         api("POST", "/v1/gallery/identify", {"image": probe}))
    same(schemas.IdentityList, cli("gallery", "list"), api("GET", "/v1/gallery/identities"))
    same(schemas.Export, cli("gallery", "export", "cli-tony", flag=None), api("GET", "/v1/gallery/identities/api-tony/export"))
    same(schemas.ErasureReceipt, cli("gallery", "remove", "cli-tony"), api("DELETE", "/v1/gallery/identities/api-tony"))
    same(schemas.Journal, cli("gallery", "journal"), api("GET", "/v1/gallery/journal"))
