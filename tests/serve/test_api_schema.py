"""The OpenAPI document against the running app: schemathesis generates requests for every
operation from the document itself; no response may be a 500, and every response must match
the status codes, content types, headers and schemas the document declares."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from mien.serve import ServeConfig, create_app
from mien.serve.keys import KeyStore


def _service():
    # Built at import: schemathesis reads the document when pytest collects the test (its
    # fixture-based loader does not work on pytest 9). Nothing heavy loads until a request needs it.
    home = Path(tempfile.mkdtemp(prefix="mien-schema-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    config = ServeConfig(home=home, store=f"sqlite://{home / 'gallery'}", collection=f"sqlite://{home / 'collection'}", rate=10_000, burst=10_000, max_body_bytes=2_000_000)
    keys = KeyStore(home)
    key = keys.create("fuzz", ["admin"], "fuzz")[0]
    keys.close()
    return create_app(config), key


APP, KEY = _service()
# From the app's own document, not fetched through the app: schemathesis's ASGI loader would run
# the app's start-up and shut-down just to read it.
schema = schemathesis.openapi.from_dict(APP.openapi())


@pytest.fixture(scope="module")
def client():
    # One client for the module: the app starts once (schemathesis's own ASGI call would run the
    # app's start-up and shut-down around every request).
    with TestClient(APP) as open_client:
        yield open_client


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_documented(case, client):
    # Random bytes are a schema-valid upload but not a photo, so 4xx there is the right answer,
    # not a refusal of valid data.
    headers = {"Authorization": f"Bearer {KEY}"}
    request = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    if request.get("files"):  # httpx sends only text or bytes as form values
        request["files"] = [(field, (filename, value if isinstance(value, (str, bytes)) else str(value)))
                            for field, (filename, value, *_) in request["files"]]
    response = client.request(**request)
    response.request.read()  # a multipart body is a stream; the checks read it to show the request
    case.validate_response(response, headers=headers, excluded_checks=[positive_data_acceptance])
