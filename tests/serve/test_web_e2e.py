"""The web page end to end: a real `mien serve`, headless Chromium, real LFW photos.

Every test drives the page as a person would (key field, file pickers, buttons) and asserts on
what the page shows. Screenshots of each step go to $MIEN_TEST_ARTIFACTS (else a temporary
folder, printed with -s).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright")
pytest.register_assert_rewrite("conftest_web")
from playwright.sync_api import expect  # noqa: E402

from conftest_web import CAMERA_PERSON, lfw  # noqa: E402

pytest_plugins = ["conftest_web"]

PHONE = {"width": 375, "height": 812}
SLOW_MS = 60_000  # a first call loads its models


def shot(page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def sign_in(page, key: str) -> None:
    page.fill("#api-key", key)
    page.press("#api-key", "Enter")
    expect(page.locator("#whoami")).to_be_visible(timeout=SLOW_MS)


def status(page):
    return page.locator("#status")


def done(page) -> str:
    """Wait for the request the page is running to end; fail with the page's message unless it went well."""
    expect(status(page)).not_to_have_attribute("data-kind", "busy", timeout=SLOW_MS)
    text = status(page).inner_text()
    assert status(page).get_attribute("data-kind") == "ok", f"the page says: {text}"
    return text


def green_pixels(page, canvas: str) -> int:
    """Pixels of the box colour (#00e000) on a canvas."""
    return page.evaluate(
        """(sel) => {
            const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] < 40 && d[i + 1] > 200 && d[i + 2] < 40) n++;
            return n;
        }""",
        canvas,
    )


def enrol(page, name: str, photos: list[str], consent: str = "", expires: str = "", ok: bool = True) -> None:
    page.fill("#enrol-name", name)
    page.set_input_files("#enrol-file", [str(lfw(p)) for p in photos])
    if consent:
        page.fill("#enrol-consent", consent)
    if expires:
        page.fill("#enrol-expires", expires)
    page.click("#enrol-run")
    if not ok:
        expect(status(page)).to_have_attribute("data-kind", "error", timeout=SLOW_MS)
        return
    assert f"Enrolled {name}" in done(page)
    expect(page.locator(f"[data-testid=person-row][data-name={name}]")).to_be_visible()


def identify(page, photo: str | Path) -> str:
    page.set_input_files("#identify-file", str(photo if isinstance(photo, Path) else lfw(photo)))
    page.click("#identify-run")
    assert "Identified" in done(page)
    return page.locator("#identify-name").inner_text()


def test_wrong_key_shows_the_servers_message(web_page, web_server, artifacts):
    bad = "mien_00000000_" + "x" * 32
    answer = web_server.api("GET", "/v1/whoami", key=bad)
    assert answer.status_code == 401
    web_page.fill("#api-key", bad)
    web_page.click("#key-save")
    expect(status(web_page)).to_have_attribute("data-kind", "error")
    expect(status(web_page)).to_contain_text("Key not accepted")
    expect(status(web_page)).to_contain_text(answer.json()["error"]["message"])
    expect(web_page.locator("#whoami")).to_be_hidden()
    assert web_page.evaluate("sessionStorage.length") == 0
    shot(web_page, artifacts, "01-wrong-key")


def test_a_key_without_the_scope_is_told_so(web_page, web_server, artifacts):
    reader = web_server.create_key("e2e reader", "read")
    sign_in(web_page, reader)
    expect(web_page.locator("#whoami-scopes")).to_have_text("read")
    enrol(web_page, "Nobody_Enrolled", ["Tony_Blair_0053.jpg"], ok=False)
    expect(status(web_page)).to_contain_text("Not allowed")
    files = [("images", ("a.jpg", lfw("Tony_Blair_0053.jpg").read_bytes(), "image/jpeg"))]
    answer = web_server.api("POST", "/v1/gallery/enrol", key=reader, data={"name": "Nobody_Enrolled"}, files=files)
    assert answer.status_code == 403
    expect(status(web_page)).to_contain_text(answer.json()["error"]["message"])
    shot(web_page, artifacts, "01b-missing-scope")


@pytest.mark.parametrize("code, http, prefix", [("rate_limited", 429, "Too many requests"), ("busy", 503, "Server busy")])
def test_rate_limit_and_busy_answers_are_explained(web_page, web_server, code, http, prefix):
    """The server's own 429/503 need a flood to provoke; the page's handling is checked on a stubbed answer."""
    sign_in(web_page, web_server.admin_key)
    message = f"stub {code} answer"
    web_page.route("**/v1/analyze", lambda route: route.fulfill(
        status=http, headers={"Retry-After": "2.4"}, content_type="application/json",
        body=f'{{"error": {{"code": "{code}", "message": "{message}", "status": {http}}}}}'))
    web_page.set_input_files("#analyze-file", str(lfw("George_W_Bush_0007.jpg")))
    web_page.click("#analyze-run")
    expect(status(web_page)).to_have_attribute("data-kind", "error")
    expect(status(web_page)).to_have_text(f"{prefix}: {message}. Try again in 3 s.")
    expect(web_page.locator("#busy")).to_be_hidden()
    expect(web_page.locator("#analyze-run")).to_be_enabled()


def test_key_is_kept_for_the_tab_and_forgotten(web_page, web_server, artifacts):
    sign_in(web_page, web_server.admin_key)
    expect(web_page.locator("#whoami-scopes")).to_contain_text("admin")
    expect(web_page.locator("#whoami-gallery")).not_to_be_empty()
    web_page.reload()
    expect(web_page.locator("#whoami")).to_be_visible()  # not asked again
    expect(web_page.locator("#key-form")).to_be_hidden()
    shot(web_page, artifacts, "02-whoami")
    web_page.click("#forget-key")
    expect(web_page.locator("#key-form")).to_be_visible()
    expect(web_page.locator("#api-key")).to_be_focused()
    assert web_page.evaluate("sessionStorage.length") == 0


def test_analyse_one_face_draws_box_landmarks_mesh_and_attributes(web_page, web_server, artifacts):
    sign_in(web_page, web_server.admin_key)
    web_page.set_input_files("#analyze-file", str(lfw("George_W_Bush_0007.jpg")))
    web_page.check("#analyze-mesh")
    web_page.check("#analyze-liveness")
    web_page.click("#analyze-run")
    done(web_page)
    expect(web_page.locator("#faces-count")).to_have_text("faces found: 1")
    canvas = web_page.locator("#analyze-canvas")
    expect(canvas).to_have_attribute("data-boxes", "1")
    expect(canvas).to_have_attribute("data-mesh-points", "468")
    assert green_pixels(web_page, "#analyze-canvas") > 500  # the box's outline
    web_page.uncheck("#analyze-mesh")  # redrawn without asking again
    expect(canvas).to_have_attribute("data-mesh-points", "0")
    web_page.check("#analyze-mesh")
    expect(canvas).to_have_attribute("data-mesh-points", "468")
    face = web_page.locator("[data-testid=face]")
    expect(face).to_have_count(1)
    for field in ("age", "gender", "expression", "pose", "quality", "liveness"):
        expect(face.locator(f"dd[data-field={field}]")).not_to_be_empty()
    expect(face).to_contain_text("experimental")
    assert face.locator("dd[data-field=quality]").inner_text().split()[0] in ("pass", "fail")
    expect(web_page.locator("#analyze-notice")).to_be_visible()  # the liveness models are non-commercial
    expect(web_page.locator("#analyze-notice")).to_contain_text("commercial")
    shot(web_page, artifacts, "03-analyse")


def test_verify_same_person_and_different_people(web_page, web_server, artifacts):
    sign_in(web_page, web_server.admin_key)
    web_page.set_input_files("#verify-a-file", str(lfw("George_W_Bush_0007.jpg")))
    web_page.set_input_files("#verify-b-file", str(lfw("George_W_Bush_0203.jpg")))
    web_page.click("#verify-run")
    expect(web_page.locator("#verify-decision")).to_have_text("same person", timeout=SLOW_MS)
    expect(web_page.locator("#verify-threshold")).not_to_be_empty()
    distance = float(web_page.locator("#verify-distance").inner_text())
    threshold = float(web_page.locator("#verify-threshold").inner_text().split()[0])
    assert distance <= threshold
    shot(web_page, artifacts, "04-verify-same")
    web_page.set_input_files("#verify-b-file", str(lfw("Colin_Powell_0040.jpg")))
    web_page.click("#verify-run")
    expect(web_page.locator("#verify-decision")).to_have_text("different people", timeout=SLOW_MS)
    shot(web_page, artifacts, "05-verify-different")


def test_drop_and_paste_feed_the_photo_pickers(web_page, web_server):
    sign_in(web_page, web_server.admin_key)
    photos = [base64.b64encode(lfw(name).read_bytes()).decode() for name in
              ("George_W_Bush_0007.jpg", "George_W_Bush_0247.jpg")]
    web_page.evaluate(
        """([a, b]) => {
            const file = (b64, name) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, {type: 'image/jpeg'});
            const drop = new DataTransfer();
            drop.items.add(file(a, 'dropped.jpg'));
            document.querySelector('[data-picker=verify-a] .drop').dispatchEvent(
                new DragEvent('drop', {dataTransfer: drop, bubbles: true, cancelable: true}));
            document.getElementById('verify-b-file').focus();
            const paste = new DataTransfer();
            paste.items.add(file(b, 'pasted.jpg'));
            document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: paste, bubbles: true, cancelable: true}));
        }""",
        photos,
    )
    expect(web_page.locator("#verify-a-picked")).to_contain_text("dropped.jpg")
    expect(web_page.locator("#verify-b-picked")).to_contain_text("pasted.jpg")
    web_page.click("#verify-run")
    expect(web_page.locator("#verify-decision")).to_have_text("same person", timeout=SLOW_MS)


def side_by_side(path: Path, *photos: str) -> Path:
    """One picture of several LFW photos next to each other."""
    from PIL import Image

    images = [Image.open(lfw(p)).convert("RGB") for p in photos]
    out = Image.new("RGB", (sum(i.width for i in images), max(i.height for i in images)))
    for i, image in enumerate(images):
        out.paste(image, (sum(im.width for im in images[:i]), 0))
    out.save(path)
    return path


def test_gallery_enrol_identify_unknown_and_remove(web_page, web_server, artifacts, tmp_path):
    sign_in(web_page, web_server.admin_key)
    enrol(web_page, "Tony_Blair", ["Tony_Blair_0053.jpg", "Tony_Blair_0092.jpg"])
    enrol(web_page, "David_Beckham", ["David_Beckham_0016.jpg", "David_Beckham_0020.jpg"])
    shot(web_page, artifacts, "06-enrolled")

    assert identify(web_page, "Tony_Blair_0121.jpg") == "Tony_Blair"
    expect(web_page.locator("#identify-decision")).to_have_text("match")
    shot(web_page, artifacts, "07-identify-match")
    assert identify(web_page, "Colin_Powell_0040.jpg") == "unknown"
    expect(web_page.locator("#identify-decision")).to_have_text("unknown")
    expect(web_page.locator("#identify-canvas")).to_have_attribute("data-boxes", "1")
    shot(web_page, artifacts, "08-identify-unknown")

    web_page.check("#identify-all")
    pair = side_by_side(tmp_path / "pair.jpg", "David_Beckham_0027.jpg", "Colin_Powell_0040.jpg")
    assert sorted(identify(web_page, pair).split(", ")) == ["David_Beckham", "unknown"]
    expect(web_page.locator("#identify-canvas")).to_have_attribute("data-boxes", "2")
    shot(web_page, artifacts, "08b-identify-every-face")
    web_page.uncheck("#identify-all")

    enrol(web_page, "Colin_Powell", ["Colin_Powell_0095.jpg", "Colin_Powell_0133.jpg"],
          consent="e2e test", expires="2099-12-31")
    row = web_page.locator("[data-testid=person-row][data-name=Colin_Powell]")
    expect(row).to_contain_text("e2e test")
    assert identify(web_page, "Colin_Powell_0040.jpg") == "Colin_Powell"

    row.get_by_role("button", name="Remove Colin_Powell").click()
    dialog = web_page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    shot(web_page, artifacts, "09-remove-confirm")
    web_page.click("#confirm-cancel")
    expect(dialog).to_be_hidden()
    expect(row).to_be_visible()
    row.get_by_role("button", name="Remove Colin_Powell").click()
    web_page.click("#confirm-ok")
    assert "Removed Colin_Powell" in done(web_page)
    expect(row).to_have_count(0)
    expect(web_page.locator("[data-testid=person-row]")).to_have_count(2)
    assert identify(web_page, "Colin_Powell_0040.jpg") == "unknown"
    shot(web_page, artifacts, "10-removed")


@pytest.fixture
def camera_person_enrolled(web_server):
    """The person the fake webcam shows, enrolled (by the API) unless a test did it already."""
    listed = web_server.api("GET", "/v1/gallery/identities").json()["identities"]
    if not any(person["name"] == CAMERA_PERSON for person in listed):
        files = [("images", (p, lfw(p).read_bytes(), "image/jpeg")) for p in ("Tony_Blair_0053.jpg", "Tony_Blair_0092.jpg")]
        answer = web_server.api("POST", "/v1/gallery/enrol", data={"name": CAMERA_PERSON}, files=files)
        assert answer.status_code == 200, answer.text
    return CAMERA_PERSON


def test_live_identify_names_the_person_on_the_webcam(web_page, web_server, artifacts, camera_person_enrolled):
    sign_in(web_page, web_server.admin_key)
    web_page.click("#live-start")
    names = web_page.locator("#live-names")
    expect(names).to_contain_text(camera_person_enrolled, timeout=SLOW_MS)
    expect(web_page.locator("#live-canvas")).to_have_attribute("data-boxes", "1")
    assert green_pixels(web_page, "#live-canvas") > 200
    web_page.locator("#live-video").scroll_into_view_if_needed()
    shot(web_page, artifacts, "11-live-identify")
    web_page.click("#live-stop")
    expect(web_page.locator("#live-start")).to_be_enabled()


def test_a_webcam_frame_can_be_analysed(web_page, web_server, artifacts):
    sign_in(web_page, web_server.admin_key)
    web_page.click("#analyze-camera")
    expect(web_page.locator("#camera-dialog")).to_be_visible()
    expect(web_page.locator("#camera-capture")).to_be_enabled()
    expect(web_page.locator("#camera-capture")).to_be_focused()
    assert web_page.evaluate("document.getElementById('camera-video').videoWidth") > 0
    web_page.click("#camera-capture")
    expect(web_page.locator("#analyze-picked")).to_contain_text("webcam")
    web_page.click("#analyze-run")
    expect(web_page.locator("#faces-count")).to_have_text("faces found: 1", timeout=SLOW_MS)
    shot(web_page, artifacts, "12-webcam-frame-analysed")


def test_anonymise_a_photo(web_page, web_server, artifacts):
    sign_in(web_page, web_server.admin_key)
    web_page.set_input_files("#anon-file", str(lfw("Tony_Blair_0121.jpg")))
    web_page.select_option("#anon-method", "pixelate")
    web_page.click("#anon-run")
    expect(web_page.locator("#anon-result")).to_be_visible(timeout=SLOW_MS)
    expect(web_page.locator("#anon-summary")).to_contain_text("1 face hidden")
    assert web_page.locator("#anon-image").get_attribute("src").startswith("data:image/")
    assert web_page.evaluate("document.getElementById('anon-image').naturalWidth") == 150
    assert web_page.locator("#anon-download").get_attribute("href").startswith("data:image/")
    shot(web_page, artifacts, "13-anonymise-photo")


def write_video(path: Path, photos: list[str], frames_each: int = 8) -> Path:
    """A short H.264 clip cut from LFW photos."""
    import av
    from PIL import Image

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 150, 150, "yuv420p"
        for name in photos:
            pixels = np.asarray(Image.open(lfw(name)).convert("RGB").resize((150, 150)))
            for _ in range(frames_each):
                out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode())
    return path


@pytest.mark.parametrize("follow", ["events", "polling"])
def test_anonymise_a_video_with_progress_and_download(web_page, web_server, artifacts, tmp_path, follow):
    sign_in(web_page, web_server.admin_key)
    if follow == "polling":  # the event stream refused: the page polls GET /v1/jobs/{id} instead
        web_page.route("**/v1/jobs/*/events", lambda route: route.fulfill(status=404, body="{}"))
    clip = write_video(tmp_path / "clip.mp4", ["Tony_Blair_0121.jpg", "George_W_Bush_0007.jpg"])
    web_page.set_input_files("#video-file", str(clip))
    web_page.click("#video-run")
    expect(web_page.locator("#job")).to_be_visible(timeout=SLOW_MS)
    link = web_page.locator("#job-download")
    expect(link).to_be_visible(timeout=SLOW_MS)
    assert web_page.evaluate("document.getElementById('job-progress').value") == 1
    expect(web_page.locator("#job-state")).to_have_text("done")
    assert link.get_attribute("href").startswith("blob:")
    assert int(link.get_attribute("data-bytes")) > 1000
    with web_page.expect_download() as download:
        link.click()
    saved = tmp_path / "anonymised.mp4"
    download.value.save_as(saved)
    assert saved.stat().st_size == int(link.get_attribute("data-bytes"))
    shot(web_page, artifacts, f"14-anonymise-video-{follow}")


def test_generate_faces_marked_as_generated(web_page, web_server, artifacts):
    sign_in(web_page, web_server.admin_key)
    web_page.fill("#gen-count", "2")
    web_page.fill("#gen-seed", "7")
    web_page.click("#gen-run")
    done(web_page)
    faces = web_page.locator("[data-testid=generated-face]")
    expect(faces).to_have_count(2, timeout=SLOW_MS)
    for i in range(2):
        expect(faces.nth(i).locator(".badge")).to_have_text("GENERATED")
        assert faces.nth(i).locator("img").get_attribute("src").startswith("data:image/")
    expect(faces.first).to_contain_text("seed 7")
    shot(web_page, artifacts, "15-generate")


@pytest.mark.parametrize("web_page", [PHONE], indirect=True)
def test_phone_width_keyboard_only(web_page, web_server, artifacts):
    page = web_page
    for _ in range(6):  # the key field is among the first stops
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "api-key":
            break
    expect(page.locator("#api-key")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "focus is not visible"
    page.keyboard.type(web_server.admin_key)
    page.keyboard.press("Enter")
    expect(page.locator("#whoami")).to_be_visible(timeout=SLOW_MS)
    expect(page.locator("#whoami")).to_contain_text("admin")

    # a photo and the Analyse button, by keyboard only (the file itself comes from the chooser)
    page.set_input_files("#analyze-file", str(lfw("George_W_Bush_0007.jpg")))
    page.focus("#analyze-file")
    stops = []
    for _ in range(8):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.id"))
        if stops[-1] == "analyze-run":
            break
    assert stops[-1] == "analyze-run", f"tab order from the photo picker: {stops}"
    page.keyboard.press("Enter")
    expect(page.locator("#faces-count")).to_have_text("faces found: 1", timeout=SLOW_MS)

    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"horizontal scroll at phone width: {width} px"
    canvas = page.evaluate("document.getElementById('analyze-canvas').getBoundingClientRect().right")
    assert canvas <= PHONE["width"]
    shot(page, artifacts, "16-phone")
    assert re.search(r"faces found: 1", page.inner_text("main"))
