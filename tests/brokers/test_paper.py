"""The paper broker: fills at the quote with size-dependent slippage, resting orders, fees."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.brokers import OrderRequest, OrderStatus, OrderType, PaperBroker, Side, SlippageModel
from core.clock import FrozenClock
from core.errors import InvalidInput
from core.market.errors import BelowMinimum, InsufficientFunds, OrderRejected
from core.market.hub import PriceHub
from core.market.simulated import SimulatedMarket
from core.market.types import MarketInfo, Ticker

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BTC = MarketInfo(
    "BTC/USDT",
    "BTC",
    "USDT",
    2,
    5,
    Decimal("0.00001"),
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.002"),
)


@dataclass
class Wallet:
    """A fixed ``Funds``: what a paper wallet would report as free."""

    free: dict[str, Decimal]

    async def available(self, asset: str) -> Decimal:
        return self.free.get(asset, Decimal(0))


def ticker(bid: str, ask: str, quote_volume: str = "1440000000") -> Ticker:
    b, a = Decimal(bid), Decimal(ask)
    return Ticker("BTC/USDT", NOW, (b + a) / 2, b, a, a, b, b, Decimal(100), Decimal(quote_volume))


@dataclass
class Quotes:
    current: Ticker

    async def ticker(self, symbol: str) -> Ticker:
        return self.current


def broker(t: Ticker, **free: str) -> PaperBroker:
    funds = Wallet({k: Decimal(v) for k, v in free.items()}) if free else None
    return PaperBroker(Quotes(t), funds=funds, clock=FrozenClock(NOW))


def req(side: Side, type: OrderType, qty: str, **kw: str) -> OrderRequest:
    extra = {k: Decimal(v) for k, v in kw.items()}
    return OrderRequest("BTC/USDT", side, type, Decimal(qty), **extra).normalized(BTC)  # type: ignore[arg-type]


async def test_market_buy_fills_at_the_ask_with_slippage_and_the_taker_fee() -> None:
    b = broker(ticker("50000.00", "50001.00"), USDT="100000")
    order = await b.place(req(Side.BUY, OrderType.MARKET, "0.1"), BTC)
    assert order.status is OrderStatus.FILLED
    (fill,) = order.fills
    # One minute of volume is 1,000,000 USDT; 5,000 USDT is 0.5 % of it -> 0.005 % slippage.
    assert fill.price == Decimal("50003.51")  # 50001 * 1.00005 = 50003.50005, rounded up
    assert fill.fee == Decimal("0.1") * fill.price * Decimal("0.002")
    assert (fill.fee_currency, fill.liquidity.value, fill.reference_price) == (
        "USDT",
        "taker",
        Decimal("50001.00"),
    )


async def test_slippage_grows_with_size_and_is_capped() -> None:
    t = ticker("50000.00", "50001.00")
    sizes = ["0.01", "1", "10", "100"]
    prices = []
    for size in sizes:
        order = await broker(t).place(req(Side.SELL, OrderType.MARKET, size), BTC)
        prices.append(order.fills[0].price)
    assert prices == sorted(prices, reverse=True) and len(set(prices)) == 4
    assert prices[-1] == Decimal("47500.00")  # the 5 % cap
    assert SlippageModel().fraction(
        Decimal(10), replace(t, quote_volume_24h=Decimal(0))
    ) == Decimal("0.05")


async def test_insufficient_balance_and_minimum_size_are_rejected_whole() -> None:
    b = broker(ticker("50000", "50000"), USDT="500", BTC="0.001")
    with pytest.raises(
        InsufficientFunds, match=r"needs 501.00\d* USDT with fees and 500 is available"
    ):
        await b.place(req(Side.BUY, OrderType.MARKET, "0.01"), BTC)
    with pytest.raises(InsufficientFunds, match=r"needs 0\.002 BTC"):
        await b.place(req(Side.SELL, OrderType.MARKET, "0.002"), BTC)
    with pytest.raises(BelowMinimum, match=r"minimum order size for BTC/USDT is 0\.00001 BTC"):
        req(Side.BUY, OrderType.MARKET, "0.000009")
    with pytest.raises(InvalidInput):
        req(Side.BUY, OrderType.MARKET, "-1")
    with pytest.raises(InvalidInput, match="market order takes no price"):
        req(Side.BUY, OrderType.MARKET, "1", price="1")
    with pytest.raises(InvalidInput, match="must be sell orders"):
        req(Side.BUY, OrderType.STOP_LOSS, "1", stop_price="1")


async def test_limit_orders_rest_until_crossed_then_fill_at_the_limit_as_maker() -> None:
    b = broker(ticker("50000", "50002"), USDT="100000")
    buy = req(Side.BUY, OrderType.LIMIT, "0.5", price="49000")
    assert (await b.place(buy, BTC)).status is OrderStatus.OPEN
    assert b.match(buy, BTC, ticker("49001", "49000.01")) is None
    fill = b.match(buy, BTC, ticker("48990", "48999"))
    assert fill is not None
    assert (fill.price, fill.liquidity.value) == (Decimal("49000.00"), "maker")
    assert fill.fee == Decimal("0.5") * Decimal(49000) * Decimal("0.001")

    sell = req(Side.SELL, OrderType.LIMIT, "0.5", price="51000")
    assert b.match(sell, BTC, ticker("50999.99", "51000")) is None
    assert b.match(sell, BTC, ticker("51000", "51001")) is not None

    # A limit that is marketable on arrival fills at once, never worse than its limit.
    now = await b.place(req(Side.BUY, OrderType.LIMIT, "0.1", price="60000"), BTC)
    assert now.status is OrderStatus.FILLED and now.fills[0].price <= Decimal(60000)
    assert now.fills[0].liquidity.value == "taker"


async def test_stop_loss_and_take_profit_trigger_on_the_bid() -> None:
    b = broker(ticker("50000", "50001"), BTC="1")
    stop = req(Side.SELL, OrderType.STOP_LOSS, "1", stop_price="45000")
    take = req(Side.SELL, OrderType.TAKE_PROFIT, "1", stop_price="55000")
    assert (await b.place(stop, BTC)).status is OrderStatus.OPEN
    assert (await b.place(take, BTC)).status is OrderStatus.OPEN
    assert b.match(stop, BTC, ticker("45000.01", "45001")) is None
    hit = b.match(stop, BTC, ticker("44990", "44991"))
    assert hit is not None and hit.price <= Decimal(44990) and hit.liquidity.value == "taker"
    assert b.match(take, BTC, ticker("54999", "55001")) is None
    assert b.match(take, BTC, ticker("55000", "55001")) is not None
    with pytest.raises(OrderRejected, match="would trigger immediately"):
        await b.place(req(Side.SELL, OrderType.STOP_LOSS, "1", stop_price="50000"), BTC)


@settings(max_examples=60, deadline=None)
@given(
    bid=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2),
    spread=st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=2),
    qty=st.decimals(min_value=Decimal("0.00001"), max_value=Decimal("50"), places=5),
    side=st.sampled_from(Side),
)
async def test_market_fills_are_on_the_grid_and_never_better_than_the_quote(
    bid: Decimal, spread: Decimal, qty: Decimal, side: Side
) -> None:
    t = ticker(str(bid), str(bid + spread), "500000")
    order = await broker(t).place(req(side, OrderType.MARKET, str(qty)), BTC)
    (fill,) = order.fills
    assert fill.price == BTC.round_price(fill.price) and fill.price > 0
    assert fill.price >= t.ask if side is Side.BUY else fill.price <= t.bid
    assert fill.fee == fill.quantity * fill.price * BTC.taker_fee


async def test_against_the_shared_simulated_market() -> None:
    clock = FrozenClock(NOW)
    market = SimulatedMarket(seed=3, clock=clock)
    hub = PriceHub(market, clock=clock)
    b = PaperBroker(hub, clock=clock)
    info = market.info("ETH/USDT")
    order = await b.place(
        OrderRequest("ETH/USDT", Side.BUY, OrderType.MARKET, Decimal("1")).normalized(info), info
    )
    assert order.fills[0].price >= (await hub.ticker("ETH/USDT")).ask
    assert order.fills[0].executed_at == NOW
