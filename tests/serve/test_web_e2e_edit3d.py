"""The web page's Edit and 3D sections end to end: a real `mien serve`, headless Chromium, real LFW photos.

As in test_web_e2e.py, every test drives the page (pickers, checkboxes, buttons) and asserts on what
it shows; screenshots go to $MIEN_TEST_ARTIFACTS. The avatar test reads the three.js viewer's canvas
back and checks it is not blank; three.js comes from mien's model store (`mien models pull --all`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re

import numpy as np
import pytest

pytest.importorskip("playwright")
pytest.register_assert_rewrite("conftest_web")
from playwright.sync_api import expect  # noqa: E402

from conftest_web import SLOW_MS, done, lfw, shot, sign_in, write_video  # noqa: E402

pytest_plugins = ["conftest_web"]

PHONE = {"width": 375, "height": 812}


def status(page):
    return page.locator("#status")


def picture(page, selector: str):
    """The picture an <img> shows, decoded from its data URL."""
    from PIL import Image

    src = page.locator(selector).get_attribute("src")
    assert src and src.startswith("data:image/"), src
    return Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))


def test_swap_is_refused_without_consent_then_done_with_it(web_page, web_server, artifacts):
    page = web_page
    sign_in(page, web_server.admin_key)
    page.set_input_files("#swap-source-file", str(lfw("George_W_Bush_0007.jpg")))
    page.set_input_files("#swap-target-file", str(lfw("Tony_Blair_0053.jpg")))
    expect(page.locator("#swap-consent")).not_to_be_checked()
    page.click("#swap-run")
    expect(status(page)).to_have_attribute("data-kind", "error", timeout=SLOW_MS)
    refused = web_server.api("POST", "/v1/edit/swap", data={"consent": "false"}, files=[
        ("source", ("a.jpg", lfw("George_W_Bush_0007.jpg").read_bytes(), "image/jpeg")),
        ("target", ("b.jpg", lfw("Tony_Blair_0053.jpg").read_bytes(), "image/jpeg"))])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "consent"
    expect(status(page)).to_contain_text(refused.json()["error"]["message"])  # the API's own words
    expect(status(page)).to_contain_text("Tick the consent box")
    expect(page.locator("#swap-consent")).to_be_focused()
    expect(page.locator("#swap-result")).to_be_hidden()
    shot(page, artifacts, "20-swap-refused")

    page.check("#swap-consent")
    page.click("#swap-run")
    assert "Faces swapped" in done(page)
    expect(page.locator("#swap-result")).to_be_visible()
    expect(page.locator("#swap-result .badge")).to_have_text("EDITED")
    expect(page.locator("#swap-image")).to_have_attribute("alt", re.compile(r"^Edited: the face of George_W_Bush_0007"))
    from PIL import Image

    side = Image.open(lfw("Tony_Blair_0053.jpg")).size
    assert picture(page, "#swap-image").size == side  # the target's frame, edited
    assert page.locator("#swap-download").get_attribute("download") == "Tony_Blair_0053-swapped.jpg"
    assert page.evaluate("document.getElementById('swap-image').naturalWidth") == side[0]
    shot(page, artifacts, "21-swap-done")


def test_tryon_glasses_and_lipstick(web_page, web_server, artifacts):
    page = web_page
    sign_in(page, web_server.admin_key)
    page.set_input_files("#tryon-file", str(lfw("Tony_Blair_0121.jpg")))
    page.select_option("#tryon-glasses", "aviator")
    page.fill("#tryon-lipstick", "#c01040")  # picking a colour ticks its box
    expect(page.locator("#tryon-lipstick-on")).to_be_checked()
    page.click("#tryon-run")
    assert "Try-on done" in done(page)
    expect(page.locator("#tryon-summary")).to_have_text("try-on: aviator glasses, lipstick #c01040")
    expect(page.locator("#tryon-result .badge")).to_have_text("EDITED")
    edited = np.asarray(picture(page, "#tryon-image").convert("RGB"), dtype=float)
    from PIL import Image

    original = np.asarray(Image.open(lfw("Tony_Blair_0121.jpg")).convert("RGB"), dtype=float)
    assert edited.shape == original.shape
    assert np.abs(edited - original).mean() > 1.0  # glasses and lipstick drawn, not the photo back
    link = page.locator("#tryon-download")
    assert link.get_attribute("href").startswith("data:image/")
    assert link.get_attribute("download") == "Tony_Blair_0121-tryon.jpg"
    shot(page, artifacts, "22-tryon")


def test_live_tryon_shows_a_frame_rate_from_the_webcam(web_page, web_server, artifacts):
    page = web_page
    sign_in(page, web_server.admin_key)
    page.click("#tryon-live-start")  # nothing chosen yet: the page asks for glasses or a colour
    expect(status(page)).to_contain_text("Choose glasses or a make-up colour")
    page.select_option("#tryon-glasses", "round")
    page.click("#tryon-live-start")
    fps = page.locator("#tryon-fps")
    expect(fps).to_have_text(re.compile(r"^Live try-on: \d+\.\d frames/s$"), timeout=SLOW_MS)
    assert float(fps.get_attribute("data-fps")) > 0
    assert page.locator("#tryon-live-image").get_attribute("src").startswith("data:image/")
    assert page.evaluate("document.getElementById('tryon-live-image').naturalWidth") == 320  # the camera's frame
    expect(page.locator("#tryon-live-stop")).to_be_focused()
    page.locator("#tryon-live-stage").scroll_into_view_if_needed()
    shot(page, artifacts, "23-tryon-live")
    page.keyboard.press("Enter")  # Stop, by keyboard
    expect(page.locator("#tryon-live-start")).to_be_enabled()
    expect(page.locator("#tryon-live-stage")).to_be_hidden()


def test_morph_gif_and_mean_face(web_page, web_server, artifacts):
    page = web_page
    sign_in(page, web_server.admin_key)
    photos = [str(lfw(p)) for p in ("George_W_Bush_0007.jpg", "Colin_Powell_0040.jpg", "Tony_Blair_0053.jpg")]
    page.set_input_files("#morph-file", photos[:1])
    page.click("#morph-run")
    expect(status(page)).to_contain_text("two or more photos")
    page.set_input_files("#morph-file", photos)
    page.fill("#morph-frames", "3")
    page.click("#morph-run")
    assert "Morph made" in done(page)
    gif = picture(page, "#morph-image")
    assert gif.format == "GIF" and gif.is_animated and gif.n_frames >= 3  # through three faces
    expect(page.locator("#morph-summary")).to_contain_text("morph through 3 faces")
    expect(page.locator("#morph-image")).to_have_attribute("alt", re.compile(r"^Edited: "))
    assert page.locator("#morph-download").get_attribute("download") == "morph-edited.gif"
    shot(page, artifacts, "24-morph")

    page.check("#morph-mean")
    page.click("#morph-run")
    assert "Mean face made" in done(page)
    mean = picture(page, "#morph-image")
    assert mean.format == "PNG" and mean.size[0] >= 128
    expect(page.locator("#morph-summary")).to_contain_text("mean face of 3 photos")
    shot(page, artifacts, "25-mean-face")


def test_measurements_table_with_uncertainty_and_notice(web_page, web_server, artifacts):
    page = web_page
    sign_in(page, web_server.admin_key)
    page.set_input_files("#face3d-file", str(lfw("George_W_Bush_0007.jpg")))
    page.click("#measure-run")
    assert "Measured" in done(page)
    expect(page.locator("#measure-notice")).to_have_text("Research measurement, not a diagnosis.")
    ipd = page.locator("#measure-table tr[data-measure=ipd]")
    expect(ipd.locator("th")).to_have_text("IPD (pupil distance)")
    value = re.fullmatch(r"(\d+(?:\.\d+)?) mm", ipd.locator("td[data-field=value]").inner_text())
    assert value and 50 <= float(value.group(1)) <= 75, ipd.inner_text()
    spread = re.fullmatch(r"± (\d+(?:\.\d+)?) mm", ipd.locator("td[data-field=uncertainty]").inner_text())
    assert spread and 0 < float(spread.group(1)) < 10
    rows = page.locator("#measure-table tbody tr")
    assert rows.count() >= 15
    for row in page.locator("#measure-table tbody tr[data-empty=true]").all():  # an empty measure says why
        assert row.locator("td[data-field=reason]").inner_text().strip()
    expect(page.locator("#measure-facts")).to_contain_text("mm per pixel")
    shot(page, artifacts, "26-measure")


def test_simulation_before_and_after(web_page, web_server, artifacts):
    page = web_page
    sign_in(page, web_server.admin_key)
    page.set_input_files("#face3d-file", str(lfw("George_W_Bush_0007.jpg")))
    page.click("#simulate-run")
    expect(status(page)).to_contain_text("Move at least one slider")
    assert page.get_attribute("#sim-lips", "max") == "50" and page.get_attribute("#sim-chin", "min") == "-6"
    page.fill("#sim-nose_width", "-15")
    expect(page.locator("#sim-nose_width-range")).to_have_value("-15")
    page.focus("#sim-lips-range")  # a slider moved with the keyboard
    for _ in range(20):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#sim-lips")).to_have_value("20")
    page.click("#simulate-run")
    assert "Simulated" in done(page)
    expect(page.locator("#simulate-summary")).to_have_text("simulated: nose width -15%, lips +20%")
    expect(page.locator("#simulate-notice")).to_contain_text("not a prediction")
    assert page.locator("#simulate-before").get_attribute("src").startswith("blob:")
    after = np.asarray(picture(page, "#simulate-after").convert("RGB"), dtype=float)
    from PIL import Image

    before = np.asarray(Image.open(lfw("George_W_Bush_0007.jpg")).convert("RGB"), dtype=float)
    assert after.shape == before.shape and np.abs(after - before).max() > 30  # the nose and lips moved
    shot(page, artifacts, "27-simulate")


def canvas_pixels(page, selector: str) -> np.ndarray:
    """What a canvas shows, from a screenshot of it (WebGL or 2D alike)."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("RGB"), dtype=float)


def test_avatar_turns_in_the_threejs_viewer(web_page, web_server, artifacts, tmp_path):
    page = web_page
    three = page.request.get(web_server.url + "/static/vendor/three/build/three.module.js")
    assert three.ok and "javascript" in three.headers["content-type"]
    assert hashlib.sha256(three.body()).hexdigest() == "104f56145899722094556490d787aae0617cc2fc3382f31df02d724ea1aee341"
    sign_in(page, web_server.admin_key)
    page.set_input_files("#face3d-file", str(lfw("Tony_Blair_0121.jpg")))
    page.click("#avatar-run")
    assert "Avatar made" in done(page)
    canvas = "#avatar-viewer canvas[data-testid=avatar-canvas]"
    expect(page.locator(canvas)).to_be_visible()
    expect(page.locator("#avatar-viewer")).to_have_attribute("data-frames", re.compile(r"^([2-9]\d|\d{3,})$"))
    assert int(page.get_attribute("#avatar-viewer", "data-vertices")) >= 468
    first = canvas_pixels(page, canvas)
    assert first.std() > 10, "the viewer's canvas is blank"
    background = np.array([48, 48, 48])  # the scene's background, #303030
    assert (np.abs(first - background).sum(axis=2) > 60).mean() > 0.05  # the face covers part of it
    page.wait_for_timeout(700)
    assert np.abs(canvas_pixels(page, canvas) - first).mean() > 0.5, "the avatar does not turn"
    page.locator("#avatar-viewer").scroll_into_view_if_needed()
    shot(page, artifacts, "28-avatar")

    page.click("#avatar-spin")  # stopped: the arrow keys turn it
    expect(page.locator("#avatar-spin")).to_have_attribute("aria-pressed", "false")
    page.focus("#avatar-viewer")
    still = canvas_pixels(page, canvas)
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    assert np.abs(canvas_pixels(page, canvas) - still).mean() > 0.5

    link = page.locator("#avatar-download")
    assert link.get_attribute("href").startswith("blob:") and link.get_attribute("download") == "Tony_Blair_0121.glb"
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "avatar.glb"
    download.value.save_as(saved)
    assert saved.read_bytes()[:4] == b"glTF" and saved.stat().st_size == int(link.get_attribute("data-bytes"))


def test_without_threejs_the_page_names_the_command_that_installs_it(web_page, web_server, artifacts):
    """The store's three.js is stubbed away for this page (as a server without it answers); the avatar itself
    still comes back and can be downloaded."""
    page = web_page
    message = "three.js for the 3D viewer is not installed (three): run `mien models pull three three-core`"
    page.route("**/static/vendor/three/**", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": {"code": "model_not_installed", "message": "%s", "status": 503}}' % message))
    sign_in(page, web_server.admin_key)
    page.set_input_files("#face3d-file", str(lfw("Tony_Blair_0121.jpg")))
    page.click("#avatar-run")
    expect(status(page)).to_have_attribute("data-kind", "error", timeout=SLOW_MS)
    expect(status(page)).to_have_text(f"Not installed: {message}.")
    expect(page.locator("#avatar-download")).to_be_visible()
    assert page.locator("#avatar-download").get_attribute("href").startswith("blob:")
    expect(page.locator("#avatar-viewer canvas")).to_have_count(0)
    shot(page, artifacts, "28b-avatar-without-three")


@pytest.mark.parametrize("kind", ["swap", "tryon"])
def test_video_edit_with_progress_and_download(web_page, web_server, artifacts, tmp_path, kind):
    page = web_page
    sign_in(page, web_server.admin_key)
    clip = write_video(tmp_path / "clip.mp4", ["Tony_Blair_0121.jpg", "Tony_Blair_0053.jpg"], frames_each=5, side=160)
    if kind == "swap":
        page.set_input_files("#swap-video-file", str(clip))
        page.set_input_files("#swap-video-source-file", str(lfw("George_W_Bush_0007.jpg")))
        page.click("#swap-video-run")  # no consent: refused before any job starts
        expect(status(page)).to_have_attribute("data-kind", "error", timeout=SLOW_MS)
        expect(status(page)).to_contain_text("consent")
        page.check("#swap-video-consent")
        page.click("#swap-video-run")
    else:
        page.select_option("#tryon-glasses", "rectangle")
        page.set_input_files("#tryon-video-file", str(clip))
        page.click("#tryon-video-run")
    expect(page.locator("#edit-job")).to_be_visible(timeout=SLOW_MS)
    link = page.locator("#edit-job-download")
    expect(link).to_be_visible(timeout=SLOW_MS)
    assert "Video edited" in done(page)
    expect(page.locator("#edit-job-state")).to_have_text("done")
    assert page.evaluate("document.getElementById('edit-job-progress').value") == 1
    expect(page.locator("#edit-job-summary")).to_contain_text("edited")
    assert link.get_attribute("download") == f"clip-{kind}{'ped' if kind == 'swap' else ''}.mp4"
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "edited.mp4"
    download.value.save_as(saved)
    assert saved.stat().st_size == int(link.get_attribute("data-bytes")) > 1000
    shot(page, artifacts, f"29-video-{kind}")


@pytest.mark.parametrize("web_page", [PHONE], indirect=True)
def test_edit_and_3d_fit_a_phone_and_the_keyboard(web_page, web_server, artifacts):
    page = web_page
    sign_in(page, web_server.admin_key)
    page.set_input_files("#face3d-file", str(lfw("George_W_Bush_0007.jpg")))
    page.focus("#face3d-file")
    stops = []
    for _ in range(8):  # the picker's webcam button, then the Measure form
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.id"))
        if stops[-1] == "measure-run":
            break
    assert stops[-1] == "measure-run", f"tab order from the 3D photo picker: {stops}"
    page.keyboard.press("Enter")
    assert "Measured" in done(page)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    wide = page.evaluate("""(w) => [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > w)
        .map((e) => `${e.tagName}#${e.id}.${e.className}:${Math.round(e.getBoundingClientRect().right)}`).slice(0, 12)""", PHONE["width"])
    assert width <= PHONE["width"], f"horizontal scroll at phone width: {width} px ({wide})"
    page.locator("#measure-table").scroll_into_view_if_needed()
    shot(page, artifacts, "30-phone-edit-3d")


def test_page_policy_allows_only_its_import_map_and_three_is_named_when_missing(tmp_path, monkeypatch):
    """No browser: the CSP's script hash is the page's import map, and without three.js in the store the
    vendor path answers with the command that installs it (the page shows that message)."""
    from fastapi.testclient import TestClient

    from mien.serve.app import WEB, create_app
    from mien.serve.config import ServeConfig

    monkeypatch.setenv("MIEN_HOME", str(tmp_path / "empty-home"))
    with TestClient(create_app(ServeConfig(home=tmp_path / "serve"))) as client:
        policy = client.get("/").headers["content-security-policy"]
        found = re.search(r'<script type="importmap">(.*?)</script>', (WEB / "index.html").read_text(), re.S)
        digest = base64.b64encode(hashlib.sha256(found.group(1).encode()).digest()).decode()
        assert f"script-src 'self' 'sha256-{digest}';" in policy
        assert "default-src 'self';" in policy and "unsafe" not in policy and "http" not in policy
        missing = client.get("/static/vendor/three/build/three.module.js")
        assert missing.status_code == 503
        error = missing.json()["error"]
        assert error["code"] == "model_not_installed" and "mien models pull three three-core" in error["message"]
        assert client.get("/static/vendor/three/package.json").status_code == 404
