"""The ccxt feed over the fake Binance: Decimal tickers and candles, translated errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.market.ccxt_client import Credentials, ExchangeFactory
from core.market.ccxt_feed import CcxtFeed, decimal_places
from core.market.errors import ExchangeUnavailable, RateLimited, UnknownSymbol
from core.market.feed import MarketFeed
from core.market.types import Timeframe
from tests.fake_exchange import Failure, FakeBinance, exchange_factory


async def test_tickers_and_candles_are_decimal() -> None:
    async with FakeBinance() as fake:
        feed = CcxtFeed(exchange_factory(fake).create("binance"))
        try:
            assert isinstance(feed, MarketFeed) and feed.name == "binance"
            fake.set_price("ETH/USDT", "3123.45")
            ticker = await feed.ticker("ETH/USDT")
            assert ticker.last == Decimal("3123.45") and isinstance(ticker.bid, Decimal)
            candles = await feed.ohlcv("ETH/USDT", Timeframe.M15, limit=20)
            assert len(candles) == 20 and all(isinstance(c.close, Decimal) for c in candles)
            assert all(c.low <= c.open <= c.high for c in candles)
            with pytest.raises(UnknownSymbol):
                await feed.ticker("NOPE/USDT")
        finally:
            await feed.close()


async def test_exchange_trouble_becomes_clear_errors() -> None:
    async with FakeBinance() as fake:
        feed = CcxtFeed(exchange_factory(fake).create("binance"))
        try:
            await feed.markets()
            fake.fail(Failure.RATE_LIMIT, path="/api/v3/ticker/24hr")
            with pytest.raises(RateLimited, match="Binance is rate limiting"):
                await feed.ticker("BTC/USDT")
            fake.fail(Failure.SERVER_ERROR, path="/api/v3/klines")
            with pytest.raises(ExchangeUnavailable):
                await feed.ohlcv("BTC/USDT", Timeframe.H1)
        finally:
            await feed.close()


async def test_testnet_and_the_defaults_we_rely_on() -> None:
    real = ExchangeFactory().create("binance", Credentials("k" * 16, "s" * 16), testnet=True)
    try:
        assert real.enableRateLimit is True  # ccxt spaces requests by the exchange's weights
        assert real.urls["api"]["private"].startswith("https://testnet.binance.vision/")
        assert real.options["fetchCurrencies"] is False  # never needs more than read rights
    finally:
        await real.close()
    async with FakeBinance() as fake:
        feed = CcxtFeed(exchange_factory(fake).create("binance", testnet=True), testnet=True)
        try:
            assert feed.name == "binance-testnet" and feed.venue == "Binance testnet"
            assert feed.api_url == f"{fake.url}/api/v3"
            assert {m.symbol for m in await feed.markets()} == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
        finally:
            await feed.close()


def test_precision_from_tick_sizes() -> None:
    import ccxt

    assert decimal_places(0.01, ccxt.TICK_SIZE) == 2
    assert decimal_places(1e-08, ccxt.TICK_SIZE) == 8
    assert decimal_places(1, ccxt.TICK_SIZE) == 0
    assert decimal_places(4, ccxt.DECIMAL_PLACES) == 4
