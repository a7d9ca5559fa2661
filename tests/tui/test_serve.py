"""``blockbotx serve``: every browser's websocket gets a dashboard process showing the sign-in,
even when the server's OS user has a remembered session, and even when the server runs in a
directory whose ``core/`` and ``tui/`` folders would shadow the package."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from core.db.engine import Database
from core.services import accounts
from core.services.remembered import RememberedSession
from tests.tui.auth_helpers import DEVICE, PASSWORD, make_auth
from tui.cli import serve

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # a real web server process

# Seconds to wait for the server, then for a tab's dashboard process (both import the whole
# dashboard): a bound for a loaded machine, not an expectation.
TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _shadowing_folder(tmp_path: Path) -> Path:
    """A working directory with ``core/`` and ``tui/`` packages that fail on import."""
    here = tmp_path / "project"
    for package in ("core", "tui"):
        (here / package).mkdir(parents=True)
        (here / package / "__init__.py").write_text(f"raise SystemExit('shadowed {package}')\n")
    return here


async def _screen_of_a_new_browser(port: int) -> str:
    """What a fresh browser (no cookies) is shown, until the sign-in screen (or the overview)
    appears; the bound is generous, as a loaded machine starts the tab's process slowly."""
    seen = ""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws,
    ):
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while "Sign in to BlockbotX" not in seen and "Overview" not in seen:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            try:
                message = await ws.receive(timeout=left)
            except TimeoutError:
                break
            if message.type == aiohttp.WSMsgType.BINARY:
                seen += message.data.decode("utf-8", "replace")
            elif message.type == aiohttp.WSMsgType.TEXT:
                seen += message.data
            else:
                break
    return seen


async def _wait_until_up(port: int) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    async with aiohttp.ClientSession() as http:
        while asyncio.get_running_loop().time() < deadline:  # up when its page answers
            try:
                async with http.get(f"http://127.0.0.1:{port}/") as page:
                    assert page.status == 200 and "textual" in (await page.text()).lower()
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"blockbotx serve never answered in {TIMEOUT} s")


async def test_serve_never_signs_a_browser_in_as_the_remembered_user(
    db: Database, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOCKBOTX_CONFIG_DIR", str(tmp_path / "config"))
    auth = make_auth()
    await accounts.register(db, email="op@example.com", password=PASSWORD, device=DEVICE, auth=auth)
    signed = await accounts.login(
        db, email="op@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    # What a terminal sign-in with "Remember me" by the server's OS user leaves behind.
    remembered = RememberedSession(migrated_url)
    remembered.save(signed.session.refresh_token)

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": migrated_url, "PYTHONPATH": str(REPO)}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-P", "-m", "tui.cli", "serve", "--port", str(port), "--no-engine",
        cwd=_shadowing_folder(tmp_path), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await _wait_until_up(port)
        for browser in ("first", "second"):
            seen = await _screen_of_a_new_browser(port)
            assert "Sign in to BlockbotX" in seen, f"the {browser} browser got no sign-in screen"
            assert "Remember me" not in seen
    finally:
        server.terminate()
        await server.wait()
    # The OS user's own remembered session was neither used nor removed: it is still valid.
    assert remembered.load() == signed.session.refresh_token
    assert await accounts.refresh(db, remembered.load() or "", device=DEVICE, auth=auth)


def test_a_tabs_process_is_served_and_ignores_its_working_directory() -> None:
    command = serve.child_command(no_engine=True)
    assert command[:5] == [sys.executable, "-P", "-m", "tui.cli", "--served"]
    assert command[5:] == ["--no-engine"]
    assert serve.package_root() == REPO
    assert serve.child_pythonpath("/elsewhere").split(os.pathsep) == [str(REPO), "/elsewhere"]
