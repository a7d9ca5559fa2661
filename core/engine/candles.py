"""Closed candles per (feed, symbol, timeframe), shared by every bot of the process.

A strategy decides on closed candles only. The window of a symbol is fetched once, then only
the candles that closed since are fetched and appended; every bot on that symbol and timeframe
reads the same arrays. A window is as long as the longest lookback asked for.

With a ``store`` (the engine's database), the windows of real exchanges (not the simulated
market) are also kept in ``historical_datasets`` (``core.market.candle_store``): a window is
read from there before the exchange is asked, only what closed after it is fetched, and what
was fetched is written back, so engines share them and a restart reuses them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from core.db.engine import Database
from core.market import candle_store
from core.market.ccxt_feed import CcxtFeed
from core.market.feed import MAX_CANDLES
from core.market.hub import PriceHub
from core.market.types import Candle, Timeframe
from core.strategies.candles import Candles, datetime_to_ms

log = logging.getLogger(__name__)


def _arrays(candles: list[Candle]) -> Candles:
    return Candles.from_arrays(
        [datetime_to_ms(c.timestamp) for c in candles],
        [float(c.open) for c in candles],
        [float(c.high) for c in candles],
        [float(c.low) for c in candles],
        [float(c.close) for c in candles],
        [float(c.volume) for c in candles],
    )


def _concat(a: Candles, b: Candles, keep: int) -> Candles:
    merged = Candles(*(np.concatenate([x, y]) for x, y in zip(_fields(a), _fields(b), strict=True)))
    return merged[-keep:] if len(merged) > keep else merged


def _newer(stored: Candles, cached: _Window) -> bool:
    """The stored window reaches further than the one in memory (another engine fetched)."""
    return len(cached.candles) == 0 or int(stored.ts[-1]) > int(cached.candles.ts[-1])


def _fields(c: Candles) -> tuple[np.ndarray, ...]:
    return (c.ts, c.open, c.high, c.low, c.close, c.volume)


@dataclass
class _Window:
    candles: Candles
    length: int
    checked_until: datetime  # the current candle's close, as of the last fetch


class CandleCache:
    def __init__(self, store: Database | None = None) -> None:
        self._windows: dict[tuple[str, str, str], _Window] = {}
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        self.fetches = 0
        self.store = store
        self.stored_reads = 0
        """Windows served from ``historical_datasets`` without asking the exchange."""

    async def window(
        self, hub: PriceHub, symbol: str, timeframe: str, length: int, now: datetime
    ) -> Candles:
        """The last ``length`` closed candles (fewer while the market's history is short)."""
        tf = Timeframe.parse(timeframe)
        key = (hub.name, symbol, tf.value)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._windows.get(key)
            if cached is not None and cached.length >= length and now < cached.checked_until:
                return cached.candles[-length:]
            width = timedelta(seconds=tf.seconds)
            current_open = datetime.fromtimestamp(
                (now.timestamp() // tf.seconds) * tf.seconds, tz=now.tzinfo
            )
            stored = await self._stored(hub, symbol, tf) if self._keeps(hub) else None
            if stored is not None and len(stored) and (cached is None or _newer(stored, cached)):
                cached = _Window(stored, len(stored), current_open)
                last_closed = datetime_to_ms(current_open - width)
                if cached.length >= length and int(stored.ts[-1]) >= last_closed:
                    self.stored_reads += 1
                    self._windows[key] = _Window(stored, len(stored), current_open + width)
                    return stored[-length:]
            if cached is None or cached.length < length or len(cached.candles) == 0:
                candles = await self._fetch(hub, symbol, tf, length, None, now)
                fetched = len(candles) > 0
            else:
                since = datetime.fromtimestamp(cached.candles.ts[-1] / 1000, tz=now.tzinfo) + width
                fresh = await self._fetch(hub, symbol, tf, length, since, now)
                candles = _concat(cached.candles, fresh, max(length, cached.length))
                fetched = len(fresh) > 0
            window = _Window(
                candles, max(length, cached.length if cached else 0), current_open + width
            )
            self._windows[key] = window
            if fetched and self._keeps(hub):
                await self._keep(hub, symbol, tf, candles)
            return candles[-length:]

    def _keeps(self, hub: PriceHub) -> bool:
        """Only a real exchange's candles are kept (the simulated market makes its own)."""
        return self.store is not None and isinstance(hub.feed, CcxtFeed)

    async def _stored(self, hub: PriceHub, symbol: str, tf: Timeframe) -> Candles | None:
        assert self.store is not None
        try:
            async with self.store.session() as session:
                return await candle_store.load_window(session, hub.name, symbol, tf.value)
        except Exception as exc:  # the cache is an optimisation: the exchange still answers
            log.warning("stored candles of %s %s unavailable: %s", hub.name, symbol, exc)
            return None

    async def _keep(self, hub: PriceHub, symbol: str, tf: Timeframe, candles: Candles) -> None:
        assert self.store is not None
        try:
            async with self.store.sessions.begin() as session:
                await candle_store.save_window(session, hub.name, symbol, tf.value, candles)
        except Exception as exc:
            log.warning("could not store the candles of %s %s: %s", hub.name, symbol, exc)

    async def _fetch(
        self,
        hub: PriceHub,
        symbol: str,
        tf: Timeframe,
        length: int,
        since: datetime | None,
        now: datetime,
    ) -> Candles:
        """Closed candles: the last ``length`` (``since`` None) or all from ``since`` on."""
        width = timedelta(seconds=tf.seconds)
        if since is None:
            since = now - width * (length + 1)
        out: list[Candle] = []
        while True:
            self.fetches += 1
            page = await hub.feed.ohlcv(symbol, tf, since=since, limit=MAX_CANDLES)
            closed = [c for c in page if c.timestamp + width <= now]
            out.extend(closed)
            if len(page) < MAX_CANDLES or len(closed) < len(page):
                break
            since = page[-1].timestamp + width
        return _arrays(out[-length:] if len(out) > length else out)
