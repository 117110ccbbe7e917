"""Fixtures for the web page's end-to-end tests: one real `mien serve`, one headless Chromium.

Loaded by ``pytest_plugins = ["conftest_web"]`` in the tests that use it (tests/serve/conftest.py
belongs to the API's own tests). Chromium is Debian's (/usr/bin/chromium, `apt-get install
chromium`, or $MIEN_CHROMIUM); Playwright cannot download its own browser here.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CAMERA_PERSON = "Tony_Blair"
CAMERA_PHOTO = "Tony_Blair_0121.jpg"  # not one of the photos the tests enrol
START_TIMEOUT_S = 90.0


def data_root() -> Path:
    return Path(os.environ.get("MIEN_DATA") or REPO.parent / "shared" / "data")


def lfw(name: str) -> Path:
    """One LFW photo by file name, e.g. lfw("Tony_Blair_0053.jpg")."""
    path = data_root() / "lfw" / "images" / name
    if not path.is_file():
        pytest.fail(f"LFW photo not found: {path}; set MIEN_DATA")
    return path


def chromium_path() -> str:
    path = os.environ.get("MIEN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        message = f"no Chromium at {path} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    admin_key: str
    home: Path
    process: subprocess.Popen
    log: list[str]

    def create_key(self, name: str, *scopes: str, rate: float | None = None) -> str:
        """A new key with these scopes (and its own request rate), made by `mien serve keys create` beside the
        running server."""
        import json

        command = [sys.executable, "-m", "mien", "serve", "keys", "create", "--home", str(self.home), "--name", name,
                   "--json", *(arg for scope in scopes for arg in ("--scope", scope)), *(("--rate", str(rate)) if rate else ())]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)["secret"]

    def api(self, method: str, path: str, key: str | None = None, **kwargs):
        """One call to the API with the admin key (or ``key``), not through the page."""
        import httpx

        headers = {"Authorization": f"Bearer {key or self.admin_key}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=60, **kwargs)


def _read_lines(stream, lines: queue.Queue, log: list[str]) -> None:
    for line in stream:
        log.append(line.rstrip("\n"))
        lines.put(line)


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    """`python -m mien serve` on a free port with its own home and SQLite gallery."""
    import httpx

    home = tmp_path_factory.mktemp("serve-home")
    port = free_port()
    env = {**os.environ, "MIEN_SERVE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "mien", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--store", f"sqlite://{home}/gallery", "--collection", f"sqlite://{home}/collection"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, bufsize=1)
    lines: queue.Queue = queue.Queue()
    log: list[str] = []
    threading.Thread(target=_read_lines, args=(process.stdout, lines, log), daemon=True).start()
    url = key = None
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not (url and key):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("mien serve did not start:\n" + "\n".join(log[-40:]))
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if found := re.search(r"mien: serving (http://\S+)", line):
                url = found.group(1).rstrip("/")
            if found := re.search(r"mien: first admin key: (mien_\S+)", line):
                key = found.group(1)
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("mien serve never answered /health:\n" + "\n".join(log[-40:]))
            time.sleep(0.2)
        yield Server(url, key, home, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def write_y4m(photo: Path, path: Path, frames: int = 30, size: tuple[int, int] = (320, 240)) -> Path:
    """A short YUV4MPEG2 (I420, full range) clip of ``photo`` drifting a few pixels, for Chromium's fake webcam."""
    from PIL import Image

    width, height = size
    face = Image.open(photo).convert("RGB")
    side = min(height, face.height * 2) - 16
    face = face.resize((side, side), Image.BICUBIC)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            shift = round(6 * np.sin(2 * np.pi * i / frames))
            frame = Image.new("RGB", size, (96, 96, 96))
            frame.paste(face, ((width - side) // 2 + shift, 8 + shift // 2))
            y, cb, cr = frame.convert("YCbCr").split()
            half = (width // 2, height // 2)
            out.write(b"FRAME\n")
            out.write(y.tobytes())
            out.write(cb.resize(half, Image.BOX).tobytes())
            out.write(cr.resize(half, Image.BOX).tobytes())
    return path


_shots: list[Path] = []


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    """Where screenshots go: $MIEN_TEST_ARTIFACTS, else a temporary folder (named at the end of the run)."""
    root = os.environ.get("MIEN_TEST_ARTIFACTS")
    folder = Path(root) if root else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    _shots.append(folder)
    return folder


def pytest_terminal_summary(terminalreporter) -> None:
    for folder in _shots:
        terminalreporter.write_line(f"web e2e screenshots: {folder}")


@pytest.fixture(scope="module")
def web_browser(tmp_path_factory):
    """Headless Chromium whose webcam plays a clip of an LFW photo of CAMERA_PERSON."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    clip = write_y4m(lfw(CAMERA_PHOTO), tmp_path_factory.mktemp("camera") / "camera.y4m")
    args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def web_page(web_browser, web_server, request):
    """A fresh page (its own session storage) at the server's /, failing on any page error."""
    viewport = getattr(request, "param", None) or {"width": 1280, "height": 900}
    context = web_browser.new_context(viewport=viewport, base_url=web_server.url)
    context.grant_permissions(["camera"], origin=web_server.url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # console errors too (a Content-Security-Policy refusal is one), but not the log line of each 4xx answer
    page.on("console", lambda msg: msg.type == "error" and not msg.text.startswith("Failed to load resource")
            and errors.append(msg.text))
    page.goto("/")
    page.wait_for_selector("body[data-ready=true]")
    yield page
    context.close()
    assert not errors, f"errors on the page: {errors}"


# --- helpers for driving the page (tests import them) ---

SLOW_MS = 120_000  # a first call loads its models


def shot(page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def sign_in(page, key: str) -> None:
    from playwright.sync_api import expect

    page.fill("#api-key", key)
    page.press("#api-key", "Enter")
    expect(page.locator("#whoami")).to_be_visible(timeout=SLOW_MS)


def done(page) -> str:
    """Wait for the request the page is running to end; fail with the page's message unless it went well."""
    from playwright.sync_api import expect

    status = page.locator("#status")
    expect(status).not_to_have_attribute("data-kind", "busy", timeout=SLOW_MS)
    text = status.inner_text()
    assert status.get_attribute("data-kind") == "ok", f"the page says: {text}"
    return text


def write_video(path: Path, photos: list[str], frames_each: int = 8, side: int = 150) -> Path:
    """A short H.264 clip cut from LFW photos."""
    import av
    from PIL import Image

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = side, side, "yuv420p"
        for name in photos:
            pixels = np.asarray(Image.open(lfw(name)).convert("RGB").resize((side, side)))
            for _ in range(frames_each):
                out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode())
    return path
