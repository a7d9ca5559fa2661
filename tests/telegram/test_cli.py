"""``blockbotx telegram serve`` as an operator runs it: a real subprocess against the test
database and the local Bot API stand-in."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from core.db.engine import Database
from core.services import telegram_links
from tests.cli_runner import invoke
from tests.notifications.servers import ChatApi, start_http
from tests.service_users import add_user

ROOT = Path(__file__).resolve().parents[2]

# Seconds a subprocess may take to start, answer or stop: a bound for a loaded machine (the
# command line's imports alone took over a minute with two suites and benches side by side),
# not an expectation.
BOUND = 300


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BLOCKBOTX_TELEGRAM_BOT_TOKEN"}
    return {**env, "DATABASE_URL": url, "NO_COLOR": "1", "COLUMNS": "200", **extra}


async def test_serve_pairs_a_chat_answers_it_and_stops_on_sigterm(
    db: Database, migrated_url: str
) -> None:
    api = ChatApi()
    runner, base = await start_http(api)
    ann = await add_user(db, "ann@example.com")
    code = await telegram_links.new_pairing_code(db, ann)
    env = _env(
        migrated_url, BLOCKBOTX_TELEGRAM_BOT_TOKEN=api.token, BLOCKBOTX_TELEGRAM_API_URL=base
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", "telegram", "serve", "--poll-timeout", "1",
        cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        seen = []
        while True:
            line = (await asyncio.wait_for(proc.stderr.readline(), BOUND)).decode()
            assert line, f"serve exited early: {''.join(seen)}"
            seen.append(line)
            if line.startswith("Telegram control running as @blockbotx_test_bot"):
                break
        await api.user_says(42, f"/start {code.code}")
        (answer,) = await api.wait_sent(42, 1)
        assert "now controls your BlockbotX account" in answer["text"]
        await api.user_says(42, "/bots")
        assert (await api.wait_sent(42, 2))[-1]["text"] == "No bots yet."
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), BOUND)
        seen.append((await proc.stderr.read()).decode())
        assert code == 0, "".join(seen)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await runner.cleanup()
    assert "Traceback" not in "".join(seen)
    assert (await telegram_links.link_state(db, ann)).chat == "42"


async def test_serve_without_a_token_or_with_a_wrong_one_says_so(migrated_url: str) -> None:
    api = ChatApi()
    runner, base = await start_http(api)
    try:
        # refused before it touches signals or the network: in this process (tests/cli_runner.py)
        alone = await invoke(
            migrated_url, "telegram", "serve", BLOCKBOTX_TELEGRAM_API_URL=base,
            BLOCKBOTX_TELEGRAM_BOT_TOKEN=None,
        )  # fmt: skip
        assert alone.exit_code == 1, alone.stderr
        assert "set telegram_bot_token" in alone.stderr and "Traceback" not in alone.stderr
        # the wrong token is found with the signal handlers set: only a main thread may do that
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui.cli", "telegram", "serve",
            cwd=ROOT, env=_env(
                migrated_url, BLOCKBOTX_TELEGRAM_API_URL=base,
                BLOCKBOTX_TELEGRAM_BOT_TOKEN="999:WRONG",
            ),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), BOUND)
        assert proc.returncode == 1, err
        assert "refused the bot token" in err.decode() and "Traceback" not in err.decode()
    finally:
        await runner.cleanup()
