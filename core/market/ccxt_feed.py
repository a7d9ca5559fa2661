"""Market data from a real exchange through async ccxt (public endpoints; no keys needed).

ccxt's own limiter spaces requests by the exchange's published weights; the ``PriceHub`` on top
polls once per interval for every symbol in use and backs off when the exchange struggles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.errors import InvalidInput
from core.market.errors import translate, venue_name
from core.market.feed import MAX_CANDLES
from core.market.lazy_ccxt import ccxt
from core.market.types import Candle, MarketInfo, Ticker, Timeframe

DEFAULT_FEE = Decimal("0.001")


def to_decimal(value: Any) -> Decimal | None:
    """ccxt hands numbers over as floats parsed from decimal strings: ``str`` gives them back."""
    if value is None:
        return None
    return Decimal(str(value))


def decimal_places(step: Any, mode: int) -> int:
    """Turn a ccxt precision (a tick size, or already a count of places) into decimal places."""
    if mode == ccxt.TICK_SIZE:
        exponent = Decimal(str(step)).normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        return -exponent
    return int(step)


def market_info(market: dict[str, Any], mode: int) -> MarketInfo:
    precision = market.get("precision") or {}
    limits = (market.get("limits") or {}).get("amount") or {}
    cost = (market.get("limits") or {}).get("cost") or {}
    return MarketInfo(
        symbol=market["symbol"],
        base=market["base"],
        quote=market["quote"],
        price_precision=decimal_places(precision.get("price") or 1e-8, mode),
        quantity_precision=decimal_places(precision.get("amount") or 1e-8, mode),
        min_quantity=to_decimal(limits.get("min")) or Decimal(0),
        max_quantity=to_decimal(limits.get("max")),
        maker_fee=to_decimal(market.get("maker")) or DEFAULT_FEE,
        taker_fee=to_decimal(market.get("taker")) or DEFAULT_FEE,
        active=market.get("active") is not False,
        min_notional=to_decimal(cost.get("min")) or None,
    )


def parse_ticker(raw: dict[str, Any]) -> Ticker:
    """A ccxt unified ticker (REST or websocket) as ours, prices Decimal."""
    last = to_decimal(raw.get("last") or raw.get("close"))
    if last is None:
        raise InvalidInput(f"No last price for {raw.get('symbol')}.", field="symbol")

    def field(name: str) -> Decimal:
        return to_decimal(raw.get(name)) or last

    stamp = raw.get("timestamp")
    return Ticker(
        symbol=raw["symbol"],
        timestamp=datetime.fromtimestamp(stamp / 1000, UTC) if stamp else datetime.now(UTC),
        last=last,
        bid=field("bid"),
        ask=field("ask"),
        high_24h=field("high"),
        low_24h=field("low"),
        open_24h=field("open"),
        volume_24h=to_decimal(raw.get("baseVolume")) or Decimal(0),
        quote_volume_24h=to_decimal(raw.get("quoteVolume")) or Decimal(0),
    )


class CcxtFeed:
    """``MarketFeed`` over one ccxt exchange client (owned: ``close()`` closes it)."""

    def __init__(self, exchange: ccxt.Exchange, *, name: str | None = None, testnet: bool = False):
        self.exchange = exchange
        self.name = name or (f"{exchange.id}-testnet" if testnet else exchange.id)
        self.venue = venue_name(exchange.id, testnet=testnet)
        api = exchange.urls.get("api")
        self.api_url = (
            api.get("public", next(iter(api.values()))) if isinstance(api, dict) else str(api)
        )

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self.exchange, method)(*args, **kwargs)
        except ccxt.BaseError as exc:
            raise translate(exc, self.venue) from None

    async def markets(self) -> list[MarketInfo]:
        markets = await self._call("load_markets")
        mode = self.exchange.precisionMode
        return [
            market_info(m, mode)
            for m in markets.values()
            if m.get("spot") and m.get("active") is not False
        ]

    async def ticker(self, symbol: str) -> Ticker:
        await self._call("load_markets")
        return parse_ticker(await self._call("fetch_ticker", symbol))

    async def tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        if not symbols:
            return {}
        await self._call("load_markets")
        if self.exchange.has.get("fetchTickers"):
            raw = await self._call("fetch_tickers", list(symbols))
            return {s: parse_ticker(raw[s]) for s in symbols if s in raw}
        return {s: await self.ticker(s) for s in symbols}

    async def ohlcv(
        self,
        symbol: str,
        timeframe: Timeframe,
        *,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Candle]:
        if not 1 <= limit <= MAX_CANDLES:
            raise InvalidInput(f"limit must be between 1 and {MAX_CANDLES}.", field="limit")
        await self._call("load_markets")
        since_ms = int(since.timestamp() * 1000) if since else None
        rows = await self._call("fetch_ohlcv", symbol, timeframe.value, since_ms, limit)
        return [
            Candle(
                timestamp=datetime.fromtimestamp(row[0] / 1000, UTC),
                open=Decimal(str(row[1])),
                high=Decimal(str(row[2])),
                low=Decimal(str(row[3])),
                close=Decimal(str(row[4])),
                volume=Decimal(str(row[5])),
            )
            for row in rows
        ]

    async def close(self) -> None:
        await self.exchange.close()
