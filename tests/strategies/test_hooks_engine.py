"""One strategy with both per-bar hooks (the docs' ``dip_buyer``) makes the same entries, exits
and position sizes in a backtest as in a paper bot through real engine cycles on the same
candles of the simulated market."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import select

from core.backtest import BacktestSettings, run
from core.db.models.trading import Trade
from core.market.simulated import SimulatedMarket
from core.market.types import Timeframe
from core.strategies import catalog
from core.strategies.candles import Candles, datetime_to_ms
from core.strategies.technical import TechnicalStrategy
from tests.engine.support import SEED, START, executions, world
from tests.strategies.installed import Installer, docs_example, installed

__all__ = ["installed"]

PARAMS = {"name": "dip_buyer", "period": 5, "dip": 0.02, "hold": 4, "stake": 100}
MINUTE = 60_000
STEP_SECONDS, STEPS = 60, 45  # 45 minutes of cycles, one as each one-minute candle closes


def _minute(ms: int) -> int:
    return ms - ms % MINUTE


async def test_hooks_decide_alike_in_a_backtest_and_in_engine_cycles(  # type: ignore[no-untyped-def]
    db, installed: Installer
) -> None:
    installed.add("dip.py", docs_example(1))
    w = await world(db)
    bot_id = await w.bot("signal", {"symbol": "BTC/USDT", "timeframe": "1m", "indicator": PARAMS})
    runner = w.runner()
    for _ in range(STEPS):
        await w.step(runner, seconds=STEP_SECONDS)
    async with db.session() as s:
        rows = list(
            await s.scalars(
                select(Trade).where(Trade.bot_id == bot_id).order_by(Trade.executed_at, Trade.id)
            )
        )
    engine_buys = [(_minute(datetime_to_ms(t.executed_at)), t.quantity * t.price) for t in rows
                   if t.side == "BUY"]  # fmt: skip
    engine_sells = [_minute(datetime_to_ms(t.executed_at)) for t in rows if t.side == "SELL"]

    # the same candles: from the first one the engine's first window decides on (the average
    # needs `period` of them) to the one in progress at the last cycle
    last_cycle = START + timedelta(seconds=STEP_SECONDS * (STEPS - 1))
    market = SimulatedMarket(seed=SEED)
    bars = market.candles(
        "BTC/USDT",
        Timeframe("1m"),
        since=START - timedelta(minutes=PARAMS["period"]),  # type: ignore[operator]
        limit=500,
        now=last_cycle,
    )
    candles = Candles.from_rows(
        [[datetime_to_ms(b.timestamp), b.open, b.high, b.low, b.close, b.volume] for b in bars]
    )
    strategy = TechnicalStrategy(catalog.build("dip_buyer", PARAMS))
    result = run(strategy, candles, BacktestSettings(D(10000), D("0.001"), "1m"))
    entries = [t.entry_ms for t in result.trade_list]
    if result.open_trade is not None:
        entries.append(result.open_trade.entry_ms)
    spent = [round(t.quantity * t.entry_price * D("1.001")) for t in result.trade_list]
    if result.open_trade is not None:
        trade = result.open_trade
        spent.append(round(trade.quantity * trade.entry_price * D("1.001")))

    assert len(result.trade_list) >= 4, "the seeded hour has several dips"
    assert {t.exit_reason for t in result.trade_list} == {"CUSTOM_EXIT"}
    assert set(spent) == {100, 200}, "both sizes of the hook occur"
    # entries and exits in the same candles, each entry of the same size
    assert [ms for ms, _ in engine_buys] == entries
    assert engine_sells == [t.exit_ms for t in result.trade_list]
    for (_, notional), amount in zip(engine_buys, spent, strict=True):
        assert abs(notional - amount) / amount < D("0.01"), (notional, amount)

    # the engine recorded why: the hook's reasons and sizes
    done = await executions(db, bot_id)
    sells = [e for e in done if e.signal == "SELL"]
    assert len(sells) == len(engine_sells)
    assert all(e.reason.startswith("dip_buyer: custom exit: ") for e in sells)
    reasons = {e.reason.removeprefix("dip_buyer: custom exit: ") for e in sells}
    assert reasons <= {"back above the average", f"held {PARAMS['hold']} candles"}
    assert any("Position size 200 (the strategy's position_size)." in e.reason for e in done)
