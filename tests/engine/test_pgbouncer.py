"""The engine through PgBouncer in transaction pooling: batch leases and writes (driver-level
statements), trades, an exit under its advisory lock, two engines at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import select

from core.db.models.trading import Position
from tests.engine.processes import assert_books_exact, gaps, slots_by_bot
from tests.engine.support import START, world


async def test_engine_cycles_trades_and_exits_through_pgbouncer(bounced_db) -> None:  # type: ignore[no-untyped-def]
    w = await world(bounced_db)
    provider = await w.provider()
    trader = await w.bot(
        "signal",
        {"symbol": "BTC/USDT", "timeframe": "1m", "source": "provider", "provider_id": provider},
        {"stop_loss_percent": "2", "max_position_size": "500"},
    )
    others = [
        await w.bot(
            "signal",
            {"symbol": "ETH/USDT", "timeframe": "1m", "indicator": {"name": "rsi_reversal"}},
            name=f"rsi {i}",
        )
        for i in range(6)
    ]
    w.pin("BTC/USDT", "100")
    await w.signal(provider, "BUY", at=START + timedelta(seconds=5))
    a, b = w.runner(), w.runner()
    for _ in range(8):  # two engines claim side by side through the pooler
        await asyncio.gather(a.run_pass(), b.run_pass())
        w.clock.advance(seconds=10)
    w.pin("BTC/USDT", "98")
    await a.check_exits()
    async with bounced_db.session() as s:
        position = await s.scalar(select(Position).where(Position.bot_id == trader))
    assert (position.status, position.close_reason, position.entry_price) == (
        "closed",
        "STOP_LOSS",
        D(100),
    )
    slots = await slots_by_bot(bounced_db)
    assert set(slots) == {trader, *others}
    assert all(len(s) == 8 and gaps(s) == [] for s in slots.values())
    assert await assert_books_exact(bounced_db) == 2
