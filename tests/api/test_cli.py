"""``blockbotx api-key`` and ``blockbotx api serve`` as an operator runs them, against the test
database: ``api serve`` as a real subprocess (its signals and its port), the short commands in
process (tests/cli_runner.py) except one ``api-key create`` run as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.users import ApiKey
from core.services import api_keys
from core.services.lockout import AuthenticationFailed
from tests.api.conftest import key_for
from tests.cli_runner import outcome
from tests.service_users import add_user

pytestmark = pytest.mark.slow  # real subprocesses (api serve, one api-key create)

ROOT = Path(__file__).resolve().parents[2]

# Seconds a subprocess may take to start, answer or stop: a bound for a loaded machine (the
# command line's imports alone took over a minute with two suites and benches side by side),
# not an expectation.
BOUND = 300


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "NO_COLOR": "1", "COLUMNS": "200"}


async def _run(url: str, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", *args, cwd=ROOT, env=_env(url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), BOUND)
    return int(proc.returncode or 0), out.decode(), err.decode()


async def _keys(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(ApiKey)) or 0)


async def test_api_key_create_list_revoke(db: Database, migrated_url: str) -> None:
    alice = await add_user(db, "alice@example.com")
    code, out, err = await _run(
        migrated_url, "api-key", "create", "--user", "Alice@Example.com",
        "--scopes", "read,bots", "--name", "grafana", "--expires", "30",
    )  # fmt: skip
    assert code == 0, err
    key = out.splitlines()[-1]
    assert key.startswith("bbx_") and key.count(" ") == 0 and "shown once" in out
    assert (await api_keys.authenticate_api_key(db, key, scope="bots")).user_id == alice.user_id

    code, listing, err = await outcome(
        migrated_url, "api-key", "list", "--user", "alice@example.com", "--json"
    )
    text_code, text, _ = await outcome(
        migrated_url, "api-key", "list", "--user", "alice@example.com"
    )
    assert code == 0 and text_code == 0, err
    (row,) = json.loads(listing)
    assert row["name"] == "grafana" and row["scopes"] == ["bots", "read"] and row["active"]
    assert row["prefix"] == key[:12] and key not in listing and key not in text
    assert row["expires_at"] is not None and row["last_used_at"] is not None

    code, out, err = await outcome(migrated_url, "api-key", "revoke", row["id"])
    assert code == 0 and "Revoked" in out, err
    with pytest.raises(AuthenticationFailed):
        await api_keys.authenticate_api_key(db, key)
    code, _, err = await outcome(migrated_url, "api-key", "revoke", row["id"])
    assert code == 1 and "already revoked" in err and "Traceback" not in err


async def test_api_key_bad_input_is_one_clear_line_and_creates_nothing(
    db: Database, migrated_url: str
) -> None:
    await add_user(db, "alice@example.com")
    runs = [
        await outcome(migrated_url, *args)
        for args in (
            ("api-key", "create", "--user", "alice@example.com", "--scopes", "read,launch"),
            ("api-key", "create", "--user", "nobody@example.com", "--scopes", "read"),
            ("api-key", "create", "--user", "alice@example.com", "--scopes", "read", "--expires", "0"),
            ("api-key", "revoke", "no-such-key"),
        )
    ]  # fmt: skip
    expected = ("Scopes must be some of", "No user", "Expiry must be between", "No API key")
    for (code, out, err), message in zip(runs, expected, strict=True):
        assert code == 1 and message in err and "Traceback" not in err and out == "", err
    assert await _keys(db) == 0


async def _lines_until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> str:
    while True:
        line = (await asyncio.wait_for(stream.readline(), BOUND)).decode()
        assert line, f"the server exited early: {''.join(seen)}"
        seen.append(line)
        if marker in line:
            return line


async def test_serve_answers_and_sigterm_finishes_the_request_in_flight(
    db: Database, migrated_url: str
) -> None:
    alice = await add_user(db, "alice@example.com")
    key = await key_for(db, alice, "read", "bots")
    other = await key_for(db, alice, "read", name="other")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", "api", "serve", "--port", "0", "--log-format", "json",
        "--burst", "3", "--rate", "0.01",
        cwd=ROOT, env=_env(migrated_url), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        ready = await _lines_until(proc.stderr, "Serving the API on ", seen)
        base = ready.split()[4].removesuffix("/api/v1")
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            assert (await http.get("/api/v1/account")).json()["email"] == "alice@example.com"
            limited = [
                (await http.get("/api/v1/account", headers={"Authorization": f"Bearer {other}"}))
                for _ in range(4)
            ]
            assert [a.status_code for a in limited] == [200, 200, 200, 429]  # --burst 3
            # a request in flight: headers sent, the body still coming
            body = json.dumps({"name": "Late", "type": "signal"}).encode()
            host, port = base.removeprefix("http://").rsplit(":", 1)
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                f"POST /api/v1/bots HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body[:10]
            )
            await writer.drain()
            # another request answered after it: the server has read the first one's headers
            assert (await http.get("/api/v1/bots")).status_code == 200
        proc.send_signal(signal.SIGTERM)
        await _lines_until(proc.stderr, "Waiting for connections to close", seen)
        writer.write(body[10:])
        await writer.drain()
        answer = (await asyncio.wait_for(reader.read(), BOUND)).decode()
        writer.close()
        assert answer.startswith("HTTP/1.1 201"), answer
        assert await asyncio.wait_for(proc.wait(), BOUND) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    rest = (await proc.stderr.read()).decode()
    output = "".join(seen) + rest
    assert "Traceback" not in output and "Stopped." in rest
    assert any(line.startswith("{") for line in output.splitlines())  # --log-format json
    async with db.session() as s:
        assert await s.scalar(select(Bot.name).where(Bot.user_id == alice.user_id)) == "Late"


async def test_serve_on_a_busy_port_is_one_clear_line(migrated_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = await _run(migrated_url, "api", "serve", "--port", str(port))
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}" in err, err
    assert "Traceback" not in err and out == ""
