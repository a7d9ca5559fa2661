"""``blockbotx signals`` as an operator runs it, against the test database: ``signals serve`` as
a real subprocess (its port, its SIGTERM), the provider commands in process
(tests/cli_runner.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from core.db.engine import Database
from core.db.models.signals import Signal
from core.security.vault import get_vault
from core.services import signals as service
from core.services.actor import SYSTEM, Actor
from core.signals import signing
from tests.cli_runner import outcome
from tests.signals.conftest import body

pytestmark = pytest.mark.slow  # a real subprocess

ROOT = Path(__file__).resolve().parents[2]

# Seconds a subprocess may take to start, answer or stop: a bound for a loaded machine (the
# command line's imports alone took over a minute with two suites and benches side by side),
# not an expectation.
BOUND = 300
TOKEN = "123456789:AAE" + "x" * 30


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "NO_COLOR": "1", "COLUMNS": "200"}


async def _run(url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    return await outcome(url, "signals", *args, stdin=stdin)


async def test_serve_receives_a_signed_signal_and_exits_on_sigterm(
    db: Database, migrated_url: str, alice: Actor
) -> None:
    hook = await service.create_provider(db, alice, name="desk", type="webhook")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", "signals", "serve", "--port", "0", "--log-format", "json",
        cwd=ROOT, env=_env(migrated_url), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        base = None
        while base is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), BOUND)).decode()
            assert line, f"serve exited early: {''.join(seen)}"
            seen.append(line)
            if line.startswith("Receiving signals on "):
                base = line.split()[3].removesuffix("/signals/<provider")
        payload = body(price="65000.25", id="cli-1")
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            signing.TIMESTAMP_HEADER: str(ts),
            signing.SIGNATURE_HEADER: signing.sign(hook.key, ts, payload),  # type: ignore[arg-type]
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(base + hook.info.url, data=payload, headers=headers) as answer:
                assert answer.status == 201, await answer.text()
                signal_id = (await answer.json())["signal_id"]
            async with http.get(base + "/healthz") as health:
                assert health.status == 200
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), BOUND) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    rest = (await proc.stderr.read()).decode()
    output = "".join(seen) + rest
    assert "Traceback" not in output and "Stopped." in rest
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(signal_id in entry["message"] for entry in logged), output
    async with db.session() as s:
        stored = await s.get(Signal, signal_id)
    assert stored is not None and stored.external_id == "cli-1"
    assert str(stored.price) == "65000.250000000000000000000000000000"


async def test_provider_add_list_rotate_remove(
    db: Database, migrated_url: str, alice: Actor
) -> None:
    telegram = (
        "provider", "add", "alerts", "--type", "telegram", "--user", "alice@example.com",
        "--config", '{"chat_ids": [-100]}', "--key-stdin",
    )  # fmt: skip
    code, key, err = await _run(migrated_url, "provider", "add", "House desk")
    tg_code, tg_out, tg_err = await _run(migrated_url, *telegram, stdin=TOKEN + "\n")
    bad, _, bad_err = await _run(
        migrated_url, "provider", "add", "x", "--config", '{"rate_limit_per_minute": -1}'
    )
    assert code == 0, err
    key = key.strip()
    assert key.startswith("bbxsig_") and "shown once" in err
    assert tg_code == 0, tg_err
    assert tg_out == "" and TOKEN not in tg_err  # a given key is never echoed
    assert bad == 1 and "Rate limit per minute" in bad_err and "Traceback" not in bad_err
    house, alerts = sorted(
        await service.list_providers(db, SYSTEM, everyone=True),
        key=lambda p: p.name != "House desk",
    )
    assert house.system and alerts.owner_id == alice.user_id and alerts.type == "telegram"

    code, listing, err = await _run(migrated_url, "provider", "list")
    rot_code, new_key, rot_err = await _run(migrated_url, "provider", "rotate-key", house.id)
    assert code == 0, err
    assert house.id in listing and alerts.id in listing and "system" in listing
    assert rot_code == 0, rot_err
    new_key = new_key.strip()
    assert new_key.startswith("bbxsig_") and new_key != key
    async with db.session() as s:
        from core.db.models.signals import SignalProvider

        sealed = await s.scalar(select(SignalProvider.api_key).where(SignalProvider.id == house.id))
    opened = get_vault().decrypt(
        sealed or "", table="signal_providers", owner_id=house.id, field="api_key"
    )
    assert opened == new_key

    code, _, err = await _run(migrated_url, "provider", "remove", alerts.id, "--yes")
    assert code == 0, err
    assert [p.id for p in await service.list_providers(db, SYSTEM, everyone=True)] == [house.id]
