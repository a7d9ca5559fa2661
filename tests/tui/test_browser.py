"""``blockbotx serve`` in a real browser (headless Chromium through Selenium): the page needs
nothing from another host, keys reach the dashboard without a click, a user signs in and
changes screen, and the favicon is there.

What the browser receives is read from its own websocket frames (Chrome's performance log):
the terminal draws on a canvas, so its text is not in the page."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.db.engine import Database
from core.services import accounts
from tests.tui.auth_helpers import DEVICE

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
EMAIL, PASSWORD = "trader@example.com", "quiet harbour lantern 42"

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None or DRIVER is None,
        reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
    ),
    pytest.mark.slow,  # a real web server and browser
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check, what: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def served(migrated_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": migrated_url}
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve", "--port", str(port), "--no-engine"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as page:
                return page.status == 200
        except OSError:
            return False

    try:
        _wait(up, "the server to answer")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


class Frames:
    """The text of every websocket frame the browser received, read from its performance log
    (terminal escapes and runs of spaces as one space)."""

    def __init__(self, driver) -> None:  # type: ignore[no-untyped-def]
        self.driver = driver
        self.text = ""
        self.requested: list[str] = []

    def read(self) -> str:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.webSocketFrameReceived":
                frame = params["response"]
                data = frame["payloadData"]
                if frame.get("opcode") == 2:
                    data = base64.b64decode(data).decode("utf-8", "replace")
                # styles and cursor moves as one space
                self.text += re.sub(" +", " ", ANSI.sub(" ", data))
            elif message["method"] == "Network.requestWillBeSent":
                self.requested.append(params["request"]["url"])
        return self.text

    def wait_for(self, words: str, what: str) -> None:
        start = len(self.text)
        _wait(lambda: words in self.read()[start:] or words in self.text, what)


async def test_a_browser_signs_in_and_changes_screen(  # type: ignore[no-untyped-def]
    db: Database, served: str, browser
) -> None:
    import asyncio

    await accounts.register(db, email=EMAIL, password=PASSWORD, device=DEVICE)
    await asyncio.to_thread(_sign_in_and_change_screen, browser, served)


def _sign_in_and_change_screen(browser, served: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    frames = Frames(browser)
    browser.get(served + "/")
    frames.wait_for("Sign in to BlockbotX", "the sign-in screen")
    # the page's own font: no other host was asked for anything
    port = served.rsplit(":", 1)[1]
    ours = (f"http://127.0.0.1:{port}/", f"http://localhost:{port}/", f"ws://localhost:{port}/")
    elsewhere = [
        u for u in frames.requested if u.startswith(("http", "ws")) and not u.startswith(ours)
    ]
    assert not elsewhere, elsewhere
    assert "googleapis" not in browser.page_source
    # keys reach the terminal without a click: it has the focus once it draws
    _wait(
        lambda: browser.execute_script(
            "return document.activeElement !== null"
            " && document.activeElement.closest('#terminal') !== null"
        ),
        "the terminal to have the focus",
    )
    # Enter in the email field moves to the password field; wait for its cursor (which splits
    # the placeholder's first letter from the rest) before typing on, as a person would
    ActionChains(browser).send_keys(EMAIL, Keys.ENTER).perform()
    frames.wait_for("p assword or reset token", "the password field's cursor")
    ActionChains(browser).send_keys(PASSWORD, Keys.ENTER).perform()
    frames.wait_for("Portfolio value", "the overview after signing in")
    # served with --no-engine: the overview says nothing runs the bots
    frames.wait_for("Engine stopped", "the engine's state")
    # the header's icon is one the page's font has
    assert "◊" in frames.text and "⭘" not in frames.text
    ActionChains(browser).send_keys("2").perform()
    frames.wait_for("Win rate", "the bots screen")

    with urllib.request.urlopen(served + "/favicon.ico", timeout=10) as icon:
        assert icon.status == 200 and icon.headers["Content-Type"] == "image/svg+xml"
        assert icon.read().startswith(b"<svg")
