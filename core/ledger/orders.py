"""The order desk: an order's whole life in the ``orders`` table, fills booked by the ledger.

Paper orders run in one transaction: the paper broker prices them, and either the order is
recorded with its fills, or (rejected) nothing is written at all. Resting paper orders (limit,
stop-loss, take-profit) wait in ``orders`` with status ``open``; ``process_prices`` fills the
ones the new prices cross. A resting limit order locks its funds (``orders.reserved``).

Live orders go through the exchange and must survive a crash between "sent" and "recorded":

1. the order is committed as ``pending`` with its client order id before anything is sent;
2. the ccxt broker places it (idempotently, retrying safely by client id);
3. the answer is committed: status, exchange id, fills booked by the ledger.

A rejection marks the order ``failed`` with the reason (no trade, no balance change). If the
exchange never confirmed either way, the order stays ``pending`` and ``reconcile`` settles it
later by asking the exchange for that client id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from core.brokers.ccxt_broker import CcxtBroker
from core.brokers.paper import PaperBroker, reservation
from core.brokers.types import (
    Broker,
    BrokerOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.trading import Order, Trade, TradingPair
from core.errors import Conflict, InvalidInput, NotFound, ServiceError
from core.ids import new_id
from core.ledger.book import AppliedFill, CloseReason, Ledger
from core.ledger.wallets import WalletFunds, WalletInfo, get_wallet, release, reserve
from core.market.catalog import Pair, load_pair_by_id
from core.market.errors import OrderOutcomeUnknown
from core.market.types import Ticker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str
    client_order_id: str
    status: OrderStatus
    filled: Decimal
    fills: tuple[AppliedFill, ...] = ()
    exchange_order_id: str | None = None
    error: str | None = None


def request_of(order: Order, symbol: str) -> OrderRequest:
    assert order.client_order_id is not None
    return OrderRequest(
        symbol=symbol,
        side=Side(order.side),
        type=OrderType(order.type),
        quantity=order.quantity,
        price=order.price,
        stop_price=order.stop_price,
        client_order_id=order.client_order_id,
    )


def _result(order: Order, fills: Sequence[AppliedFill] = ()) -> OrderResult:
    return OrderResult(
        order_id=order.id,
        client_order_id=order.client_order_id or "",
        status=OrderStatus(order.status),
        filled=order.filled,
        fills=tuple(fills),
        exchange_order_id=order.exchange_order_id,
        error=order.error,
    )


@dataclass
class OrderDesk:
    ledger: Ledger = field(default_factory=Ledger)
    clock: Clock = SYSTEM_CLOCK
    new_id: Callable[[], str] = new_id
    """Ids of the orders it writes (see ``Ledger.new_id``)."""

    def _row(
        self, wallet: WalletInfo, pair: Pair, request: OrderRequest, status: OrderStatus
    ) -> Order:
        now = self.clock.now()
        return Order(
            id=self.new_id(),
            user_id=wallet.user_id,
            bot_id=wallet.trade_bot_id,
            exchange_id=pair.exchange_id,
            pair_id=pair.pair_id,
            wallet_id=wallet.id,
            type=request.type.value,
            side=request.side.value,
            price=request.price,
            stop_price=request.stop_price,
            quantity=request.quantity,
            filled=Decimal(0),
            status=status.value,
            client_order_id=request.client_order_id,
            is_paper=wallet.is_paper,
            reserved=Decimal(0),
            created_at=now,
            updated_at=now,
        )

    # -- placing ------------------------------------------------------------------------------

    async def submit(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        *,
        wallet: WalletInfo,
        pair: Pair,
        request: OrderRequest,
        close_reason: CloseReason | None = None,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
    ) -> OrderResult:
        """Place an order in either mode, committing as it goes (see the module docstring)."""
        if broker.is_paper != wallet.is_paper:
            raise InvalidInput("Paper wallets trade through the paper broker, live ones live.")
        if wallet.is_paper:
            async with sessions() as session, session.begin():
                return await self.place_paper(
                    session,
                    broker,
                    wallet=wallet,
                    pair=pair,
                    request=request,
                    close_reason=close_reason,
                    stop_loss=stop_loss,
                    take_profit=take_profit,
                )
        assert isinstance(broker, CcxtBroker)
        return await self.place_live(
            sessions,
            broker,
            wallet=wallet,
            pair=pair,
            request=request,
            close_reason=close_reason,
            stop_loss=stop_loss,
            take_profit=take_profit,
        )

    async def place_paper(
        self,
        session: AsyncSession,
        broker: Broker,
        *,
        wallet: WalletInfo,
        pair: Pair,
        request: OrderRequest,
        close_reason: CloseReason | None = None,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
    ) -> OrderResult:
        """A paper order inside the caller's transaction. Rejections raise; nothing is written."""
        request = request.normalized(pair.info)
        if isinstance(broker, PaperBroker) and broker.funds is None:
            broker = replace(broker, funds=WalletFunds(session, wallet.id))
        answer = await broker.place(request, pair.info)
        order = self._row(wallet, pair, request, answer.status)
        session.add(order)
        if answer.status is OrderStatus.OPEN and request.type is OrderType.LIMIT:
            asset = pair.info.quote if request.side is Side.BUY else pair.info.base
            order.reserved = reservation(request, pair.info)
            await reserve(session, wallet.id, asset, order.reserved)
        applied = await self._book(
            session, order, answer, wallet, pair, close_reason, stop_loss, take_profit, new=True
        )
        return _result(order, applied)

    async def place_live(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: CcxtBroker,
        *,
        wallet: WalletInfo,
        pair: Pair,
        request: OrderRequest,
        close_reason: CloseReason | None = None,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
    ) -> OrderResult:
        request = request.normalized(pair.info)
        async with sessions() as session, session.begin():
            order = self._row(wallet, pair, request, OrderStatus.PENDING)
            session.add(order)
            await session.flush()
            order_id = order.id
        try:
            answer = await broker.place(request, pair.info)
        except OrderOutcomeUnknown as exc:
            await self._note(sessions, order_id, None, str(exc))
            raise
        except ServiceError as exc:
            await self._note(sessions, order_id, OrderStatus.FAILED, str(exc))
            raise
        async with sessions() as session, session.begin():
            order = await self._lock(session, order_id)
            applied = await self._book(
                session, order, answer, wallet, pair, close_reason, stop_loss, take_profit
            )
            return _result(order, applied)

    async def _note(
        self,
        sessions: async_sessionmaker[AsyncSession],
        order_id: str,
        status: OrderStatus | None,
        error: str,
    ) -> None:
        async with sessions() as session, session.begin():
            order = await self._lock(session, order_id)
            if status is not None:
                order.status = status.value
            order.error = error
            order.updated_at = self.clock.now()

    @staticmethod
    async def _lock(session: AsyncSession, order_id: str) -> Order:
        order = await session.scalar(
            select(Order)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if order is None:
            raise NotFound(f"No order {order_id!r}.")
        return order

    async def _book(
        self,
        session: AsyncSession,
        order: Order,
        answer: BrokerOrder,
        wallet: WalletInfo,
        pair: Pair,
        close_reason: CloseReason | None,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        release_reserved: bool = False,
        new: bool = False,
    ) -> list[AppliedFill]:
        """Record a broker's answer: the order's state, and its new fills through the ledger."""
        recorded = 0
        if not new:
            recorded = int(
                await session.scalar(
                    select(func.count()).select_from(Trade).where(Trade.order_id == order.id)
                )
                or 0
            )
        order.status = answer.status.value
        order.filled = max(order.filled, answer.filled)
        order.exchange_order_id = answer.exchange_order_id or order.exchange_order_id
        order.error = answer.reason
        order.updated_at = self.clock.now()
        flag_modified(order, "updated_at")  # the clock's time even if unchanged, not now()
        if answer.status is OrderStatus.FILLED and order.filled_at is None:
            fills = answer.fills
            order.filled_at = fills[-1].executed_at if fills else self.clock.now()
        applied: list[AppliedFill] = []
        for fill in answer.fills[recorded:]:
            unlock = order.reserved if release_reserved else Decimal(0)
            applied.append(
                await self.ledger.apply_fill(
                    session,
                    fill,
                    wallet=wallet,
                    pair=pair,
                    order_id=order.id,
                    close_reason=close_reason,
                    stop_loss=stop_loss,
                    take_profit=take_profit,
                    release=unlock,
                )
            )
            if unlock:
                order.reserved = Decimal(0)
        await session.flush()
        if any(a.position_closed for a in applied):
            await self._cancel_orphans(session, wallet, pair)
        return applied

    # -- resting paper orders -----------------------------------------------------------------

    async def process_prices(
        self,
        session: AsyncSession,
        broker: PaperBroker,
        tickers: Mapping[str, Ticker],
        *,
        wallet_ids: Sequence[str] | None = None,
    ) -> list[OrderResult]:
        """Fill the resting paper orders these prices cross (oldest first)."""
        if not tickers:
            return []
        stmt = (
            select(Order, TradingPair.symbol)
            .join(TradingPair, TradingPair.id == Order.pair_id)
            .where(
                Order.status == OrderStatus.OPEN.value,
                Order.is_paper.is_(True),
                TradingPair.symbol.in_(list(tickers)),
            )
            .order_by(Order.created_at, Order.id)
            .with_for_update(of=Order, skip_locked=True)
        )
        if wallet_ids is not None:
            stmt = stmt.where(Order.wallet_id.in_(list(wallet_ids)))
        results: list[OrderResult] = []
        for order, symbol in (await session.execute(stmt)).all():
            if order.status != OrderStatus.OPEN.value or order.wallet_id is None:
                continue  # cancelled as an orphan earlier in this pass
            pair = await load_pair_by_id(session, order.pair_id)
            request = request_of(order, symbol)
            fill = broker.match(request, pair.info, tickers[symbol])
            if fill is None:
                continue
            wallet = await get_wallet(session, order.wallet_id)
            reason = {
                OrderType.STOP_LOSS: CloseReason.STOP_LOSS,
                OrderType.TAKE_PROFIT: CloseReason.TAKE_PROFIT,
            }.get(request.type)
            answer = BrokerOrder(
                request.client_order_id,
                OrderStatus.FILLED,
                filled=fill.quantity,
                fills=(fill,),
                average_price=fill.price,
            )
            try:
                async with session.begin_nested():
                    applied = await self._book(
                        session,
                        order,
                        answer,
                        wallet,
                        pair,
                        reason,
                        None,
                        None,
                        release_reserved=True,
                    )
            except ServiceError as exc:
                # e.g. a stop-loss whose position was sold meanwhile: it can't fill any more.
                await session.refresh(order)
                await self._cancel(session, order, wallet, pair, f"Not filled: {exc}")
                results.append(_result(order))
                continue
            results.append(_result(order, applied))
        return results

    async def _cancel_orphans(self, session: AsyncSession, wallet: WalletInfo, pair: Pair) -> None:
        """The position is closed: its resting stop-loss / take-profit orders have nothing to sell."""
        orphans = await session.scalars(
            select(Order).where(
                Order.wallet_id == wallet.id,
                Order.pair_id == pair.pair_id,
                Order.status == OrderStatus.OPEN.value,
                Order.type.in_([OrderType.STOP_LOSS.value, OrderType.TAKE_PROFIT.value]),
                Order.is_paper.is_(True),
            )
        )
        for order in orphans:
            await self._cancel(session, order, wallet, pair, "Cancelled: the position was closed.")

    async def _cancel(
        self,
        session: AsyncSession,
        order: Order,
        wallet: WalletInfo,
        pair: Pair,
        reason: str | None,
    ) -> None:
        if order.reserved:
            asset = pair.info.quote if order.side == Side.BUY.value else pair.info.base
            await release(session, wallet.id, asset, order.reserved)
            order.reserved = Decimal(0)
        order.status = OrderStatus.CANCELLED.value
        order.error = reason
        order.updated_at = self.clock.now()
        await session.flush()

    # -- cancelling and reconciling -----------------------------------------------------------

    async def cancel(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker,
        order_id: str,
    ) -> OrderResult:
        """Cancel an open (or pending live) order; fills that happened first are kept."""
        async with sessions() as session, session.begin():
            order = await self._lock(session, order_id)
            if OrderStatus(order.status).is_final:
                raise Conflict(f"The order is already {order.status}.")
            if order.wallet_id is None:
                raise Conflict("The order's wallet no longer exists.")
            pair = await load_pair_by_id(session, order.pair_id)
            wallet = await get_wallet(session, order.wallet_id)
            if order.is_paper:
                await self._cancel(session, order, wallet, pair, None)
                return _result(order)
            request = request_of(order, pair.symbol)
            exchange_order_id = order.exchange_order_id
        answer = await broker.cancel(request, pair.info, exchange_order_id=exchange_order_id)
        async with sessions() as session, session.begin():
            order = await self._lock(session, order_id)
            applied = await self._book(session, order, answer, wallet, pair, None, None, None)
            return _result(order, applied)

    async def reconcile(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: CcxtBroker,
        order_id: str,
        *,
        fail_unknown: bool = True,
    ) -> OrderResult:
        """Bring a live order in line with the exchange (after a crash or an unconfirmed send).

        A pending order the exchange doesn't know is marked failed, unless ``fail_unknown`` is
        off (the sweep asks a few times first): then the exchange's answer is raised."""
        async with sessions() as session:
            order = await session.get(Order, order_id)
            if order is None or order.is_paper or order.wallet_id is None:
                raise NotFound(f"No live order {order_id!r}.")
            pair = await load_pair_by_id(session, order.pair_id)
            wallet = await get_wallet(session, order.wallet_id)
            request = request_of(order, pair.symbol)
            exchange_order_id = order.exchange_order_id
            pending = order.status == OrderStatus.PENDING.value
        try:
            answer = await broker.fetch(request, exchange_order_id=exchange_order_id)
        except InvalidInput as exc:  # the exchange has no such order
            if not pending or not fail_unknown:
                raise
            await self._note(
                sessions, order_id, OrderStatus.FAILED, f"Never reached the exchange: {exc}"
            )
            async with sessions() as session:
                order = await session.get(Order, order_id)
                assert order is not None
                return _result(order)
        async with sessions() as session, session.begin():
            order = await self._lock(session, order_id)
            applied = await self._book(session, order, answer, wallet, pair, None, None, None)
            return _result(order, applied)

    async def pending_live_orders(self, session: AsyncSession, older_than: datetime) -> list[str]:
        """Live orders still pending or open, for a periodic ``reconcile`` pass."""
        rows = await session.scalars(
            select(Order.id).where(
                Order.is_paper.is_(False),
                Order.status.in_([OrderStatus.PENDING.value, OrderStatus.OPEN.value]),
                Order.updated_at < older_than,
            )
        )
        return list(rows)
