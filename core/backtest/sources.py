"""Candles from the deterministic simulated market, as a dataset for backtests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.clock import FrozenClock
from core.errors import InvalidInput
from core.market.feed import MAX_CANDLES
from core.market.simulated import DEFAULT_SEED, SimulatedMarket
from core.market.types import Timeframe
from core.strategies.candles import Candles, datetime_to_ms

MAX_SIMULATED = 2_000_000


def simulated_candles(
    symbol: str, timeframe: str, start: datetime, end: datetime, *, seed: int = DEFAULT_SEED
) -> Candles:
    """Every complete candle of the simulated market opening in [start, end)."""
    tf = Timeframe.parse(timeframe)
    start, end = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end))
    if end <= start:
        raise InvalidInput("The end must be after the start.", field="end")
    if (end - start).total_seconds() / tf.seconds > MAX_SIMULATED:
        raise InvalidInput(f"That is more than {MAX_SIMULATED:,} candles.", field="end")
    market = SimulatedMarket(seed=seed, clock=FrozenClock(end))
    end_ms = datetime_to_ms(end)
    rows: list[list] = []
    since = start
    while True:
        batch = market.candles(symbol, tf, since=since, limit=MAX_CANDLES, now=end)
        fresh = [c for c in batch if datetime_to_ms(c.timestamp) < end_ms]  # the last is partial
        rows += [
            [
                datetime_to_ms(c.timestamp),
                str(c.open),
                str(c.high),
                str(c.low),
                str(c.close),
                str(c.volume),
            ]
            for c in fresh
        ]
        if len(batch) < MAX_CANDLES or not fresh:
            break
        since = fresh[-1].timestamp + timedelta(seconds=tf.seconds)
    if not rows:
        raise InvalidInput(
            "The simulated market has no complete candle in that range.", field="start"
        )
    return Candles.from_rows(rows)
