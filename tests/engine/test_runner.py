"""The engine process in-process: leases and their fencing, error state, exchange outages,
heartbeat, start/stop as a background task, housekeeping (performance, reports, retention)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal as D
from itertools import pairwise

from cuid2 import Cuid
from sqlalchemy import select, update

from core.db.engine import Database
from core.db.models.bots import Bot, Execution, PerformanceSnapshot
from core.db.models.engine import EngineProcess, ExecutionDaily
from core.db.models.notifications import Notification
from core.db.models.signals import SignalExecution
from core.db.models.trading import ExchangeConnection
from core.engine import housekeeping, leases, performance, registry
from core.engine.ids import fast_id
from core.market.errors import ExchangeUnavailable
from core.market.hub import PriceHub
from core.market.types import Ticker
from core.services import bots as service
from tests.engine.support import START, World, count, executions, world
from tests.waiting import wait_until

SMA = {
    "symbol": "BTC/USDT",
    "timeframe": "1m",
    "indicator": {"name": "sma_cross", "fast": 3, "slow": 8},
}


class DownFeed:
    """An exchange that answers nothing (503)."""

    name = "binance-testnet"
    api_url = "https://testnet.binance.vision"

    async def markets(self):  # type: ignore[no-untyped-def]
        raise ExchangeUnavailable("Binance testnet is unavailable (503); retrying later.")

    async def ticker(self, symbol: str) -> Ticker:
        raise ExchangeUnavailable("Binance testnet is unavailable (503); retrying later.")

    async def tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        raise ExchangeUnavailable("Binance testnet is unavailable (503); retrying later.")

    async def ohlcv(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ExchangeUnavailable("Binance testnet is unavailable (503); retrying later.")

    async def close(self) -> None:
        return None


async def bot_row(w: World, bot_id: str) -> Bot:
    async with w.db.session() as s:
        bot = await s.get(Bot, bot_id)
        assert bot is not None
        return bot


def test_fast_ids_are_cuid2() -> None:
    ids = {fast_id() for _ in range(20_000)}
    assert len(ids) == 20_000
    assert all(len(i) == 25 and Cuid.is_cuid(i) for i in list(ids)[:500])


def test_performance_formulas_by_hand() -> None:
    curve = [D(1000), D(1100), D(990), D(1045)]
    perf = performance.compute(D(1000), curve, [D(60), D(-20), D(-20), D(25)])
    assert perf.total_return == D(45) and perf.total_return_percent == D("4.5")
    assert perf.max_drawdown_percent == D("10")  # 1100 → 990
    assert perf.win_rate == D(50) and perf.profit_factor == D("2.125")  # 85 / 40
    r = [0.1, -0.1, 1045 / 990 - 1]
    mean = sum(r) / 3
    std = (sum((x - mean) ** 2 for x in r) / 2) ** 0.5
    assert perf.sharpe is None  # 3 hourly returns are too few to mean anything
    assert perf.volatility_percent == D(f"{std * 8760**0.5 * 100:.4f}")
    assert perf.risk_score == min(D(100), 2 * D(10) + perf.volatility_percent / 2).quantize(
        D("0.01")
    )
    # From MIN_SHARPE_RETURNS hourly returns on: a gain, Sharpe ≥ 0.5, drawdown ≤ 20 %.
    long = [D(1000) + D(i % 3) * 10 + i for i in range(performance.MIN_SHARPE_RETURNS + 1)]
    steady = performance.compute(D(1000), long, [D(60), D(-20), D(-20), D(25)])
    r = [float(b / a - 1) for a, b in pairwise(long)]
    mean = sum(r) / len(r)
    std = (sum((x - mean) ** 2 for x in r) / (len(r) - 1)) ** 0.5
    assert steady.sharpe == D(f"{mean / std * 8760**0.5:.4f}")
    assert steady.rating == "good"
    flat = performance.compute(D(1000), [D(1000), D(1000)], [])
    assert (flat.sharpe, flat.profit_factor, flat.win_rate, flat.rating) == (None, None, 0, "fair")


async def test_a_lease_fences_every_write_and_expires(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db, lease_seconds=15)
    bot_id = await w.bot("signal", SMA)
    a, b = w.runner(), w.runner()
    now = w.clock.now()
    async with db.sessions.begin() as s:
        claimed = await leases.claim_due(
            s, a.process_id, now=now, cycle_seconds=10, lease_seconds=15, limit=10
        )
    async with db.sessions.begin() as s:
        assert (
            await leases.claim_due(
                s, b.process_id, now=now, cycle_seconds=10, lease_seconds=15, limit=10
            )
            == []
        )
    assert [c.id for c in claimed] == [bot_id]
    # A goes silent past its lease: B takes the bot over and runs the slot
    w.clock.advance(seconds=16)
    later = w.clock.now()
    async with db.sessions.begin() as s:
        taken = await leases.claim_due(
            s, b.process_id, now=later, cycle_seconds=10, lease_seconds=15, limit=10
        )
    assert [t.id for t in taken] == [bot_id]
    from core.engine.cycle import run_batch

    await run_batch(b.ctx, b.watcher, taken, later)
    # A wakes up and finishes its old cycle: its lease is gone, nothing is written
    stats = await run_batch(a.ctx, a.watcher, claimed, now)
    assert (stats.written, stats.dropped) == (0, 1)
    assert [e.execution_id for e in await executions(db, bot_id)] == [taken[0].execution_id]


async def test_a_stopped_bot_drops_its_cycle_in_flight(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot("signal", SMA)
    runner = w.runner()
    async with db.sessions.begin() as s:
        claimed = await leases.claim_due(
            s, runner.process_id, now=w.clock.now(), cycle_seconds=10, lease_seconds=15, limit=10
        )
    async with db.sessions.begin() as s:
        await service.stop_bot(s, w.actor, bot_id, clock=w.clock)
    from core.engine.cycle import run_batch

    stats = await run_batch(runner.ctx, runner.watcher, claimed, w.clock.now())
    assert stats.written == 0 and await executions(db, bot_id) == []


async def test_repeated_failures_put_the_bot_in_error_with_the_message(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot("signal", SMA)
    healthy = await w.bot("signal", SMA, name="healthy")
    async with db.sessions.begin() as s:  # its settings were valid once; now they are not
        await s.execute(
            update(Bot)
            .where(Bot.id == bot_id)
            .values(config={**SMA, "indicator": {"name": "sma_cross", "fast": 9, "slow": 3}})
        )
    runner = w.runner()
    for _ in range(4):
        await w.step(runner)
    bot = await bot_row(w, bot_id)
    assert (bot.status, bot.error_count) == ("error", 3)
    assert "fast (9) must be smaller than slow (3)" in bot.last_error
    done = await executions(db, bot_id)
    assert [e.status for e in done] == ["error"] * 3  # an error bot runs no more cycles
    assert all("fast (9)" in e.error for e in done)
    async with db.session() as s:
        errors = (
            await s.scalars(
                select(Notification).where(
                    Notification.type == "BOT_ERROR", Notification.channel == "IN_APP"
                )
            )
        ).all()
    assert len(errors) == 1 and "failed 3 cycles in a row" in errors[0].message
    assert (await bot_row(w, healthy)).status == "active"
    assert len(await executions(db, healthy)) == 4
    async with db.sessions.begin() as s:  # fixed and started again: the error is cleared
        await s.execute(
            update(Bot).where(Bot.id == bot_id).values(config=SMA, updated_at=w.clock.now())
        )
        view = await service.start_bot(s, w.actor, bot_id, clock=w.clock)
    assert (view.status, view.last_error, view.error_count) == ("active", None, 0)


async def test_an_exchange_outage_backs_off_only_its_bots(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db, cycle_seconds=1, backoff_seconds=5)
    async with db.sessions.begin() as s:
        conn = ExchangeConnection(
            user_id=w.actor.user_id,
            exchange="binance",
            encrypted_api_key="x",
            encrypted_secret_key="y",
            permissions=["read", "trade"],
            is_testnet=True,
        )
        s.add(conn)
        await s.flush()
        conn_id = conn.id
    live = await w.bot(
        "signal", SMA, name="live", paper_trading=False, exchange_connection_id=conn_id
    )
    paper = await w.bot("signal", SMA, name="paper")
    w.markets.hubs.add(PriceHub(DownFeed(), clock=w.clock))
    runner = w.runner()
    await w.step(runner, seconds=1)
    bot = await bot_row(w, live)
    assert (bot.status, bot.error_count, bot.backoff_until) == (
        "active",
        1,
        START + timedelta(seconds=5),
    )
    assert "unavailable (503)" in bot.last_error
    for _ in range(4):  # backing off: the live bot is not even claimed
        await w.step(runner, seconds=1)
    assert len(await executions(db, live)) == 1 and len(await executions(db, paper)) == 5
    await w.step(runner, seconds=1)  # 5 s later: tried again, failed again, waits twice as long
    bot = await bot_row(w, live)
    assert (bot.error_count, bot.backoff_until) == (2, START + timedelta(seconds=5 + 10))
    for _ in range(30):
        await w.step(runner, seconds=1)
    bot = await bot_row(w, live)
    assert bot.status == "active" and bot.error_count >= 3  # an outage never errors a bot out
    assert {e.status for e in await executions(db, paper)} == {"success"}


async def test_runner_runs_in_the_background_and_stops_cleanly(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db, heartbeat_seconds=0.1, price_poll_seconds=0.1)
    bot_id = await w.bot("signal", SMA)
    runner = w.runner()
    assert not await registry.is_engine_alive(db, clock=w.clock)
    await runner.start()
    try:
        await wait_until(lambda: _alive_and_cycled(db, w, bot_id), what="the engine to run a cycle")
        async with db.session() as s:
            [process] = await registry.list_processes(s, now=w.clock.now())
        assert process.id == runner.process_id and process.alive and not process.embedded
    finally:
        await asyncio.wait_for(runner.stop(), 60)
    assert not runner.running
    assert not await registry.is_engine_alive(db, clock=w.clock)
    async with db.session() as s:
        row = await s.get(EngineProcess, runner.process_id)
        held = await s.scalar(select(Bot.lease_owner).where(Bot.id == bot_id))
    assert row.stopped_at is not None and held is None
    assert len(await executions(db, bot_id)) == 1  # one slot of a frozen clock: one cycle


async def _alive_and_cycled(db: Database, w: World, bot_id: str) -> bool:
    return await registry.is_engine_alive(db, clock=w.clock) and bool(await executions(db, bot_id))


async def test_performance_snapshots_and_reports_once_per_period(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot("arbitrage", {"symbol": "BTC/USDT", "simulated_offset_percent": "0.5"})
    w.pin("BTC/USDT", "100")
    runner = w.runner()
    await w.step(runner)
    await runner.housekeeping_once()
    async with db.session() as s:
        [snap] = (await s.scalars(select(PerformanceSnapshot))).all()
    assert (snap.bot_id, snap.total_trades, snap.win_rate) == (bot_id, 1, D(100))
    assert snap.total_return > 0 and snap.rating in ("excellent", "good", "fair", "poor")
    assert snap.metrics["profit_factor"] is None and snap.profit_factor == 0  # no losing trade
    await runner.housekeeping_once()  # within the hour: no second snapshot
    assert await count(db, PerformanceSnapshot) == 1
    # Monday 5 January: the bot didn't run yesterday nor last week, so nothing is reported yet
    w.clock.current = START + timedelta(days=2)  # Wednesday: Tuesday's report is due
    await runner.housekeeping_once()
    await runner.housekeeping_once()
    assert await reports(db) == [("DAILY_REPORT", "2026-01-06")]
    w.clock.current = START + timedelta(days=7)  # the next Monday: the week of 5 January too
    await runner.housekeeping_once()
    assert await reports(db) == [
        ("DAILY_REPORT", "2026-01-06"),
        ("DAILY_REPORT", "2026-01-11"),
        ("WEEKLY_REPORT", "2026-W02"),
    ]
    async with db.session() as s:
        weekly = await s.scalar(select(Notification).where(Notification.type == "WEEKLY_REPORT"))
    assert weekly.metadata_["trades"] == 2 and "arbitrage: 2 trade(s)" in weekly.message
    # Amounts for reading: to the cent with the currency; the exact one stays in the metadata.
    exact = D(weekly.metadata_["realized_pnl"])
    shown = f"{exact.quantize(D('0.01')):+,.2f} USDT"
    assert f"realised P&L {shown}" in weekly.message and f"P&L {shown}" in weekly.title
    assert str(exact.normalize()) not in weekly.message or exact == exact.quantize(D("0.01"))


async def reports(db) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        rows = await s.execute(
            select(Notification.type, Notification.metadata_).where(
                Notification.channel == "IN_APP",
                Notification.type.in_(["DAILY_REPORT", "WEEKLY_REPORT"]),
            )
        )
        return sorted((t.value, m["period"]) for t, m in rows)


async def test_retention_folds_old_holds_and_keeps_trades_and_signal_links(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot("signal", SMA)
    old = START - timedelta(hours=30)
    provider = await w.provider()
    signal_id = await w.signal(provider, "BUY", at=old)
    async with db.sessions.begin() as s:
        for i in range(50):
            s.add(
                Execution(
                    bot_id=bot_id,
                    execution_id=f"{bot_id}-old-{i}",
                    signal="HOLD",
                    confidence=0,
                    reason="x",
                    price=1,
                    indicators={},
                    status="error" if i < 5 else "success",
                    timestamp=old + timedelta(minutes=i),
                )
            )
        s.add(
            Execution(
                bot_id=bot_id,
                execution_id=f"{bot_id}-buy",
                signal="BUY",
                confidence=60,
                reason="x",
                price=1,
                indicators={},
                status="success",
                timestamp=old,
            )
        )
        s.add(
            Execution(
                bot_id=bot_id,
                execution_id=f"{bot_id}-linked",
                signal="HOLD",
                confidence=0,
                reason="x",
                price=1,
                indicators={},
                status="success",
                timestamp=old,
            )
        )
        s.add(
            Execution(
                bot_id=bot_id,
                execution_id=f"{bot_id}-fresh",
                signal="HOLD",
                confidence=0,
                reason="x",
                price=1,
                indicators={},
                status="success",
                timestamp=START - timedelta(hours=1),
            )
        )
        s.add(
            SignalExecution(
                signal_id=signal_id,
                bot_id=bot_id,
                status="skipped",
                reason="x",
                execution_id=f"{bot_id}-linked",
            )
        )
    pruned = await housekeeping.retention(db, START, keep=timedelta(hours=6), batch=20)
    assert pruned == 50
    async with db.session() as s:
        left = set((await s.scalars(select(Execution.execution_id))).all())
        [daily] = (await s.scalars(select(ExecutionDaily))).all()
    assert left == {f"{bot_id}-buy", f"{bot_id}-linked", f"{bot_id}-fresh"}
    assert (daily.bot_id, daily.day, daily.holds, daily.errors) == (bot_id, old.date(), 50, 5)
    assert (daily.first_at, daily.last_at) == (old, old + timedelta(minutes=49))
    assert await housekeeping.retention(db, START, keep=timedelta(hours=6), batch=20) == 0


async def test_due_queue_reports_lag(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    await w.bot("signal", SMA)
    async with db.session() as s:
        queue = await leases.due_queue(
            s, now=w.clock.now() + timedelta(seconds=25), cycle_seconds=10
        )
    assert queue.due == 1 and queue.oldest_lag_seconds == 5.0
