"""The web page's Photo library section end to end: a real `mien serve` reading a collection that
`mien.collection.index_collection` wrote, headless Chromium, real LFW photos."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("playwright")
pytest.register_assert_rewrite("conftest_web")
from playwright.sync_api import expect  # noqa: E402

from conftest_web import SLOW_MS, lfw, shot, sign_in  # noqa: E402

pytest_plugins = ["conftest_web"]

PEOPLE = {"Colin_Powell": ("0040", "0049", "0071", "0095"), "Serena_Williams": ("0001", "0003", "0014")}
PROBE = "Colin_Powell_0133.jpg"  # not indexed


@pytest.fixture(scope="module")
def library(web_server, tmp_path_factory):
    from mien.collection import index_collection

    photos = tmp_path_factory.mktemp("library")
    for person, numbers in PEOPLE.items():
        for n in numbers:
            shutil.copy(lfw(f"{person}_{n}.jpg"), photos / f"{person}_{n}.jpg")
    report = index_collection(photos, f"sqlite://{web_server.home}/collection", workers=1)
    assert report.indexed == sum(len(n) for n in PEOPLE.values())
    return photos


def test_group_name_and_search_the_library(web_page, web_server, library, artifacts):
    page = web_page
    sign_in(page, web_server.admin_key)
    page.click("#collection-recluster")
    expect(page.locator("#collection-summary")).to_contain_text("7 photos", timeout=SLOW_MS)
    people = page.locator("#collection-people > li")
    expect(people.first).to_be_visible(timeout=SLOW_MS)
    assert people.count() >= 2
    first = people.first
    expect(first.locator(".person-title")).to_contain_text("4 faces", timeout=SLOW_MS)
    page.wait_for_function("() => { const i = document.querySelector('#collection-people img');"
                           " return i && i.complete && i.naturalWidth === 672; }", timeout=SLOW_MS)
    first.locator("input[type=text]").fill("Colin")
    first.locator("button", has_text="Name").click()
    expect(page.locator("#collection-people > li").first.locator(".person-title")).to_contain_text(
        "Colin: 4 faces", timeout=SLOW_MS)
    page.set_input_files("#collection-file", str(lfw(PROBE)))
    page.click("#collection-search-run")
    hits = page.locator("#collection-hits > li")
    expect(hits.first).to_be_visible(timeout=SLOW_MS)
    texts = hits.all_text_contents()
    assert len(texts) == 4 and all("Colin_Powell_" in t for t in texts), texts
    shot(page, artifacts, "collection")
    named = web_server.api("GET", "/v1/collection/people").json()["people"]
    assert named[0]["name"] == "Colin"
    serena = next(p for p in named if p["size"] == 3)
    first = page.locator("#collection-people > li").first
    first.locator("select").select_option(str(serena["id"]))
    first.locator("button", has_text="Merge into this person").click()
    expect(page.locator("#collection-people > li").first.locator(".person-title")).to_contain_text(
        "Colin: 7 faces", timeout=SLOW_MS)
