"""/v1/collection on a real indexed folder: the CLI and the API answer with the same schemas,
edits made through the API hold, tenants see only their own collection, bad input is a 4xx."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from mien.collection import index_collection
from mien.serve import ServeConfig, create_app, schemas
from mien.serve.keys import KeyStore

from test_cli_api_shapes import same


@pytest.fixture(scope="module")
def setup(tmp_path_factory, data_dir):
    home = tmp_path_factory.mktemp("collection-api")
    by = defaultdict(list)
    with open(data_dir / "lfw" / "identities.csv") as fh:
        for row in csv.DictReader(fh):
            by[row["identity"]].append(data_dir / "lfw" / row["path"])
    people = sorted(p for p, paths in by.items() if len(paths) >= 5)[10:14]
    photos = home / "photos"
    photos.mkdir()
    for person in people:
        for src in sorted(by[person])[:3]:
            shutil.copy(src, photos / src.name)
    url = f"sqlite://{home / 'collection'}"
    index_collection(photos, url, workers=1)
    keys = KeyStore(home)
    admin = keys.create("admin", ["admin"], "default")[0]
    reader = keys.create("reader", ["read"], "default")[0]
    other = keys.create("other tenant", ["admin"], "elsewhere")[0]
    keys.close()

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "mien", *args, "--store", url, "--json"], capture_output=True,
                              text=True, timeout=300, check=False, env={**os.environ})
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    with TestClient(create_app(ServeConfig(home=home, collection=url, rate=1000, burst=1000))) as client:
        def api(method, route, key=admin, files=None, json_body=None, **form):
            return client.request(method, route, headers={"Authorization": f"Bearer {key}"}, files=files,
                                  data=form or None, json=json_body)

        yield {"cli": cli, "api": api, "by": by, "people": people, "reader": reader, "other": other}


def _upload(path):
    return {"image": (path.name, path.read_bytes(), "image/jpeg")}


def test_cluster_people_and_search_match_the_cli(setup):
    cli, api = setup["cli"], setup["api"]
    from_cli = cli("cluster", "--full")
    r = api("POST", "/v1/collection/cluster", json_body={"full": True})
    assert r.status_code == 200, r.text
    same(schemas.PeopleList, from_cli, r.json())
    listed = api("GET", "/v1/collection/people").json()
    same(schemas.PeopleList, from_cli, listed)
    assert len(listed["people"]) >= len(setup["people"]) and sum(p["size"] for p in listed["people"]) >= 11
    whole = next(p for p in listed["people"] if p["size"] == 3)  # a person the clustering found whole
    name = api("GET", f"/v1/collection/people/{whole['id']}").json()["paths"][0].rsplit("/", 1)[1].rsplit("_", 1)[0]
    probe = sorted(setup["by"][name])[4]  # not indexed
    r = api("POST", "/v1/collection/search", files=_upload(probe), fmr="0.001")
    assert r.status_code == 200, r.text
    same(schemas.CollectionSearch, cli("search", str(probe), "--fmr", "0.001"), r.json())
    hits = r.json()["hits"]
    assert len(hits) == 3 and {h["path"].rsplit("/", 1)[1].rsplit("_", 1)[0] for h in hits} == {name}
    assert len({h["person"] for h in hits}) == 1
    person = hits[0]["person"]
    one = api("GET", f"/v1/collection/people/{person}").json()
    same(schemas.PersonPhotos, cli("search", "--person", str(person)), one)
    info = api("GET", "/v1/collection").json()
    schemas.CollectionInfo.model_validate(info)
    assert (info["images"], info["faces"], info["people"]) == (12, 12, len(listed["people"]))


def test_edits_through_the_api_hold(setup):
    api = setup["api"]
    api("POST", "/v1/collection/cluster", json_body={"full": True})
    people = api("GET", "/v1/collection/people").json()["people"]
    a, b = people[0], people[1]
    r = api("POST", f"/v1/collection/people/{a['id']}/merge", json_body={"other": b["id"]})
    assert r.status_code == 200 and r.json()["size"] == a["size"] + b["size"]
    r = api("POST", f"/v1/collection/people/{a['id']}/name", json_body={"name": "Pat"})
    assert r.json()["name"] == "Pat"
    r = api("POST", f"/v1/collection/people/{a['id']}/split", json_body={"faces": b["faces"]})
    assert r.status_code == 200 and sorted(r.json()["faces"]) == sorted(b["faces"])
    api("POST", "/v1/collection/cluster", json_body={"full": True})
    after = {p["id"]: p for p in api("GET", "/v1/collection/people").json()["people"]}
    assert after[a["id"]]["name"] == "Pat" and sorted(after[a["id"]]["faces"]) == sorted(a["faces"])
    sheet = api("GET", f"/v1/collection/people/{a['id']}/sheet")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(sheet.content)).size == (6 * 112, 24 + 112)


def test_errors_scopes_and_tenants(setup, tmp_path):
    api = setup["api"]
    assert api("GET", "/v1/collection/people/424242").status_code == 404
    r = api("POST", "/v1/collection/people/0/merge", json_body={"other": 0})
    assert r.status_code == 400 and "itself" in r.json()["error"]["message"]
    r = api("POST", "/v1/collection/people/0/name", json_body={"name": ""})
    assert r.status_code == 422
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    assert api("POST", "/v1/collection/search", files=_upload(bad)).status_code == 400
    assert api("POST", "/v1/collection/cluster", key=setup["reader"], json_body={}).status_code == 403
    assert api("POST", "/v1/collection/cluster", json_body={"full": "yes"}).status_code == 422
    assert api("POST", "/v1/collection/cluster", json_body={"cohort": "/etc/passwd"}).status_code == 422
    normed = api("POST", "/v1/collection/cluster", json_body={"full": True, "cohort": "utkface"}).json()
    assert normed["cohort"]["model"] == "gan128-guard"
    assert [n["model"] for n in normed["non_commercial_models"]] == ["gan128-guard"]
    assert api("GET", "/v1/collection", key=setup["reader"]).status_code == 200
    elsewhere = api("GET", "/v1/collection", key=setup["other"]).json()
    assert elsewhere["faces"] == 0 and "tenants/elsewhere" in elsewhere["url"]
    probe = sorted(setup["by"][setup["people"][0]])[0]
    r = api("POST", "/v1/collection/search", key=setup["other"], files=_upload(probe))
    assert r.status_code == 400 and "empty" in r.json()["error"]["message"]
