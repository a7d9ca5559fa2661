"""Local fake exchanges (aiohttp) for offline tests of everything that speaks ccxt: Binance,
OKX and Bybit, each checking request signatures the way the real exchange does.

    async with FakeBinance() as fake:
        fake.add_account("key", "secret", USDT=10_000)
        exchange = exchange_factory(fake).create("binance", Credentials("key", "secret"))

Importable by any test suite (engine, doctor) as ``tests.fake_exchange``.
"""

from core.market.ccxt_client import ExchangeFactory
from tests.fake_exchange.base import Account, Failure, FakeExchange, Order, Symbol, default_symbols
from tests.fake_exchange.binance import FakeBinance


def exchange_factory(
    fake: FakeExchange, *, timeout_ms: int = 2_000, rate_limit: bool = False
) -> ExchangeFactory:
    """An ``ExchangeFactory`` whose clients talk to ``fake`` (short timeout, no throttling)."""
    return ExchangeFactory(api_origin=fake.url, timeout_ms=timeout_ms, rate_limit=rate_limit)


__all__ = [
    "Account",
    "Failure",
    "FakeBinance",
    "FakeExchange",
    "Order",
    "Symbol",
    "default_symbols",
    "exchange_factory",
]
