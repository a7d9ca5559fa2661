"""A second simulated market for arbitrage bots: the simulated market's prices moved by a
percentage, on the pair's price tick.

The move is the ``simulated_offset_percent`` of the bot's config plus, when the config asks for
one (``simulated_spread_percent``), a **wandering spread**: a mean-reverting random walk (an
Ornstein-Uhlenbeck process, half-life ``HALF_LIFE``) around the offset, whose standard deviation
is that percentage. Like the simulated market it is a pure function of (seed, symbol, time): two
processes, or a restart, see the same spread at the same moment. A market whose spread wanders
is a smaller venue: ``SMALL_VENUE_VOLUME`` (quote currency) trades there a day in each pair, so an
order there slips (the paper broker's slippage model: 100 USDT slips about 0.07 %), which the
quotes an arbitrage bot decides on don't show: a crossing that only just beats the fees loses.
"""

from __future__ import annotations

import math
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from core.market.feed import MarketFeed
from core.market.types import Candle, MarketInfo, Ticker, Timeframe, quantum

HALF_LIFE = timedelta(minutes=30)
"""How long the wandering spread takes to come half-way back to the offset."""
STEP_SECONDS = 5  # the spread changes on the simulated market's tick
SMALL_VENUE_VOLUME = Decimal(2_000_000)
"""The quote volume a market with a wandering spread trades in a day, in each pair."""
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_STEPS_PER_DAY = 86_400 // STEP_SECONDS
_DAYS_KEPT = 8
_VOLUME_QUANTUM = Decimal("1e-8")


def offset_feed_name(
    base: str, offset_percent: Decimal, spread_percent: Decimal = Decimal(0)
) -> str:
    name = f"{base}{offset_percent.normalize():+f}pct"
    return f"{name}~{spread_percent.normalize():f}" if spread_percent else name


@dataclass
class WanderingSpread:
    """A seeded mean-reverting spread (in percent) around zero with standard deviation
    ``percent``: each day's path starts from a seeded draw of the process's own distribution
    and is bent, linearly, to end where the next day starts (continuous at midnight)."""

    percent: Decimal
    seed: int = 0

    def __post_init__(self) -> None:
        self._days: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._keep = math.exp(-math.log(2) * STEP_SECONDS / HALF_LIFE.total_seconds())

    def at(self, symbol: str, when: datetime) -> float:
        seconds = max(0, math.floor((when - _EPOCH).total_seconds()))
        day, step = divmod(seconds // STEP_SECONDS, _STEPS_PER_DAY)
        return float(self._day(symbol, int(day))[int(step)])

    def _start(self, symbol: str, day: int) -> float:
        rng = np.random.default_rng([self.seed, zlib.crc32(symbol.encode()), day, 0])
        return float(rng.standard_normal())

    def _day(self, symbol: str, day: int) -> np.ndarray:
        key = (symbol, day)
        path = self._days.get(key)
        if path is not None:
            self._days.move_to_end(key)
            return path
        rng = np.random.default_rng([self.seed, zlib.crc32(symbol.encode()), day, 1])
        shocks = rng.standard_normal(_STEPS_PER_DAY) * math.sqrt(1 - self._keep**2)
        walk = np.empty(_STEPS_PER_DAY + 1)
        walk[0] = x = self._start(symbol, day)
        keep = self._keep
        for i, shock in enumerate(shocks.tolist(), start=1):
            x = keep * x + shock
            walk[i] = x
        end = self._start(symbol, day + 1)
        bend = np.linspace(0.0, 1.0, _STEPS_PER_DAY + 1) * (end - walk[-1])
        path = (walk + bend)[:_STEPS_PER_DAY] * float(self.percent)
        self._days[key] = path
        if len(self._days) > _DAYS_KEPT:
            self._days.popitem(last=False)
        return path


@dataclass
class OffsetFeed:
    base: MarketFeed
    offset_percent: Decimal
    spread_percent: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        self.name = offset_feed_name(self.base.name, self.offset_percent, self.spread_percent)
        self.api_url = f"{self.base.api_url}#offset{self.offset_percent.normalize():+f}"
        if self.spread_percent:
            self.api_url += f"~{self.spread_percent.normalize():f}"
        self._factor = 1 + self.offset_percent / 100
        self._places: dict[str, int] = {}
        self._spread = (
            WanderingSpread(self.spread_percent, seed=int(getattr(self.base, "seed", 0)))
            if self.spread_percent
            else None
        )

    def spread_at(self, symbol: str, when: datetime) -> Decimal:
        """Market B's price over the base market's at ``when``, in percent (before rounding
        to the tick)."""
        wander = 0.0 if self._spread is None else self._spread.at(symbol, when)
        return self.offset_percent + Decimal(repr(round(wander, 6)))

    async def markets(self) -> list[MarketInfo]:
        infos = await self.base.markets()
        self._places = {m.symbol: m.price_precision for m in infos}
        return infos

    async def _shift(self, symbol: str, price: Decimal, when: datetime) -> Decimal:
        if symbol not in self._places:
            await self.markets()
        step = quantum(self._places.get(symbol, 8))
        factor = self._factor if self._spread is None else 1 + self.spread_at(symbol, when) / 100
        return max(step, (price * factor).quantize(step, rounding=ROUND_HALF_EVEN))

    async def _ticker(self, t: Ticker) -> Ticker:
        s, when = t.symbol, t.timestamp
        return replace(
            t,
            last=await self._shift(s, t.last, when),
            bid=await self._shift(s, t.bid, when),
            ask=await self._shift(s, t.ask, when),
            high_24h=await self._shift(s, t.high_24h, when),
            low_24h=await self._shift(s, t.low_24h, when),
            open_24h=await self._shift(s, t.open_24h, when),
            volume_24h=(t.volume_24h * self._volume_share(t)).quantize(_VOLUME_QUANTUM),
            quote_volume_24h=(t.quote_volume_24h * self._volume_share(t)).quantize(_VOLUME_QUANTUM),
        )

    def _volume_share(self, t: Ticker) -> Decimal:
        """The part of the base market's volume this market trades (all of it, unless its
        spread wanders: then ``SMALL_VENUE_VOLUME`` a day)."""
        if self._spread is None or t.quote_volume_24h <= 0:
            return Decimal(1)
        return SMALL_VENUE_VOLUME / t.quote_volume_24h

    async def ticker(self, symbol: str) -> Ticker:
        return await self._ticker(await self.base.ticker(symbol))

    async def tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        raw = await self.base.tickers(symbols)
        return {s: await self._ticker(t) for s, t in raw.items()}

    async def ohlcv(
        self, symbol: str, timeframe: Timeframe, *, since: datetime | None = None, limit: int = 100
    ) -> list[Candle]:
        share = Decimal(1)
        if self._spread is not None:
            share = self._volume_share(await self.base.ticker(symbol))
        out = []
        for c in await self.base.ohlcv(symbol, timeframe, since=since, limit=limit):
            when = c.timestamp
            out.append(
                replace(
                    c,
                    open=await self._shift(symbol, c.open, when),
                    high=await self._shift(symbol, c.high, when),
                    low=await self._shift(symbol, c.low, when),
                    close=await self._shift(symbol, c.close, when),
                    volume=(c.volume * share).quantize(_VOLUME_QUANTUM),
                )
            )
        return out

    async def close(self) -> None:
        return None
