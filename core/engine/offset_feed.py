"""A second simulated market for arbitrage bots: the simulated market's prices moved by a fixed
percentage (the ``simulated_offset_percent`` of the bot's config), on the pair's price tick."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from core.market.feed import MarketFeed
from core.market.types import Candle, MarketInfo, Ticker, Timeframe, quantum


def offset_feed_name(base: str, offset_percent: Decimal) -> str:
    return f"{base}{offset_percent.normalize():+f}pct"


@dataclass
class OffsetFeed:
    base: MarketFeed
    offset_percent: Decimal

    def __post_init__(self) -> None:
        self.name = offset_feed_name(self.base.name, self.offset_percent)
        self.api_url = f"{self.base.api_url}#offset{self.offset_percent.normalize():+f}"
        self._factor = 1 + self.offset_percent / 100
        self._places: dict[str, int] = {}

    async def markets(self) -> list[MarketInfo]:
        infos = await self.base.markets()
        self._places = {m.symbol: m.price_precision for m in infos}
        return infos

    async def _shift(self, symbol: str, price: Decimal) -> Decimal:
        if symbol not in self._places:
            await self.markets()
        step = quantum(self._places.get(symbol, 8))
        return max(step, (price * self._factor).quantize(step, rounding=ROUND_HALF_EVEN))

    async def _ticker(self, t: Ticker) -> Ticker:
        s = t.symbol
        return replace(
            t,
            last=await self._shift(s, t.last),
            bid=await self._shift(s, t.bid),
            ask=await self._shift(s, t.ask),
            high_24h=await self._shift(s, t.high_24h),
            low_24h=await self._shift(s, t.low_24h),
            open_24h=await self._shift(s, t.open_24h),
        )

    async def ticker(self, symbol: str) -> Ticker:
        return await self._ticker(await self.base.ticker(symbol))

    async def tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        raw = await self.base.tickers(symbols)
        return {s: await self._ticker(t) for s, t in raw.items()}

    async def ohlcv(
        self, symbol: str, timeframe: Timeframe, *, since: datetime | None = None, limit: int = 100
    ) -> list[Candle]:
        out = []
        for c in await self.base.ohlcv(symbol, timeframe, since=since, limit=limit):
            out.append(
                replace(
                    c,
                    open=await self._shift(symbol, c.open),
                    high=await self._shift(symbol, c.high),
                    low=await self._shift(symbol, c.low),
                    close=await self._shift(symbol, c.close),
                )
            )
        return out

    async def close(self) -> None:
        return None
