"""The one interface every market data source implements (simulated market, ccxt feed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from core.market.types import Candle, MarketInfo, Ticker, Timeframe


@runtime_checkable
class MarketFeed(Protocol):
    name: str
    """The ``exchanges.name`` this feed's pairs are stored under ("simulated", "binance", ...)."""
    api_url: str

    async def markets(self) -> list[MarketInfo]:
        """Every pair with its precision, minimum size and fees."""
        ...

    async def ticker(self, symbol: str) -> Ticker: ...

    async def tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        """Several tickers in one go (one request where the exchange allows it)."""
        ...

    async def ohlcv(
        self,
        symbol: str,
        timeframe: Timeframe,
        *,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Candle]:
        """Up to ``limit`` candles, oldest first, from ``since`` or else ending at the current bar."""
        ...

    async def close(self) -> None: ...


MAX_CANDLES = 1000
"""No feed returns more than this many candles per call (Binance's own limit)."""
