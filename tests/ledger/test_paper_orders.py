"""Paper orders end to end: order, trade, position and balance rows after every step."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.brokers import OrderRequest, OrderStatus, OrderType, Side
from core.db.models.trading import Order, Position, Trade
from core.ledger import Ledger, OrderDesk
from core.ledger.accounting import COST_QUANTUM
from core.market.errors import BelowMinimum, InsufficientFunds
from tests.ledger.support import START, PaperWorld, count, paper_world, wallet_balances


async def rows(world: PaperWorld) -> tuple[list[Order], list[Trade], list[Position]]:
    async with world.db.session() as s:
        orders = list(await s.scalars(select(Order).order_by(Order.created_at, Order.id)))
        trades = list(await s.scalars(select(Trade).order_by(Trade.executed_at, Trade.id)))
        positions = list(await s.scalars(select(Position).order_by(Position.created_at)))
    return orders, trades, positions


async def submit(world: PaperWorld, request: OrderRequest, **kw: object):  # type: ignore[no-untyped-def]
    desk = OrderDesk(clock=world.clock)
    return await desk.submit(
        world.db.sessions,
        world.broker(),
        wallet=world.wallet,
        pair=world.pairs[request.symbol],
        request=request,
        **kw,
    )


async def test_buy_mark_partial_sell_and_close_write_every_row(db) -> None:  # type: ignore[no-untyped-def]
    w = await paper_world(db)
    ticker = await w.hub.ticker("BTC/USDT")
    result = await submit(w, OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, Decimal("0.05")))
    assert result.status is OrderStatus.FILLED and result.filled == Decimal("0.05")

    (order,), (trade,), (position,) = await rows(w)
    price = trade.executed_price
    assert price >= ticker.ask
    cost = Decimal("0.05") * price
    fee = cost * Decimal("0.001")
    assert (order.user_id, order.bot_id, order.wallet_id) == (
        w.actor.user_id,
        w.bot_id,
        w.wallet.id,
    )
    assert (order.type, order.side, order.status, order.price, order.quantity, order.filled) == (
        "market",
        "buy",
        "filled",
        None,
        Decimal("0.05"),
        Decimal("0.05"),
    )
    assert (
        order.is_paper and order.reserved == 0 and order.error is None and order.filled_at == START
    )
    assert order.client_order_id == result.client_order_id and order.client_order_id.startswith(
        "bbx"
    )
    assert (
        order.exchange_id == w.pairs["BTC/USDT"].exchange_id
        and order.pair_id == w.pairs["BTC/USDT"].pair_id
    )
    assert (trade.order_id, trade.position_id, trade.bot_id, trade.user_id) == (
        order.id,
        position.id,
        w.bot_id,
        w.actor.user_id,
    )
    assert (trade.symbol, trade.side, trade.type, trade.status, trade.is_paper_trade) == (
        "BTC/USDT",
        "BUY",
        "MARKET",
        "FILLED",
        True,
    )
    assert (trade.price, trade.quantity, trade.total, trade.fee, trade.fee_currency) == (
        ticker.ask,
        Decimal("0.05"),
        cost,
        fee,
        "USDT",
    )
    assert trade.profit_loss is None and trade.balance == Decimal(10000) - cost - fee
    assert trade.executed_at == START
    assert (
        position.bot_id,
        position.wallet_id,
        position.symbol,
        position.side,
        position.status,
    ) == (w.bot_id, w.wallet.id, "BTC/USDT", "BUY", "open")
    assert (
        position.quantity,
        position.remaining_quantity,
        position.entry_price,
        position.current_price,
    ) == (Decimal("0.05"), Decimal("0.05"), price, price)
    assert (
        position.cost_basis,
        position.total_invested,
        position.fees_paid,
        position.realized_pnl,
    ) == (cost, cost, fee, 0)
    assert position.unrealized_pnl == 0 and position.is_paper_trade and position.peak_price == price
    assert await wallet_balances(db, w.wallet.id) == {
        "USDT": (Decimal(10000) - cost - fee, 0),
        "BTC": (Decimal("0.05"), 0),
    }

    # An hour later the position is revalued at the shared price.
    w.clock.advance(hours=1)
    mark = (await w.hub.ticker("BTC/USDT")).last
    async with db.sessions.begin() as s:
        assert (
            await Ledger(clock=w.clock).mark_to_market(s, w.hub.prices(), wallet_ids=[w.wallet.id])
            == 1
        )
    (_, _, (position,)) = await rows(w)
    assert position.current_price == mark
    assert position.unrealized_pnl == Decimal("0.05") * mark - cost
    assert position.peak_price == max(price, mark) and position.lowest_price == min(price, mark)

    # Sell 0.02: realized on the sold part at the average cost, before fees.
    sold = await submit(w, OrderRequest("BTC/USDT", Side.SELL, OrderType.MARKET, Decimal("0.02")))
    _, trades, (position,) = await rows(w)
    sale = trades[-1]
    assert sale.order_id == sold.order_id and sale.side == "SELL"
    removed = (cost * Decimal("0.02") / Decimal("0.05")).quantize(COST_QUANTUM)
    assert sale.profit_loss == Decimal("0.02") * sale.executed_price - removed
    assert position.remaining_quantity == Decimal("0.03") and position.quantity == Decimal("0.05")
    assert position.cost_basis == cost - removed and position.status == "open"
    assert position.realized_pnl == sale.profit_loss and position.fees_paid == fee + sale.fee
    usdt = Decimal(10000) - cost - fee + sale.total - sale.fee
    assert sale.balance == usdt
    assert await wallet_balances(db, w.wallet.id) == {
        "USDT": (usdt, 0),
        "BTC": (Decimal("0.03"), 0),
    }

    # Sell the rest: the position closes with its P&L after fees.
    w.clock.advance(minutes=10)
    await submit(w, OrderRequest("BTC/USDT", Side.SELL, OrderType.MARKET, Decimal("0.03")))
    orders, trades, (position,) = await rows(w)
    last = trades[-1]
    assert len(orders) == 3 and len(trades) == 3
    assert (
        position.status == "closed"
        and position.remaining_quantity == 0
        and position.cost_basis == 0
    )
    assert position.exit_price == last.executed_price and position.closed_at == START + timedelta(
        minutes=70
    )
    assert position.close_reason == "SIGNAL"
    realized = trades[1].profit_loss + trades[2].profit_loss
    fees = sum(t.fee for t in trades)
    assert position.realized_pnl == realized and position.fees_paid == fees
    assert position.profit_loss == realized - fees
    assert position.profit_loss_percent == ((realized - fees) / cost * 100).quantize(
        Decimal("1e-8")
    )
    assert position.unrealized_pnl == 0
    cash = Decimal(10000) - cost + sum(t.total for t in trades[1:]) - fees
    assert await wallet_balances(db, w.wallet.id) == {"USDT": (cash, 0), "BTC": (0, 0)}
    assert cash == Decimal(10000) + realized - fees  # the identity with nothing open


async def test_rejections_write_nothing(db) -> None:  # type: ignore[no-untyped-def]
    w = await paper_world(db, balance=Decimal("100"))
    with pytest.raises(InsufficientFunds, match="Insufficient USDT in the paper wallet"):
        await submit(w, OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, Decimal("0.01")))
    with pytest.raises(InsufficientFunds, match="needs 1 BTC"):
        await submit(w, OrderRequest("BTC/USDT", Side.SELL, OrderType.MARKET, Decimal("1")))
    with pytest.raises(BelowMinimum):
        await submit(w, OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, Decimal("0.000001")))
    for model in (Order, Trade, Position):
        assert await count(db, model) == 0
    assert await wallet_balances(db, w.wallet.id) == {"USDT": (Decimal(100), 0)}


async def test_resting_limit_buy_locks_funds_then_fills_at_its_price(db) -> None:  # type: ignore[no-untyped-def]
    w = await paper_world(db, balance=Decimal("1000"))
    ask = (await w.hub.ticker("SOL/USDT")).ask
    limit = (ask * Decimal("0.995")).quantize(Decimal("0.01"))
    result = await submit(
        w, OrderRequest("SOL/USDT", Side.BUY, OrderType.LIMIT, Decimal("2"), price=limit)
    )
    assert result.status is OrderStatus.OPEN
    reserved = Decimal(2) * limit * Decimal("1.001")
    (order,), trades, _ = await rows(w)
    assert trades == [] and order.reserved == reserved and order.price == limit
    assert await wallet_balances(db, w.wallet.id) == {"USDT": (Decimal(1000), reserved)}
    # The locked funds can't be spent twice.
    with pytest.raises(InsufficientFunds):
        await submit(w, OrderRequest("SOL/USDT", Side.BUY, OrderType.MARKET, Decimal("6")))

    desk = OrderDesk(clock=w.clock)
    filled = []
    for _ in range(6 * 48):
        w.clock.advance(minutes=10)
        tickers = {"SOL/USDT": await w.hub.ticker("SOL/USDT")}
        async with db.sessions.begin() as s:
            filled = await desk.process_prices(s, w.broker(), tickers)
        if filled:
            break
    assert [r.status for r in filled] == [OrderStatus.FILLED]
    (order,), (trade,), (position,) = await rows(w)
    assert order.status == "filled" and order.reserved == 0 and order.filled == 2
    assert order.filled_at == w.clock.now() and tickers["SOL/USDT"].ask <= limit
    assert (trade.type, trade.price, trade.executed_price) == ("LIMIT", limit, limit)
    assert trade.fee == Decimal(2) * limit * Decimal("0.001")  # the maker fee
    spent = Decimal(2) * limit + trade.fee
    assert await wallet_balances(db, w.wallet.id) == {
        "USDT": (Decimal(1000) - spent, 0),
        "SOL": (Decimal(2), 0),
    }
    assert position.cost_basis == Decimal(2) * limit


async def test_cancel_releases_the_lock(db) -> None:  # type: ignore[no-untyped-def]
    w = await paper_world(db, balance=Decimal("1000"))
    result = await submit(
        w, OrderRequest("ETH/USDT", Side.BUY, OrderType.LIMIT, Decimal("0.1"), price=Decimal("100"))
    )
    desk = OrderDesk(clock=w.clock)
    cancelled = await desk.cancel(db.sessions, w.broker(), result.order_id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert await wallet_balances(db, w.wallet.id) == {"USDT": (Decimal(1000), 0)}
    with pytest.raises(Exception, match="already cancelled"):
        await desk.cancel(db.sessions, w.broker(), result.order_id)


async def test_stop_loss_or_take_profit_closes_the_position_and_cancels_the_other(db) -> None:  # type: ignore[no-untyped-def]
    w = await paper_world(db)
    await submit(w, OrderRequest("WIF/USDT", Side.BUY, OrderType.MARKET, Decimal("100")))
    bid = (await w.hub.ticker("WIF/USDT")).bid
    stop = await submit(
        w,
        OrderRequest(
            "WIF/USDT",
            Side.SELL,
            OrderType.STOP_LOSS,
            Decimal("100"),
            stop_price=bid * Decimal("0.98"),
        ),
    )
    take = await submit(
        w,
        OrderRequest(
            "WIF/USDT",
            Side.SELL,
            OrderType.TAKE_PROFIT,
            Decimal("100"),
            stop_price=bid * Decimal("1.02"),
        ),
    )
    assert stop.status is take.status is OrderStatus.OPEN
    desk = OrderDesk(clock=w.clock)
    done = []
    for _ in range(7 * 24 * 12):
        w.clock.advance(minutes=5)
        async with db.sessions.begin() as s:
            done = await desk.process_prices(
                s, w.broker(), {"WIF/USDT": await w.hub.ticker("WIF/USDT")}
            )
        if done:
            break
    (hit,) = done
    orders, trades, (position,) = await rows(w)
    by_id = {o.id: o for o in orders}
    other = take if hit.order_id == stop.order_id else stop
    assert by_id[hit.order_id].status == "filled"
    assert by_id[other.order_id].status == "cancelled"
    assert by_id[other.order_id].error == "Cancelled: the position was closed."
    assert position.status == "closed"
    assert position.close_reason == (
        "STOP_LOSS" if hit.order_id == stop.order_id else "TAKE_PROFIT"
    )
    assert trades[-1].type == "MARKET" and trades[-1].price == by_id[hit.order_id].stop_price
    assert await wallet_balances(db, w.wallet.id) == {
        "USDT": (trades[-1].balance, 0),
        "WIF": (0, 0),
    }


async def test_positions_add_up_with_average_cost_and_count_dca(db) -> None:  # type: ignore[no-untyped-def]
    w = await paper_world(db)
    await submit(w, OrderRequest("ETH/USDT", Side.BUY, OrderType.MARKET, Decimal("0.5")))
    w.clock.advance(hours=6)
    await submit(
        w,
        OrderRequest("ETH/USDT", Side.BUY, OrderType.MARKET, Decimal("0.25")),
        stop_loss=Decimal("100"),
    )
    _, trades, (position,) = await rows(w)
    assert position.dca_count == 1 and position.last_dca_time == w.clock.now()
    assert position.quantity == position.remaining_quantity == Decimal("0.75")
    assert position.cost_basis == trades[0].total + trades[1].total
    assert position.entry_price == (position.cost_basis / Decimal("0.75")).quantize(COST_QUANTUM)
    assert position.stop_loss == Decimal(100)
