"""``blockbotx serve``: a browser's websocket gets a dashboard process showing the sign-in."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import aiohttp
import pytest

from core.db.engine import Database

pytestmark = pytest.mark.slow  # a real web server process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_runs_the_dashboard_behind_a_login(db: Database, migrated_url: str) -> None:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": migrated_url}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", "serve", "--port", str(port), "--no-engine",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # the server is up when its page answers
                try:
                    async with http.get(f"http://127.0.0.1:{port}/") as page:
                        assert page.status == 200 and "textual" in (await page.text()).lower()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            seen = ""
            async with http.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws:
                deadline = asyncio.get_running_loop().time() + 30
                while "Sign in to BlockbotX" not in seen:
                    left = deadline - asyncio.get_running_loop().time()
                    assert left > 0, "no sign-in screen from the served dashboard"
                    message = await ws.receive(timeout=left)
                    if message.type == aiohttp.WSMsgType.BINARY:
                        seen += message.data.decode("utf-8", "replace")
                    elif message.type == aiohttp.WSMsgType.TEXT:
                        seen += message.data
                    else:
                        break
            assert "Sign in to BlockbotX" in seen
    finally:
        server.terminate()
        await server.wait()
