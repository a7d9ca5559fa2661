"""Real ``blockbotx engine`` processes against one database: two share the bots, one killed
with SIGKILL hands its bots over once its lease runs out, SIGTERM stops a busy engine cleanly, and
a PostgreSQL restart under a running engine loses no cycle and duplicates no trade."""

from __future__ import annotations

import asyncio
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import migrate
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.engine import EngineProcess
from core.services import bots as service
from core.services.bot_views import BotSpec
from tests.engine.processes import (
    alive_engines,
    assert_books_exact,
    bots_run_after,
    gaps,
    slots_by_bot,
    spawn,
    wait_for,
)
from tests.service_users import add_user

pytestmark = pytest.mark.slow  # real engine processes and a private PostgreSQL

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT")
LEASE = 3


def specs(n: int) -> list[BotSpec]:
    """Half DCA bots that trade every few seconds (tiny ladder and take-profit), half signal
    bots that mostly hold."""
    out = []
    for i in range(n):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        if i % 2:
            out.append(
                BotSpec(
                    f"dca {i}",
                    "dca",
                    {
                        "symbol": symbol,
                        "timeframe": "1m",
                        "quote_amount": "50",
                        "cooldown_minutes": 0,
                        "levels": [{"drop_percent": "0.01", "buy_percent": "20"}],
                        "max_buys": 3,
                        "take_profit_percent": "0.01",
                    },
                )
            )
        else:
            out.append(
                BotSpec(
                    f"signal {i}",
                    "signal",
                    {
                        "symbol": symbol,
                        "timeframe": "1m",
                        "indicator": {"name": "ema_cross", "fast": 2, "slow": 5},
                    },
                    {
                        "stop_loss_percent": "0.05",
                        "take_profit_percent": "0.05",
                        "max_position_size": "200",
                    },
                )
            )
    return out


async def fleet(db: Database, n: int) -> list[str]:
    actor = await add_user(db, "fleet@example.com", plan="enterprise")
    ids = []
    async with db.sessions.begin() as s:
        for spec in specs(n):
            view = await service.create_bot(s, actor, spec)
            await service.start_bot(s, actor, view.id)
            ids.append(view.id)
    return ids


async def engine_rows(db: Database) -> list[EngineProcess]:
    async with db.session() as s:
        return list(await s.scalars(select(EngineProcess)))


async def test_two_engines_share_bots_and_a_killed_ones_bots_move_on(
    db, migrated_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    bots = await fleet(db, 16)
    a = spawn(migrated_url, tmp_path / "a.log")
    b = spawn(migrated_url, tmp_path / "b.log")
    try:
        await wait_for(lambda: _count_is(db, 2), 120, "two engines to register")
        await wait_for(lambda: _both_working(db), 120, "both engines to run cycles")
        killed_at = time.time()
        a.kill()
        # the killed engine's bots are free again when its lease runs out, and carry on
        await wait_for(
            lambda: _every_bot_ran_after(db, bots, killed_at + LEASE + 3),
            120,
            "every bot to run again after the kill",
        )
        b.signal(signal.SIGTERM)
        assert b.wait(120) == 0, b.output()
    finally:
        for engine in (a, b):
            if engine.process.poll() is None:
                engine.process.kill()
    slots = await slots_by_bot(db)
    assert set(slots) == set(bots)
    for bot_id in bots:
        assert gaps(slots[bot_id]) == [], bot_id  # every due slot ran, each exactly once
    assert await assert_books_exact(db) > 0


async def _both_working(db: Database) -> bool:
    rows = await engine_rows(db)
    return len(rows) == 2 and all(r.cycles_total > 0 for r in rows)


async def _every_bot_ran_after(db: Database, bots: list[str], moment: float) -> bool:
    return await bots_run_after(db, bots, moment) == len(bots)


async def _count_is(db: Database, n: int) -> bool:
    return await alive_engines(db) == n


async def _every_bot_reached(db: Database, bots: list[str], slot: int) -> bool:
    slots = await slots_by_bot(db)
    return all(slots.get(bot_id) and slots[bot_id][-1] >= slot for bot_id in bots)


async def test_sigterm_stops_a_busy_engine_cleanly_leaving_nothing_held(
    db, migrated_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    bots = await fleet(db, 200)
    engine = spawn(migrated_url, tmp_path / "engine.log", "--log-format", "json")
    try:
        await wait_for(lambda: _count_is(db, 1), 120, "the engine to register")
        await wait_for(lambda: _every_bot_ran_after(db, bots, 0), 300, "every bot to run a cycle")
        engine.signal(signal.SIGTERM)
        code = engine.wait(120)
    finally:
        if engine.process.poll() is None:
            engine.process.kill()
    assert code == 0, engine.output()
    async with db.session() as s:
        held = await s.scalar(
            select(func.count()).select_from(Bot).where(Bot.lease_owner.is_not(None))
        )
        [row] = (await s.scalars(select(EngineProcess))).all()
    assert held == 0 and row.stopped_at is not None and row.cycles_total > 0
    assert set(await slots_by_bot(db)) == set(bots)
    await assert_books_exact(db)  # the cycle in flight was finished or not written at all
    assert '"message": "engine' in engine.output()  # JSON log lines on stderr


async def test_once_runs_every_due_bot_and_exits(db, migrated_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bots = await fleet(db, 6)
    engine = spawn(migrated_url, tmp_path / "once.log", "--once", modules=True)
    assert engine.wait(240) == 0, engine.output()
    assert "6 cycle(s) run" in engine.output()
    assert set(await slots_by_bot(db)) == set(bots)
    # paper bots on the simulated market: ccxt (1-2 s of CPU to import) is never loaded
    assert not {m for m in engine.imported() if m.split(".")[0] == "ccxt"}


# -- PostgreSQL restarted under a running engine ------------------------------------------------


@pytest.fixture
def private_server():  # type: ignore[no-untyped-def]
    """A PostgreSQL of this test's own (restarting the shared one would break other tests), in
    a directory the server's own user can reach."""
    import pgserver

    root = Path(tempfile.mkdtemp(prefix="blockbotx-restart-"))
    root.chmod(0o755)
    server = pgserver.get_server(root / "pgdata", cleanup_mode="stop")
    yield server
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def _pg_ctl(server, *args: str) -> None:  # type: ignore[no-untyped-def]
    from pgserver._commands import pg_ctl

    pg_ctl(list(args), pgdata=server.pgdata, user=server.system_user, timeout=30)


async def test_engine_rides_out_a_postgresql_restart(private_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    socket_dir = private_server.get_uri().split("host=", 1)[1].split("&", 1)[0]
    private_server.psql('CREATE DATABASE "restart";')
    url = f"postgresql+asyncpg://postgres@/restart?host={socket_dir}"
    db = Database(url)
    try:
        await migrate.upgrade(db)
        bots = await fleet(db, 12)
        # However long a loaded machine takes to restart the server and reconnect, every missed
        # slot is caught up (the default gives up after 30), so the outcome can't hang on speed.
        engine = spawn(url, tmp_path / "engine.log", BLOCKBOTX_ENGINE_CATCH_UP_SLOTS="100000")
        try:
            await wait_for(lambda: _count_is(db, 1), 120, "the engine to register")
            await wait_for(lambda: _every_bot_ran_after(db, bots, 0), 120, "every bot to cycle")
            await db.dispose()
            down = time.time()
            _pg_ctl(private_server, "-w", "-m", "fast", "stop")
            await asyncio.sleep(3)  # the outage itself: a few slots fall due meanwhile
            _pg_ctl(
                private_server,
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {socket_dir}",
                "-l",
                str(private_server.log),
                "start",
            )
            up = time.time()
            # the slots missed meanwhile are caught up one after another: wait until each bot
            # has reached the slot of the restart
            await wait_for(lambda: _every_bot_reached(db, bots, int(up)), 300, "the catch-up")
            assert engine.process.poll() is None, engine.output()  # it waited, it didn't die
            engine.signal(signal.SIGTERM)
            assert engine.wait(120) == 0, engine.output()
        finally:
            if engine.process.poll() is None:
                engine.process.kill()
        slots = await slots_by_bot(db)
        assert set(slots) == set(bots)
        for bot_id in bots:
            # the slots the database was away for ran once it was back, each exactly once
            assert gaps(slots[bot_id]) == [], bot_id
            assert set(range(int(down) + 1, int(up))) <= set(slots[bot_id])
        assert await assert_books_exact(db) > 0
        assert "engine scheduler" in engine.output() or "retrying" in engine.output()
    finally:
        await db.dispose()
