"""Profit by day: days are the user's calendar days, empty days are zeros, only own trades."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.clock import FrozenClock
from core.db.engine import Database
from core.errors import InvalidInput
from core.services import trading
from core.services.daily_profit import daily_profit
from tests.service_users import add_user


async def test_days_follow_the_users_time_zone(db: Database) -> None:
    clock = FrozenClock(datetime(2026, 3, 10, 3, 30, tzinfo=UTC))  # 9 March, 23:30 in New York
    ctx = trading.TradingContext.simulated(seed=11, clock=clock)
    alice = await add_user(db, "alice@example.com", timezone="America/New_York")
    bob = await add_user(db, "bob@example.com")
    try:
        await trading.place_order(
            db, alice, symbol="BTC/USDT", side="buy", quantity="0.01", ctx=ctx
        )
        clock.advance(hours=1)  # 00:30 on 10 March in New York
        await trading.place_order(
            db, alice, symbol="BTC/USDT", side="sell", quantity="0.01", ctx=ctx
        )
        await trading.place_order(db, bob, symbol="BTC/USDT", side="buy", quantity="0.02", ctx=ctx)
    finally:
        await ctx.hubs.close()
    days = await daily_profit(db, alice, days=3, clock=clock)
    assert [d.day for d in days] == [date(2026, 3, 10), date(2026, 3, 9), date(2026, 3, 8)]
    assert [d.trades for d in days] == [1, 1, 0]
    sell, buy, empty = days
    assert buy.realized_pnl == 0 and buy.fees > 0 and buy.volume > 0
    assert sell.realized_pnl != 0  # the sale closed the position
    assert empty.realized_pnl == empty.fees == empty.volume == Decimal(0)
    # Bob in UTC sees his one trade on the 10th, and nothing of Alice's
    (bob_today,) = await daily_profit(db, bob, days=1, clock=clock)
    assert (bob_today.day, bob_today.trades) == (date(2026, 3, 10), 1)


@pytest.mark.parametrize("days", [0, 367, True, "7"])
async def test_bad_day_counts_are_refused(db: Database, days: object) -> None:
    alice = await add_user(db, "alice@example.com")
    with pytest.raises(InvalidInput, match="between 1 and 366"):
        await daily_profit(db, alice, days=days)  # type: ignore[arg-type]
