"""The ccxt broker against the fake Binance: real orders, idempotent retries, clear errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from core.brokers import CcxtBroker, OrderRequest, OrderStatus, OrderType, Side
from core.market.ccxt_client import Credentials
from core.market.ccxt_feed import CcxtFeed
from core.market.errors import (
    ExchangeAuthFailed,
    ExchangeTimeout,
    ExchangeUnavailable,
    InsufficientFunds,
    OrderOutcomeUnknown,
    RateLimited,
    UnknownSymbol,
)
from core.market.types import MarketInfo
from tests.fake_exchange import Failure, FakeBinance, exchange_factory

POST, GET = ("POST", "/api/v3/order"), ("GET", "/api/v3/order")


@dataclass
class Rig:
    fake: FakeBinance
    broker: CcxtBroker
    btc: MarketInfo
    sleeps: list[float]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with FakeBinance(hang_seconds=3) as fake:
        fake.add_account("key-A", "secret-A", USDT=10_000, BTC=1)
        exchange = exchange_factory(fake, timeout_ms=300).create(
            "binance", Credentials("key-A", "secret-A")
        )
        sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)

        feed = CcxtFeed(exchange)
        infos = {i.symbol: i for i in await feed.markets()}
        yield Rig(
            fake, CcxtBroker(exchange, venue="Binance", sleep=sleep), infos["BTC/USDT"], sleeps
        )
        await exchange.close()


def buy(quantity: str = "0.01", **kw: object) -> OrderRequest:
    return OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, Decimal(quantity), **kw)  # type: ignore[arg-type]


async def test_market_order_fills_with_the_exchange_fee(rig: Rig) -> None:
    request = buy("0.0123456").normalized(rig.btc)
    assert request.quantity == Decimal("0.01234")  # cut to the pair's step
    order = await rig.broker.place(request, rig.btc)
    assert order.status is OrderStatus.FILLED
    assert order.filled == Decimal("0.01234")
    (fill,) = order.fills
    assert (fill.price, fill.fee, fill.fee_currency) == (
        Decimal(50000),
        Decimal("0.00001234"),
        "BTC",
    )
    assert fill.is_paper is False and fill.trade_id
    (placed,) = rig.fake.orders.values()
    assert placed.client_order_id == request.client_order_id
    assert placed.quantity == Decimal("0.01234")
    assert rig.fake.accounts["key-A"].balances["USDT"][0] == Decimal(10_000) - Decimal("617.00")
    balances = await rig.broker.balances()
    assert balances["BTC"] == Decimal("1.01232766")


async def test_limit_order_rests_then_fills_and_cancel(rig: Rig) -> None:
    limit = OrderRequest(
        "BTC/USDT", Side.BUY, OrderType.LIMIT, Decimal("0.02"), price=Decimal("49000.123")
    )
    limit = limit.normalized(rig.btc)
    assert limit.price == Decimal("49000.12")  # a buy price never rounds up
    placed = await rig.broker.place(limit, rig.btc)
    assert placed.status is OrderStatus.OPEN and placed.fills == ()
    rig.fake.set_price("BTC/USDT", "48999")
    later = await rig.broker.fetch(limit, exchange_order_id=placed.exchange_order_id)
    assert later.status is OrderStatus.FILLED
    assert [(f.price, f.liquidity.value) for f in later.fills] == [(Decimal("49000.12"), "maker")]

    stop = OrderRequest(
        "BTC/USDT", Side.SELL, OrderType.STOP_LOSS, Decimal("0.01"), stop_price=Decimal(45000)
    )
    resting = await rig.broker.place(stop, rig.btc)
    assert resting.status is OrderStatus.OPEN
    cancelled = await rig.broker.cancel(stop, rig.btc, exchange_order_id=resting.exchange_order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    # Cancelling again reports the order as it is, it doesn't fail.
    again = await rig.broker.cancel(stop, rig.btc)
    assert again.status is OrderStatus.CANCELLED


async def test_timeout_after_the_exchange_took_the_order_never_places_a_second(rig: Rig) -> None:
    rig.fake.fail(Failure.TIMEOUT_AFTER, method="POST", path="/api/v3/order")
    order = await rig.broker.place(buy().normalized(rig.btc), rig.btc)
    assert order.status is OrderStatus.FILLED
    assert len(rig.fake.orders) == 1
    assert rig.fake.count(*POST) == 1  # looked it up by client id instead of resending
    assert rig.fake.count(*GET) == 1


async def test_timeout_before_processing_is_retried_with_the_same_id(rig: Rig) -> None:
    rig.fake.fail(Failure.TIMEOUT, method="POST", path="/api/v3/order")
    request = buy().normalized(rig.btc)
    order = await rig.broker.place(request, rig.btc)
    assert order.status is OrderStatus.FILLED
    assert [o.client_order_id for o in rig.fake.orders.values()] == [request.client_order_id]
    assert rig.fake.count(*POST) == 2 and rig.fake.count(*GET) == 1
    assert rig.sleeps == [0.5]


async def test_persistent_timeout_is_a_clear_error_and_places_nothing(rig: Rig) -> None:
    rig.fake.fail(Failure.TIMEOUT, times=5, method="POST", path="/api/v3/order")
    with pytest.raises(ExchangeTimeout, match=r"did not answer in time.*not placed"):
        await rig.broker.place(buy().normalized(rig.btc), rig.btc)
    assert rig.fake.orders == {}


async def test_unconfirmed_order_is_reported_as_unknown(rig: Rig) -> None:
    rig.fake.fail(Failure.TIMEOUT, times=1, method="POST", path="/api/v3/order")
    rig.fake.fail(Failure.SERVER_ERROR, times=5, method="GET", path="/api/v3/order")
    with pytest.raises(OrderOutcomeUnknown, match="could not be confirmed"):
        await rig.broker.place(buy().normalized(rig.btc), rig.btc)
    assert rig.fake.count(*POST) == 1  # never resent blind


async def test_rate_limit_is_retried_after_a_longer_back_off(rig: Rig) -> None:
    rig.fake.fail(Failure.RATE_LIMIT, times=1, method="POST", path="/api/v3/order")
    order = await rig.broker.place(buy().normalized(rig.btc), rig.btc)
    assert order.status is OrderStatus.FILLED and len(rig.fake.orders) == 1
    assert rig.sleeps == [2.0]

    rig.fake.fail(Failure.RATE_LIMIT, times=3, method="POST", path="/api/v3/order")
    with pytest.raises(RateLimited, match="rate limiting"):
        await rig.broker.place(buy().normalized(rig.btc), rig.btc)
    assert len(rig.fake.orders) == 1


async def test_server_errors_are_retried_then_reported(rig: Rig) -> None:
    rig.fake.fail(Failure.SERVER_ERROR, times=1, method="POST", path="/api/v3/order")
    order = await rig.broker.place(buy().normalized(rig.btc), rig.btc)
    assert order.status is OrderStatus.FILLED and len(rig.fake.orders) == 1

    rig.fake.fail(Failure.SERVER_ERROR, times=3, method="POST", path="/api/v3/order")
    with pytest.raises(ExchangeUnavailable, match=r"unavailable.*not placed"):
        await rig.broker.place(buy().normalized(rig.btc), rig.btc)
    assert len(rig.fake.orders) == 1


async def test_insufficient_balance_is_not_retried(rig: Rig) -> None:
    rig.fake.fail(Failure.INSUFFICIENT_BALANCE, method="POST", path="/api/v3/order")
    with pytest.raises(InsufficientFunds, match="Binance says the balance is insufficient"):
        await rig.broker.place(buy().normalized(rig.btc), rig.btc)
    with pytest.raises(InsufficientFunds):  # and for real: 10 BTC cost far more than 10,000 USDT
        await rig.broker.place(buy("10").normalized(rig.btc), rig.btc)
    assert rig.fake.count(*POST) == 2 and rig.fake.orders == {}


async def test_bad_signature_and_bad_keys_are_auth_failures(rig: Rig) -> None:
    rig.fake.fail(Failure.BAD_SIGNATURE, method="POST", path="/api/v3/order")
    with pytest.raises(ExchangeAuthFailed, match="rejected the API credentials"):
        await rig.broker.place(buy().normalized(rig.btc), rig.btc)
    wrong = exchange_factory(rig.fake).create("binance", Credentials("key-A", "not-the-secret"))
    try:
        broker = CcxtBroker(wrong, venue="Binance")
        with pytest.raises(ExchangeAuthFailed):
            await broker.place(buy().normalized(rig.btc), rig.btc)
        with pytest.raises(ExchangeAuthFailed):
            await broker.balances()
    finally:
        await wrong.close()
    assert rig.fake.orders == {}


async def test_unknown_symbol(rig: Rig) -> None:
    ghost = MarketInfo("DOGE/USDT", "DOGE", "USDT", 5, 0, Decimal(1))
    with pytest.raises(UnknownSymbol):
        await rig.broker.place(
            OrderRequest("DOGE/USDT", Side.BUY, OrderType.MARKET, Decimal(10)), ghost
        )
