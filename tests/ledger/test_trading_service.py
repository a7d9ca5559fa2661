"""Manual trading through the service: paper and live (fake Binance), rows, errors, paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.brokers import CcxtBroker
from core.brokers.connections import open_exchange
from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import Bot, BotBalance, BotWallet
from core.db.models.trading import Order, Position, Trade
from core.errors import Conflict, InvalidInput, NotFound
from core.ledger.orders import OrderDesk
from core.market.errors import (
    ExchangeAuthFailed,
    ExchangeTimeout,
    ExchangeUnavailable,
    InsufficientFunds,
    OrderOutcomeUnknown,
    RateLimited,
)
from core.market.hub import Backoff
from core.services import exchanges, trading
from tests.fake_exchange import Failure, FakeBinance, exchange_factory
from tests.ledger.support import START, count
from tests.service_users import add_user

KEY, SECRET = "LiveKey0000000001", "LiveSecret00000001"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance(hang_seconds=2) as server:
        server.add_account(KEY, SECRET, USDT=5000, BTC="0.5")
        yield server


def context(clock: FrozenClock, fake: FakeBinance | None = None) -> trading.TradingContext:
    factory = exchange_factory(fake, timeout_ms=300) if fake else None
    extra = {"exchanges": factory} if factory else {}
    return trading.TradingContext.simulated(
        seed=7, clock=clock, retry=Backoff(base=0.01, cap=0.02), **extra
    )


async def live_balances(db: Database) -> dict[str, Decimal]:
    async with db.session() as s:
        rows = await s.execute(
            select(BotBalance.asset, BotBalance.amount)
            .join(BotWallet, BotWallet.id == BotBalance.wallet_id)
            .where(BotWallet.wallet_type == "live")
        )
        return {asset: amount for asset, amount in rows if amount}


def exchange_balances(fake: FakeBinance) -> dict[str, Decimal]:
    return {
        a: free + locked
        for a, (free, locked) in fake.accounts[KEY].balances.items()
        if free + locked
    }


# -- paper ------------------------------------------------------------------------------------


async def test_paper_estimate_place_list_and_close(db: Database) -> None:
    clock = FrozenClock(START)
    ctx = context(clock)
    alice = await add_user(db, "alice@example.com")
    account = await trading.paper_account(db, alice, ctx=ctx)
    assert (account.cash, account.total, account.initial_balance) == (Decimal(10000),) * 3

    estimate = await trading.estimate_order(
        db, alice, symbol="eth/usdt", side="BUY", quantity="0.12345", ctx=ctx
    )
    ticker = await ctx.hub("simulated").ticker("ETH/USDT")
    assert (estimate.symbol, estimate.quantity, estimate.price) == (
        "ETH/USDT",
        Decimal("0.1234"),
        ticker.ask,
    )
    assert (
        estimate.fee == estimate.notional * Decimal("0.001")
        and estimate.total == estimate.notional + estimate.fee
    )
    assert estimate.available == Decimal(10000) and estimate.sufficient is True
    assert await count(db, Order) == 0  # estimating places nothing

    order = await trading.place_order(
        db, alice, symbol="ETH/USDT", side="buy", quantity="0.1234", ctx=ctx
    )
    assert order.status == "filled" and order.is_paper and len(order.trades) == 1
    trade = order.trades[0]
    assert trade.bot_id is None  # manual trades have no bot
    (position,) = (await trading.list_positions(db, alice)).items
    assert (
        position.is_manual
        and position.bot_name == "Manual trading (paper)"
        and position.remaining_quantity == Decimal("0.1234")
    )
    async with db.session() as s:
        bot = await s.scalar(select(Bot))
    assert bot is not None and bot.type == "manual" and bot.user_id == alice.user_id

    clock.advance(hours=2)
    closed = await trading.close_position(db, alice, position.id, ctx=ctx)
    assert closed.side == "sell" and closed.status == "filled"
    (done,) = (await trading.list_positions(db, alice, status="closed")).items
    assert done.close_reason == "MANUAL" and done.profit_loss == done.realized_pnl - done.fees_paid
    assert (await trading.list_positions(db, alice)).items == ()
    with pytest.raises(Conflict, match="already closed"):
        await trading.close_position(db, alice, position.id, ctx=ctx)
    account = await trading.paper_account(db, alice, ctx=ctx)
    assert account.cash == Decimal(10000) + done.realized_pnl - done.fees_paid

    point = await trading.snapshot_portfolio(db, alice, ctx=ctx)
    assert point.total_value == account.total
    assert [p.total_value for p in await trading.portfolio_history(db, alice)] == [account.total]


async def test_limit_order_and_cancel_through_the_service(db: Database) -> None:
    ctx = context(FrozenClock(START))
    alice = await add_user(db, "alice@example.com")
    resting = await trading.place_order(
        db, alice, symbol="SOL/USDT", side="buy", type="limit", quantity="3", price="10", ctx=ctx
    )
    assert resting.status == "open" and resting.trades == ()
    assert (await trading.paper_account(db, alice, ctx=ctx)).available == Decimal(10000) - Decimal(
        "30.03"
    )
    cancelled = await trading.cancel_order(db, alice, resting.id, ctx=ctx)
    assert cancelled.status == "cancelled"
    assert (await trading.paper_account(db, alice, ctx=ctx)).available == Decimal(10000)
    bob = await add_user(db, "bob@example.com")
    with pytest.raises(NotFound):
        await trading.cancel_order(db, bob, resting.id, ctx=ctx)


async def test_bad_input_is_a_clear_error(db: Database) -> None:
    ctx = context(FrozenClock(START))
    alice = await add_user(db, "alice@example.com")
    base = {"symbol": "BTC/USDT", "side": "buy", "quantity": "0.01"}
    for override, message in [
        ({"side": "hold"}, "Side must be buy or sell"),
        ({"type": "iceberg"}, "Order type must be"),
        ({"quantity": "lots"}, "is not a number"),
        ({"quantity": 0.1}, "not a float"),
        ({"quantity": "NaN"}, "finite"),
        ({"quantity": "0"}, "positive"),
        ({"symbol": "DOGE/USDT"}, "not an active pair"),
        ({"type": "limit"}, "Price must be a positive"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            await trading.place_order(db, alice, **(base | override), ctx=ctx)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="cursor"):
        await trading.list_trades(db, alice, after="garbage")
    with pytest.raises(InvalidInput):
        await trading.list_trades(db, alice, limit=0)
    assert await count(db, Order) == 0 and await count(db, Trade) == 0


async def test_trades_are_keyset_paged_newest_first(db: Database) -> None:
    clock = FrozenClock(START)
    ctx = context(clock)
    alice = await add_user(db, "alice@example.com")
    bob = await add_user(db, "bob@example.com")
    for i in range(7):
        clock.advance(minutes=1)
        await trading.place_order(
            db, alice, symbol="BNB/USDT", side="buy", quantity="0.01", ctx=ctx
        )
        if i % 3 == 0:
            await trading.place_order(
                db, bob, symbol="BNB/USDT", side="buy", quantity="0.01", ctx=ctx
            )
    seen, after = [], None
    while True:
        page = await trading.list_trades(db, alice, limit=3, after=after)
        seen.extend(page.items)
        after = page.next_cursor
        if after is None:
            break
    assert len(seen) == 7 and len({t.id for t in seen}) == 7
    assert [t.executed_at for t in seen] == sorted((t.executed_at for t in seen), reverse=True)
    assert len((await trading.list_trades(db, bob, limit=50)).items) == 3
    assert (await trading.list_trades(db, alice, symbol="ETH/USDT")).items == ()
    orders = await trading.list_orders(db, alice, limit=5)
    assert len(orders.items) == 5 and orders.next_cursor is not None
    assert len((await trading.list_orders(db, alice, after=orders.next_cursor)).items) == 2


# -- live (fake Binance) ----------------------------------------------------------------------


async def test_live_order_end_to_end_checks_every_row(db: Database, fake: FakeBinance) -> None:
    clock = FrozenClock(START)
    ctx = context(clock, fake)
    alice = await add_user(db, "alice@example.com", plan="pro")
    conn = await exchanges.add_connection(
        db, alice, exchange="binance", api_key=KEY, secret=SECRET, permissions=["trade"]
    )

    estimate = await trading.estimate_order(
        db, alice, symbol="BTC/USDT", side="buy", quantity="0.02", connection_id=conn.id, ctx=ctx
    )
    assert (
        estimate.venue == "Binance" and estimate.available == Decimal(5000) and estimate.sufficient
    )

    order = await trading.place_order(
        db, alice, symbol="BTC/USDT", side="buy", quantity="0.02", connection_id=conn.id, ctx=ctx
    )
    (placed,) = fake.orders.values()
    assert order.status == "filled" and not order.is_paper
    assert (
        order.exchange_order_id == str(placed.order_id)
        and order.client_order_id == placed.client_order_id
    )
    async with db.session() as s:
        row = await s.scalar(select(Order))
        (trade,) = await s.scalars(select(Trade))
        (position,) = await s.scalars(select(Position))
    assert (
        row is not None
        and row.filled == Decimal("0.02")
        and row.error is None
        and row.is_paper is False
    )
    assert (trade.executed_price, trade.quantity, trade.fee, trade.fee_currency) == (
        Decimal(50000),
        Decimal("0.02"),
        Decimal("0.00002"),
        "BTC",
    )
    assert trade.is_paper_trade is False and trade.bot_id is None and trade.total == Decimal(1000)
    assert trade.balance == Decimal(4000)
    assert position.remaining_quantity == Decimal("0.01998") and position.cost_basis == Decimal(
        "999"
    )
    assert position.fees_paid == Decimal("1") and position.is_paper_trade is False
    # The live wallet mirrors the exchange to the last digit.
    assert await live_balances(db) == exchange_balances(fake)
    assert (await exchanges.get_connection(db, alice, conn.id)).last_used == START

    fake.set_price("BTC/USDT", "51000")
    closed = await trading.close_position(db, alice, position.id, ctx=ctx)
    assert closed.status == "filled" and closed.trades[0].executed_price == Decimal(51000)
    (done,) = (await trading.list_positions(db, alice, status="closed")).items
    assert done.realized_pnl == Decimal("0.01998") * 51000 - 999
    assert done.fees_paid == Decimal(1) + closed.trades[0].fee
    assert await live_balances(db) == exchange_balances(fake)


@pytest.mark.parametrize(
    ("failure", "times", "error", "message"),
    [
        (
            Failure.INSUFFICIENT_BALANCE,
            1,
            InsufficientFunds,
            "Binance says the balance is insufficient",
        ),
        (Failure.RATE_LIMIT, 3, RateLimited, "rate limiting requests"),
        (Failure.SERVER_ERROR, 3, ExchangeUnavailable, "unavailable right now"),
        (Failure.TIMEOUT, 3, ExchangeTimeout, "did not answer in time"),
        (Failure.BAD_SIGNATURE, 1, ExchangeAuthFailed, "rejected the API credentials"),
    ],
)
async def test_exchange_errors_leave_a_failed_order_and_nothing_else(
    db: Database,
    fake: FakeBinance,
    failure: Failure,
    times: int,
    error: type[Exception],
    message: str,
) -> None:
    ctx = context(FrozenClock(START), fake)
    alice = await add_user(db, "alice@example.com", plan="pro")
    conn = await exchanges.add_connection(
        db, alice, exchange="binance", api_key=KEY, secret=SECRET, permissions=["trade"]
    )
    before = exchange_balances(fake)
    fake.fail(failure, times=times, method="POST", path="/api/v3/order")
    with pytest.raises(error, match=message) as caught:
        await trading.place_order(
            db,
            alice,
            symbol="BTC/USDT",
            side="buy",
            quantity="0.01",
            connection_id=conn.id,
            ctx=ctx,
        )
    async with db.session() as s:
        (order,) = await s.scalars(select(Order))
    assert (order.status, order.filled, order.error) == ("failed", 0, str(caught.value))
    assert await count(db, Trade) == 0 and await count(db, Position) == 0
    assert fake.orders == {} and exchange_balances(fake) == before
    assert await live_balances(db) == before


async def test_unconfirmed_order_stays_pending_until_reconciled(
    db: Database, fake: FakeBinance
) -> None:
    ctx = context(FrozenClock(START), fake)
    alice = await add_user(db, "alice@example.com", plan="pro")
    conn = await exchanges.add_connection(
        db, alice, exchange="binance", api_key=KEY, secret=SECRET, permissions=["trade"]
    )
    # The exchange takes the order but the answer is lost, and it can't be asked about it.
    fake.fail(Failure.TIMEOUT_AFTER, method="POST", path="/api/v3/order")
    fake.fail(Failure.SERVER_ERROR, times=9, method="GET", path="/api/v3/order")
    with pytest.raises(OrderOutcomeUnknown, match="checked again by its client id"):
        await trading.place_order(
            db,
            alice,
            symbol="BTC/USDT",
            side="buy",
            quantity="0.01",
            connection_id=conn.id,
            ctx=ctx,
        )
    async with db.session() as s:
        (order,) = await s.scalars(select(Order))
    assert order.status == "pending" and await count(db, Trade) == 0 and len(fake.orders) == 1

    fake.clear_failures()
    desk = OrderDesk(clock=ctx.clock)
    async with db.session() as s:
        assert await desk.pending_live_orders(s, older_than=START.replace(year=2100)) == [order.id]
        _, exchange = await open_exchange(s, conn.id, owner_id=alice.user_id, factory=ctx.exchanges)
    try:
        settled = await desk.reconcile(db.sessions, CcxtBroker(exchange, venue="Binance"), order.id)
    finally:
        await exchange.close()
    assert settled.status.value == "filled" and len(settled.fills) == 1
    assert await count(db, Trade) == 1 and len(fake.orders) == 1  # booked once, placed once


async def reconcile(
    db: Database, ctx: trading.TradingContext, owner: str, connection_id: str, order_id: str
):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        _, exchange = await open_exchange(s, connection_id, owner_id=owner, factory=ctx.exchanges)
    try:
        return await OrderDesk(clock=ctx.clock).reconcile(
            db.sessions, CcxtBroker(exchange, venue="Binance"), order_id
        )
    finally:
        await exchange.close()


async def test_an_order_that_never_reached_the_exchange_is_failed_on_reconcile(
    db: Database, fake: FakeBinance
) -> None:
    ctx = context(FrozenClock(START), fake)
    alice = await add_user(db, "alice@example.com", plan="pro")
    conn = await exchanges.add_connection(
        db, alice, exchange="binance", api_key=KEY, secret=SECRET, permissions=["trade"]
    )
    fake.fail(Failure.TIMEOUT, method="POST", path="/api/v3/order")
    fake.fail(Failure.SERVER_ERROR, times=9, method="GET", path="/api/v3/order")
    with pytest.raises(OrderOutcomeUnknown):
        await trading.place_order(
            db,
            alice,
            symbol="BTC/USDT",
            side="buy",
            quantity="0.01",
            connection_id=conn.id,
            ctx=ctx,
        )
    fake.clear_failures()
    (order,) = (await trading.list_orders(db, alice)).items
    settled = await reconcile(db, ctx, alice.user_id, conn.id, order.id)
    assert settled.status.value == "failed" and "Never reached the exchange" in (
        settled.error or ""
    )
    assert await count(db, Trade) == 0 and fake.orders == {}


async def test_live_limit_order_rests_fills_later_and_cancel(
    db: Database, fake: FakeBinance
) -> None:
    ctx = context(FrozenClock(START), fake)
    alice = await add_user(db, "alice@example.com", plan="pro")
    conn = await exchanges.add_connection(
        db, alice, exchange="binance", api_key=KEY, secret=SECRET, permissions=["trade"]
    )
    args = {
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "limit",
        "quantity": "0.01",
        "connection_id": conn.id,
        "ctx": ctx,
    }
    resting = await trading.place_order(db, alice, price="49000", **args)  # type: ignore[arg-type]
    assert resting.status == "open" and resting.exchange_order_id and resting.trades == ()
    fake.set_price("BTC/USDT", "48950")
    filled = await reconcile(db, ctx, alice.user_id, conn.id, resting.id)
    assert filled.status.value == "filled" and len(filled.fills) == 1
    (trade,) = (await trading.list_trades(db, alice)).items
    assert (trade.type, trade.price, trade.executed_price, trade.fee) == (
        "LIMIT",
        Decimal(49000),
        Decimal(49000),
        Decimal("0.00001"),
    )
    again = await reconcile(db, ctx, alice.user_id, conn.id, resting.id)
    assert again.fills == () and await count(db, Trade) == 1  # booked once

    other = await trading.place_order(db, alice, price="40000", **args)  # type: ignore[arg-type]
    cancelled = await trading.cancel_order(db, alice, other.id, ctx=ctx)
    assert cancelled.status == "cancelled"
    assert fake.orders[int(other.exchange_order_id or 0)].status == "CANCELED"
    assert await live_balances(db) == exchange_balances(fake)
