"""Candle history from an exchange's public OHLCV endpoint (ccxt ``fetch_ohlcv``; no keys).

The history is read page by page from the start: each request asks for the candles from the
one after the last received, as many as the exchange hands out at once (1,000 on Binance).
ccxt's own limiter spaces the requests by the exchange's published rate limit; an answer that
says "too many requests" (or a server hiccup, or a timeout) is retried after a pause that
doubles each time. Only complete candles are kept: the one still forming is left out.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import InvalidInput
from core.market.ccxt_client import ExchangeFactory
from core.market.errors import UnknownSymbol, translate, venue_name
from core.market.lazy_ccxt import ccxt
from core.strategies.candles import Candles, datetime_to_ms, ms_to_datetime, timeframe_seconds

PAGE_LIMITS = {"binance": 1000, "okx": 100}
"""Candles per request each exchange allows (ccxt passes ``limit`` through)."""
MAX_FETCHED = 2_000_000
RETRIES = 5

Progress = Callable[[int, int], None]


async def exchange_candles(
    exchange_id: str,
    symbol: str,
    timeframe: str,
    since: datetime,
    until: datetime | None = None,
    *,
    testnet: bool = False,
    factory: ExchangeFactory | None = None,
    clock: Clock = SYSTEM_CLOCK,
    progress: Progress | None = None,
    retry_delay: float = 1.0,
) -> Candles:
    """Every complete ``symbol`` candle opening in [since, until) (until: now)."""
    tf_ms = timeframe_seconds(timeframe) * 1000
    now_ms = datetime_to_ms(clock.now())
    since_ms = datetime_to_ms(_utc(since))
    # candles opening before end_ms: in the range, and complete (open + timeframe <= now)
    end_ms = now_ms - tf_ms + 1
    if until is not None:
        end_ms = min(end_ms, datetime_to_ms(_utc(until)))
    if since_ms >= end_ms:
        raise InvalidInput(
            "The start must be before the end, and a whole candle before now.", field="since"
        )
    expected = math.ceil((end_ms - since_ms) / tf_ms)
    if expected > MAX_FETCHED:
        raise InvalidInput(
            f"That is about {expected:,} candles; fetch at most {MAX_FETCHED:,} at a time.",
            field="since",
        )
    exchange = (factory or ExchangeFactory()).create(exchange_id, testnet=testnet)
    venue = venue_name(exchange_id, testnet=testnet)

    async def call(method: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        for attempt in range(RETRIES + 1):
            try:
                return await method(*args)
            except ccxt.BaseError as exc:
                error = translate(exc, venue)
                if not getattr(error, "retryable", False) or attempt == RETRIES:
                    raise error from None
            await asyncio.sleep(retry_delay * 2**attempt)
        raise AssertionError("unreachable")

    rows: list[list[Any]] = []
    try:
        markets = await call(exchange.load_markets)
        if symbol not in markets:
            raise UnknownSymbol(f"{venue} does not list {symbol}.", field="symbol")
        offered = exchange.timeframes or {}
        if offered and timeframe not in offered:
            raise InvalidInput(
                f"{venue} has no {timeframe} candles; it offers {', '.join(offered)}.",
                field="timeframe",
            )
        limit = PAGE_LIMITS.get(exchange_id, 500)
        cursor = since_ms
        while cursor < end_ms:
            page = await call(exchange.fetch_ohlcv, symbol, timeframe, cursor, limit)
            fresh = [r for r in page if cursor <= r[0] < end_ms]
            if not fresh:
                break  # nothing more in the range (or an exchange that ignored ``since``)
            rows.extend(fresh)
            cursor = int(fresh[-1][0]) + tf_ms
            if progress is not None:
                progress(min(expected, (cursor - since_ms) // tf_ms), expected)
    finally:
        await exchange.close()
    if not rows:
        raise InvalidInput(
            f"{venue} has no complete {symbol} {timeframe} candles from "
            f"{ms_to_datetime(since_ms):%Y-%m-%d %H:%M} to "
            f"{ms_to_datetime(end_ms):%Y-%m-%d %H:%M} UTC.",
            field="since",
        )
    if progress is not None:
        progress(expected, expected)
    return _checked(rows, venue, symbol)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _checked(rows: list[list[Any]], venue: str, symbol: str) -> Candles:
    """The rules a CSV import checks, applied to what the exchange sent: a bad candle stops the
    fetch with its time, and nothing is stored."""
    previous = None
    for row in rows:
        stamp = int(row[0])
        try:
            if len(row) < 6 or any(x is None for x in row[1:6]):
                raise ValueError("a value is missing")
            o, h, low, c, v = (float(x) for x in row[1:6])
            if not all(math.isfinite(x) for x in (o, h, low, c, v)):
                raise ValueError("a value is not a number")
            if min(o, h, low, c) <= 0:
                raise ValueError("prices must be above 0")
            if v < 0:
                raise ValueError("volume can't be negative")
            if h < max(o, c, low) or low > min(o, c):
                raise ValueError(f"high {h} / low {low} don't contain open {o} and close {c}")
            if previous is not None and stamp <= previous:
                raise ValueError("its time is not after the candle before")
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"{venue} sent a bad {symbol} candle at "
                f"{ms_to_datetime(stamp):%Y-%m-%d %H:%M} UTC: {exc}. Nothing was stored.",
                field="candles",
            ) from None
        previous = stamp
    return Candles.from_rows(rows)
