"""Binance, OKX and Bybit, each through its own local fake that checks signatures the way the
exchange does: markets loaded with their rules, the rules enforced with the user's words, a
paper bot on the exchange's real prices through engine cycles, and live orders placed, filled
and reconciled by the engine's housekeeping sweep."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from core.brokers.paper import SlippageModel
from core.brokers.types import OrderRequest, OrderStatus, OrderType, Side
from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.trading import Order, Position, Trade
from core.engine.venues import Markets
from core.errors import InvalidInput
from core.ledger.orders import OrderDesk
from core.ledger.wallets import get_wallet
from core.market.catalog import load_pair, sync_markets
from core.market.ccxt_feed import CcxtFeed
from core.market.errors import BelowMinimum
from core.market.hub import Backoff
from core.services import exchanges, trading
from tests.engine.support import START
from tests.engine.support import world as make_world
from tests.fake_exchange import FakeExchange, exchange_factory
from tests.fake_exchange.binance import FakeBinance
from tests.fake_exchange.bybit import FakeBybit
from tests.fake_exchange.okx import FakeOkx
from tests.service_users import add_user

KEY, SECRET, PASSPHRASE = "Key0000000000000001", "Secret00000000000001", "Pass-Phrase-1"


@dataclass
class Venue:
    id: str
    name: str
    fake: FakeExchange
    passphrase: str | None
    min_notional: D | None


@pytest.fixture(params=["binance", "okx", "bybit"])
async def venue(request: pytest.FixtureRequest) -> AsyncIterator[Venue]:
    cls, passphrase, minimum = {
        "binance": (FakeBinance, None, D(1)),
        "okx": (FakeOkx, PASSPHRASE, None),  # OKX rules by minimum size only
        "bybit": (FakeBybit, None, D(1)),
    }[request.param]
    async with cls(hang_seconds=2) as fake:
        fake.add_account(KEY, SECRET, passphrase, USDT=5000)
        names = {"binance": "Binance", "okx": "OKX", "bybit": "Bybit"}
        yield Venue(request.param, names[request.param], fake, passphrase, minimum)


def context(venue: Venue, clock: FrozenClock) -> trading.TradingContext:
    return trading.TradingContext.simulated(
        seed=7,
        clock=clock,
        exchanges=exchange_factory(venue.fake, timeout_ms=1_000),
        retry=Backoff(base=0.01, cap=0.02),
        slippage=SlippageModel(impact=D(0)),  # fills at the quote exactly
    )


async def test_markets_load_with_the_exchange_rules(db: Database, venue: Venue) -> None:
    feed = CcxtFeed(exchange_factory(venue.fake).create(venue.id))
    try:
        async with db.sessions.begin() as session:
            pairs = await sync_markets(session, feed)
    finally:
        await feed.close()
    assert sorted(pairs) == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    btc = pairs["BTC/USDT"].info
    assert (btc.price_precision, btc.quantity_precision) == (2, 5)
    assert btc.min_quantity == D("0.00001") and btc.min_notional == venue.min_notional
    async with db.session() as session:  # stored: what order placement reads
        assert (await load_pair(session, venue.id, "BTC/USDT")).info == btc


async def test_rules_are_enforced_with_the_users_message(db: Database, venue: Venue) -> None:
    ctx = context(venue, FrozenClock(START))
    try:
        await rules_enforced(db, venue, ctx)
    finally:
        await ctx.hubs.close()


async def rules_enforced(db: Database, venue: Venue, ctx: trading.TradingContext) -> None:
    alice = await add_user(db, "alice@example.com", plan="enterprise")

    async def estimate(quantity: str, **more: str) -> trading.OrderEstimate:
        return await trading.estimate_order(
            db, alice, symbol="BTC/USDT", side="buy", quantity=quantity, market=venue.id,
            ctx=ctx, **more,
        )  # fmt: skip

    # The step: 0.001234567 BTC is cut to 0.00123, and the estimate says so before confirming.
    shown = await estimate("0.001234567", type="limit", price="50000.129")
    assert shown.venue == f"Paper · {venue.name} prices" and shown.quantity == D("0.00123")
    assert shown.adjustments == (
        "Quantity rounded down to BTC/USDT's step of 0.00001 BTC: 0.001234567 → 0.00123 BTC.",
        "Limit price rounded to BTC/USDT's tick of 0.01 USDT: 50000.129 → 50000.12 USDT.",
    )
    assert (await estimate("0.001")).adjustments == ()

    # Under the minimum size, and (where the exchange has one) under the minimum order value.
    with pytest.raises(BelowMinimum, match=r"minimum order size for BTC/USDT is 0.00001 BTC"):
        await estimate("0.000001")
    if venue.min_notional is not None:
        refusal = (
            "The minimum order value (notional) for BTC/USDT is 1 USDT; this order is worth "
            "0.5 USDT."
        )
        with pytest.raises(BelowMinimum, match=re.escape(refusal)):
            await estimate("0.00001")
        for paper in (True, False):  # paper and live alike: refused, nothing recorded
            connection_id = None
            if not paper:
                connection = await exchanges.add_connection(
                    db, alice, exchange=venue.id, api_key=KEY, secret=SECRET,
                    passphrase=venue.passphrase, permissions=["trade"],
                )  # fmt: skip
                connection_id = connection.id
            with pytest.raises(BelowMinimum, match=re.escape("this order is worth 0.5 USDT")):
                await trading.place_order(
                    db, alice, symbol="BTC/USDT", side="buy", quantity="0.00001",
                    market=venue.id if paper else None, connection_id=connection_id, ctx=ctx,
                )  # fmt: skip
        assert (await trading.list_orders(db, alice)).items == ()
        assert venue.fake.orders == {}

    # A paper fill at the exchange's ask, paying its taker fee, recorded under that exchange.
    order = await trading.place_order(
        db, alice, symbol="BTC/USDT", side="buy", quantity="0.001", market=venue.id, ctx=ctx
    )
    (fill,) = order.trades
    assert (order.status, order.is_paper, fill.executed_price) == ("filled", True, D(50000))
    async with db.session() as session:
        pair = await load_pair(session, venue.id, "BTC/USDT")
    assert fill.fee == D("0.001") * 50000 * pair.info.taker_fee


async def test_a_paper_bot_trades_on_the_exchange_prices(db: Database, venue: Venue) -> None:
    w = await make_world(db)
    w.markets = Markets(
        hubs=w.markets.hubs,
        exchanges=exchange_factory(venue.fake),
        clock=w.clock,
        slippage=w.markets.slippage,
    )
    bot_id = await w.bot(
        "dca",
        {"symbol": "BTC/USDT", "timeframe": "1m", "quote_amount": "500", "levels": [],
         "interval_minutes": 600},
        {"stop_loss_percent": "2"},
        paper_market=venue.id,
    )  # fmt: skip
    runner = w.runner()
    try:
        await w.step(runner)
        async with db.session() as s:
            (position,) = (await s.scalars(select(Position))).all()
            (buy,) = (await s.scalars(select(Trade))).all()
            assert position.wallet_id is not None
            wallet = await get_wallet(s, position.wallet_id)
        assert (wallet.paper_market, position.is_paper_trade) == (venue.id, True)
        assert buy.executed_price == D(50000) and buy.bot_id == bot_id
        assert position.stop_loss == D(49000)
        assert venue.fake.orders == {}  # paper: nothing is sent to the exchange
        venue.fake.set_price("BTC/USDT", "48990")
        await w.step(runner)
        async with db.session() as s:
            closed = await s.get(Position, position.id)
            sells = (await s.scalars(select(Trade).where(Trade.side == "SELL"))).all()
        assert closed is not None and (closed.status, closed.close_reason) == (
            "closed",
            "STOP_LOSS",
        )
        assert [t.executed_price for t in sells] == [D(48990)]
    finally:
        await runner.ctx.close()
        await w.markets.hubs.close()


async def test_live_orders_are_placed_filled_and_reconciled(db: Database, venue: Venue) -> None:
    w = await make_world(db, reconcile_after_seconds=30, reconcile_misses=3)
    w.markets = Markets(hubs=w.markets.hubs, exchanges=exchange_factory(venue.fake), clock=w.clock)
    ctx = context(venue, w.clock)
    connection = await exchanges.add_connection(
        db, w.actor, exchange=venue.id, api_key=KEY, secret=SECRET, passphrase=venue.passphrase,
        permissions=["trade"],
    )  # fmt: skip
    # A limit buy rests on the exchange; the exchange fills it while nobody looks.
    resting = await trading.place_order(
        db, w.actor, symbol="BTC/USDT", side="buy", type="limit", quantity="0.002",
        price="49000", connection_id=connection.id, ctx=ctx,
    )  # fmt: skip
    assert (resting.status, resting.is_paper) == ("open", False)
    venue.fake.set_price("BTC/USDT", "48500")

    # A pending order the exchange never received (a crash between "pending" and the send).
    async with db.sessions.begin() as s:
        lost_order = await s.get(Order, resting.id)
        assert lost_order is not None and lost_order.wallet_id is not None
        wallet = await get_wallet(s, lost_order.wallet_id)
        pair = await load_pair(s, venue.id, "BTC/USDT")
        lost = OrderDesk(clock=w.clock)._row(
            wallet, pair, OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, D("0.001")),
            OrderStatus.PENDING,
        )  # fmt: skip
        s.add(lost)
    runner = w.runner()
    try:
        statuses: list[list[tuple[str, D]]] = []
        for _ in range(3):
            w.clock.advance(seconds=31)
            await runner.housekeeping_once(wallets=False)
            async with db.session() as s:
                statuses.append(
                    [
                        (o.status, o.filled)
                        for o in [await s.get(Order, resting.id), await s.get(Order, lost.id)]
                        if o is not None
                    ]
                )
        async with db.session() as s:
            failed = await s.get(Order, lost.id)
            booked = (await s.scalars(select(Trade).where(Trade.order_id == resting.id))).all()
    finally:
        await runner.ctx.close()
        await w.markets.hubs.close()
        await ctx.hubs.close()
    # The fill is booked on the first sweep; the unknown order fails on the third, with why.
    assert statuses == [
        [("filled", D("0.002")), ("pending", D(0))],
        [("filled", D("0.002")), ("pending", D(0))],
        [("filled", D("0.002")), ("failed", D(0))],
    ]
    assert [(t.executed_price, t.quantity) for t in booked] == [(D(49000), D("0.002"))]
    assert failed is not None and failed.error == (
        f"Never reached the exchange: {venue.name} has no such order."
    )


async def test_a_connection_needs_that_exchanges_credentials(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    with pytest.raises(InvalidInput, match="Bybit keys have no passphrase"):
        await exchanges.add_connection(
            db, alice, exchange="bybit", api_key=KEY, secret=SECRET, passphrase=PASSPHRASE
        )
    with pytest.raises(InvalidInput, match="OKX passphrase must be"):
        await exchanges.add_connection(db, alice, exchange="okx", api_key=KEY, secret=SECRET)
    assert await exchanges.list_connections(db, alice) == []
