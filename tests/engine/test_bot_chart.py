"""A bot's chart: its market's candles with its own fills marked, for its owner only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db.models.trading import Trade
from core.errors import InvalidInput, NotFound
from core.services import charts
from tests.engine.support import world
from tests.service_users import add_user


async def test_a_bot_chart_marks_its_own_fills_on_its_market_candles(db) -> None:  # type: ignore[no-untyped-def]
    w = await world(db)
    bot_id = await w.bot(
        "signal",
        {
            "symbol": "BTC/USDT",
            "timeframe": "1m",
            "indicator": {"name": "sma_cross", "fast": 3, "slow": 8},
        },
        {"stop_loss_percent": "1", "take_profit_percent": "2", "max_position_size": "1000"},
    )
    runner = w.runner()
    for _ in range(90):  # the engine's real cycles: the seeded market crosses within 15 min
        await w.step(runner)
    async with db.session() as s:
        fills = list(await s.scalars(select(Trade).where(Trade.bot_id == bot_id)))
    assert fills

    chart = await charts.bot_chart(db, w.actor, bot_id, w.markets, candles=30)

    assert (chart.symbol, chart.timeframe, len(chart.candles)) == ("BTC/USDT", "1m", 30)
    assert [c.timestamp for c in chart.candles] == sorted(c.timestamp for c in chart.candles)
    since = chart.candles[0].timestamp
    shown = [f for f in fills if f.executed_at >= since]
    assert [(m.at, m.side, m.price) for m in chart.marks] == [
        (f.executed_at, f.side.lower(), f.executed_price)
        for f in sorted(shown, key=lambda f: f.executed_at)
    ]
    assert {m.side for m in chart.marks} <= {"buy", "sell"}

    stranger = await add_user(db, "stranger@example.com")
    with pytest.raises(NotFound):
        await charts.bot_chart(db, stranger, bot_id, w.markets)
    with pytest.raises(InvalidInput):
        await charts.bot_chart(db, w.actor, bot_id, w.markets, candles=1)
