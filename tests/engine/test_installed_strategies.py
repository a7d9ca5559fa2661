"""Installed strategies in real engine cycles: the docs example trades in a paper bot; one that
raises and one that hangs each put their own bot in the error state while the engine and the
other bots carry on."""

from __future__ import annotations

from sqlalchemy import select

from core.db.models.bots import Bot
from core.db.models.trading import Trade
from tests.engine.support import executions, world
from tests.strategies.gate import RELEASE
from tests.strategies.installed import HANGS, RAISES, Installer, docs_example, installed

__all__ = ["installed"]

BASE = {"symbol": "BTC/USDT", "timeframe": "1m"}
SMA = {**BASE, "indicator": {"name": "sma_cross", "fast": 3, "slow": 8}}


async def _bot(w, bot_id: str) -> Bot:  # type: ignore[no-untyped-def]
    async with w.db.session() as s:
        return await s.get(Bot, bot_id)


async def test_the_docs_example_trades_in_a_paper_bot(db, installed: Installer) -> None:  # type: ignore[no-untyped-def]
    installed.add("donchian.py", docs_example())
    w = await world(db)
    bot_id = await w.bot(
        "signal",
        {**BASE, "indicator": {"name": "donchian_breakout", "entry": 3, "exit": 3}},
        {"max_position_size": "1000"},
    )
    runner = w.runner()
    for _ in range(120):
        await w.step(runner)
    done = await executions(db, bot_id)
    assert done and {e.status for e in done} == {"success"}
    buys = [e for e in done if e.signal == "BUY"]
    assert buys, "the seeded market breaks out of a 3-minute channel within 20 minutes"
    assert buys[0].indicators.keys() == {"channel_high", "channel_low"}
    assert buys[0].reason == "donchian_breakout: entry signal."
    async with db.session() as s:
        trades = list(await s.scalars(select(Trade).where(Trade.bot_id == bot_id)))
    assert "BUY" in {t.side for t in trades}


async def test_a_strategy_that_raises_fails_only_its_own_bot(db, installed: Installer) -> None:  # type: ignore[no-untyped-def]
    installed.add("boom.py", RAISES)
    w = await world(db)
    broken = await w.bot("signal", {**BASE, "indicator": {"name": "boom"}}, name="broken")
    healthy = await w.bot("signal", SMA, name="healthy")
    runner = w.runner()
    for _ in range(5):
        await w.step(runner)
    bot = await _bot(w, broken)
    assert (bot.status, bot.error_count) == ("error", 3)
    assert bot.last_error == "Strategy 'boom' failed: RuntimeError: division by the author"
    assert [e.status for e in await executions(db, broken)] == ["error"] * 3
    fine = await executions(db, healthy)
    assert len(fine) == 5 and {e.status for e in fine} == {"success"}


async def test_a_strategy_that_hangs_fails_its_bot_within_the_time_limit(  # type: ignore[no-untyped-def]
    db, installed: Installer
) -> None:
    installed.add("stuck.py", HANGS)
    w = await world(db, strategy_timeout_seconds=0.5)
    stuck = await w.bot("signal", {**BASE, "indicator": {"name": "stuck"}}, name="stuck")
    healthy = await w.bot("signal", SMA, name="healthy")
    runner = w.runner()
    try:
        for _ in range(5):
            await w.step(runner)
        bot = await _bot(w, stuck)
        assert (bot.status, bot.error_count) == ("error", 3)
        errors = [e.error for e in await executions(db, stuck)]
        assert errors[0] == "Strategy 'stuck' did not finish within 0.5 s " + (
            "(BLOCKBOTX_ENGINE_STRATEGY_TIMEOUT_SECONDS)"
        )
        # the hung thread is not started again: later cycles fail at once
        assert all("is still running a computation" in e for e in errors[1:]) and len(errors) == 3
        assert bot.last_error == errors[-1]
        fine = await executions(db, healthy)
        assert len(fine) == 5 and {e.status for e in fine} == {"success"}
    finally:
        RELEASE.set()
