"""Orders for bots, in the caller's transaction where the market allows it.

A paper order is written in the caller's transaction, together with the cycle's execution row:
both are committed, or neither. A live order can't be: ``OrderDesk.place_live`` commits the order
as pending before the exchange hears of it and its answer afterwards, in transactions of their
own (the caller's transaction must hold no lock on the wallet's balances meanwhile).

Client order ids of cycle orders are derived from the cycle's ``execution_id``, so a cycle that
is run again after a crash asks for the same order again: the database (``orders.
client_order_id`` is unique) and the exchange refuse a second one.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.brokers.paper import PaperBroker
from core.brokers.types import CLIENT_ID_PREFIX, OrderRequest, OrderStatus, OrderType, Side
from core.db.models.trading import Order
from core.engine.venues import Venue
from core.ledger.book import CloseReason
from core.ledger.orders import OrderDesk, OrderResult
from core.market.catalog import load_pair_by_id
from core.market.types import Ticker

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def client_order_id(execution_id: str, leg: int = 0) -> str:
    """A stable client order id for the ``leg``-th order of a cycle: ``bbx`` and 25 base-36
    characters (28 in all: fine for Binance and OKX)."""
    digest = int.from_bytes(hashlib.sha256(f"{execution_id}/{leg}".encode()).digest()[:16], "big")
    chars = []
    for _ in range(25):
        digest, rest = divmod(digest, 36)
        chars.append(_ALPHABET[rest])
    return CLIENT_ID_PREFIX + "".join(chars)


async def submit(
    session: AsyncSession,
    desk: OrderDesk,
    venue: Venue,
    request: OrderRequest,
    *,
    close_reason: CloseReason | None = None,
    stop_loss: Decimal | None = None,
    take_profit: Decimal | None = None,
) -> OrderResult:
    pair = await venue.pair(session, request.symbol)
    if venue.is_paper:
        return await desk.place_paper(
            session,
            venue.broker,
            wallet=venue.wallet,
            pair=pair,
            request=request,
            close_reason=close_reason,
            stop_loss=stop_loss,
            take_profit=take_profit,
        )
    sessions = async_sessionmaker(session.bind, expire_on_commit=False)
    return await desk.place_live(
        sessions,
        venue.broker,  # type: ignore[arg-type]
        wallet=venue.wallet,
        pair=pair,
        request=request,
        close_reason=close_reason,
        stop_loss=stop_loss,
        take_profit=take_profit,
    )


async def buy_quantity(
    session: AsyncSession, venue: Venue, symbol: str, budget: Decimal, ticker: Ticker
) -> Decimal:
    """How much ``budget`` (quote, fees included) buys at the ask, cut to the pair's step."""
    pair = await venue.pair(session, symbol)
    if budget <= 0 or ticker.ask <= 0:
        return Decimal(0)
    slip = Decimal(0)
    if isinstance(venue.broker, PaperBroker):
        slip = venue.broker.slippage.fraction(budget, ticker)
    # The price the order will likely pay, one tick worse, plus the taker fee on top.
    price = ticker.ask * (1 + slip) + _tick(pair)
    raw = (budget / (price * (1 + pair.info.taker_fee))).quantize(
        Decimal("1e-18"), rounding=ROUND_DOWN
    )
    quantity = pair.info.round_quantity(raw)
    return quantity if quantity >= pair.info.min_quantity else Decimal(0)


def _tick(pair) -> Decimal:
    return Decimal(1).scaleb(-pair.info.price_precision)


def market(symbol: str, side: Side, quantity: Decimal, client_id: str) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.MARKET, quantity, client_order_id=client_id)


async def cancel_resting(
    session: AsyncSession, desk: OrderDesk, venue: Venue, reason: str
) -> list[str]:
    """Cancel the wallet's resting paper orders (releasing what they lock); returns their ids.

    Live orders rest on the exchange: they are cancelled there by ``OrderDesk.cancel``."""
    orders = (
        await session.scalars(
            select(Order)
            .where(Order.wallet_id == venue.wallet.id, Order.status == OrderStatus.OPEN.value)
            .with_for_update()
        )
    ).all()
    cancelled = []
    for order in orders:
        if not order.is_paper:
            continue
        pair = await load_pair_by_id(session, order.pair_id)
        await desk._cancel(session, order, venue.wallet, pair, reason)
        cancelled.append(order.id)
    return cancelled
