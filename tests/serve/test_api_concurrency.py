"""Models are loaded once and shared: many requests at once against a real `mien serve` give no
errors and the same answers as one at a time; a full work queue answers 503 with Retry-After."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from mien.serve import ServeConfig, create_app
from mien.serve.keys import KeyStore

from conftest_web import lfw

pytest_plugins = ["conftest_web"]

PHOTOS = ["Tony_Blair_0053.jpg", "George_W_Bush_0007.jpg", "Colin_Powell_0040.jpg", "David_Beckham_0001.jpg"]
PEOPLE = {"tony": "Tony_Blair_0092.jpg", "colin": "Colin_Powell_0071.jpg", "david": "David_Beckham_0009.jpg"}


def _requests() -> list[tuple[str, str, dict]]:
    """(label, route, multipart files) for detect, analyze, verify and identify on real photos."""
    calls = []
    for name in PHOTOS:
        calls.append((f"detect {name}", "/v1/detect", {"image": (name, lfw(name).read_bytes(), "image/jpeg")}))
        calls.append((f"identify {name}", "/v1/gallery/identify", {"image": (name, lfw(name).read_bytes(), "image/jpeg")}))
    for name in PHOTOS[:2]:
        calls.append((f"analyze {name}", "/v1/analyze", {"image": (name, lfw(name).read_bytes(), "image/jpeg")}))
    for a, b in ((PHOTOS[0], PEOPLE["tony"]), (PHOTOS[2], PEOPLE["david"])):
        calls.append((f"verify {a} {b}", "/v1/verify", {"image_a": (a, lfw(a).read_bytes(), "image/jpeg"),
                                                         "image_b": (b, lfw(b).read_bytes(), "image/jpeg")}))
    return calls


def test_many_at_once_give_the_same_answers_as_one_at_a_time(web_server):
    key = web_server.create_key("load", "admin", rate=1000)
    for person, photo in PEOPLE.items():
        r = web_server.api("POST", "/v1/gallery/enrol", key=key, data={"name": person, "force": "true"},
                           files={"images": (photo, lfw(photo).read_bytes(), "image/jpeg")})
        assert r.status_code == 200, r.text

    def call(request):
        label, route, files = request
        r = web_server.api("POST", route, key=key, files=files)
        return label, r.status_code, r.json()

    calls = _requests()
    alone = {label: (status, body) for label, status, body in map(call, calls)}
    assert all(status == 200 for status, _ in alone.values()), alone
    assert alone[f"identify {PHOTOS[0]}"][1]["identity"] == "tony"
    assert alone[f"identify {PHOTOS[1]}"][1]["identity"] is None

    burst = calls * 4
    random.Random(7).shuffle(burst)
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(call, burst))
    assert len(together) == len(calls) * 4
    for label, status, body in together:
        assert status == 200, (label, body)
        assert body == alone[label][1], label  # bit for bit: one model, shared, gives the same answer


def test_a_full_queue_answers_503_with_retry_after_and_recovers(tmp_path):
    config = ServeConfig(home=tmp_path, store=f"sqlite://{tmp_path / 'gallery'}", workers=1, queue=1,
                         rate=1000, burst=1000)
    keys = KeyStore(tmp_path)
    key = keys.create("busy", ["read"], "busy")[0]
    keys.close()
    headers = {"Authorization": f"Bearer {key}"}
    photo = lfw(PHOTOS[0]).read_bytes()
    with TestClient(create_app(config)) as client:
        def analyze(_):
            return client.post("/v1/analyze", headers=headers, data={"quality": "true"},
                               files={"image": ("a.jpg", photo, "image/jpeg")})

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(analyze, range(8)))
        codes = sorted(r.status_code for r in answers)
        assert set(codes) <= {200, 503} and 503 in codes and 200 in codes, codes
        busy = next(r for r in answers if r.status_code == 503)
        assert busy.json()["error"]["code"] == "busy" and float(busy.headers["Retry-After"]) > 0
        done = [r.json() for r in answers if r.status_code == 200]
        assert all(d == done[0] for d in done)
        assert analyze(0).status_code == 200  # the queue drained; nothing stuck
        metrics = client.get("/metrics").text
        assert 'mien_requests_total{method="POST",route="/v1/analyze",status="503"}' in metrics
