"""Manual trading: estimate, place and cancel orders, close positions, list the ledger.

Orders go either to the paper market (no connection: the user's manual paper wallet, priced
by the simulated market) or to one of the user's exchange connections (live or testnet). The
paper wallet starts with ``TradingContext.paper_balance``. Lists are keyset-paged, newest
first; a page's ``next_cursor`` is handed back as ``after`` for the next page.

Everything is scoped to the acting user: positions through their bots, trades and orders
through ``user_id``, connections through their owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.brokers.ccxt_broker import CcxtBroker
from core.brokers.connections import ConnectionInfo, open_exchange
from core.brokers.paper import PaperBroker, SlippageModel
from core.brokers.types import Broker, OrderRequest, OrderStatus, OrderType, Side
from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.trading import Exchange, Order, PortfolioHistory, Position, Trade, TradingPair
from core.errors import Conflict, InvalidInput, NotFound
from core.ledger.book import CloseReason
from core.ledger.orders import OrderDesk, OrderResult
from core.ledger.snapshots import snapshot_portfolio as store_portfolio_snapshot
from core.ledger.snapshots import wallet_values
from core.ledger.wallets import (
    DEFAULT_PAPER_BALANCE,
    WalletFunds,
    WalletInfo,
    balances,
    get_wallet,
    manual_wallet,
    sync_balances,
)
from core.market.catalog import Pair, load_pair, sync_markets
from core.market.ccxt_client import ExchangeFactory
from core.market.ccxt_feed import CcxtFeed
from core.market.errors import UnknownSymbol, venue_name
from core.market.exchange_list import exchange_spec
from core.market.fee_tiers import load_fee_tier, with_fee_tier
from core.market.hub import Backoff, MarketHubs, PriceHub
from core.market.simulated import SimulatedMarket
from core.market.types import MarketInfo, quantum
from core.services.actor import Actor
from core.services.like import containing
from core.services.plans import Limit, check_limit
from core.services.trading_views import (
    AccountView,
    OrderEstimate,
    OrderView,
    Page,
    PortfolioPoint,
    PositionView,
    TradeView,
    order_view,
    position_view,
    trade_view,
)

T = TypeVar("T")
PAPER_FEED = "simulated"
MAX_PAGE = 500


@dataclass
class TradingContext:
    """What trading needs besides the database: prices, exchange clients, the clock."""

    hubs: MarketHubs
    exchanges: ExchangeFactory = field(default_factory=ExchangeFactory)
    clock: Clock = SYSTEM_CLOCK
    paper_balance: Decimal = DEFAULT_PAPER_BALANCE
    slippage: SlippageModel = field(default_factory=SlippageModel)
    retry: Backoff = field(default_factory=lambda: Backoff(base=0.5, cap=5.0))
    """Waits between an exchange's retried requests."""

    @classmethod
    def simulated(
        cls, *, seed: int | None = None, clock: Clock = SYSTEM_CLOCK, **kwargs: object
    ) -> TradingContext:
        market = (
            SimulatedMarket(clock=clock)
            if seed is None
            else SimulatedMarket(seed=seed, clock=clock)
        )
        hubs = MarketHubs()
        hubs.add(PriceHub(market, clock=clock))
        return cls(hubs=hubs, clock=clock, **kwargs)  # type: ignore[arg-type]

    @property
    def desk(self) -> OrderDesk:
        return OrderDesk(clock=self.clock)

    def hub(self, name: str) -> PriceHub:
        hub = self.hubs.get(name)
        if hub is None:
            raise Conflict(f"No price feed {name!r} is running.")
        return hub

    def paper_hub(self, market: str | None) -> PriceHub:
        """Paper prices: the simulated market, or an exchange's public data (no keys)."""
        if market is None or market == PAPER_FEED:
            return self.hub(PAPER_FEED)
        spec = exchange_spec(market)
        return self.hubs.public(self.exchanges, spec.id, clock=self.clock)


# -- input ------------------------------------------------------------------------------------


def _decimal(value: Decimal | str | int | None, name: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        raise InvalidInput(f"{name} must be given as a decimal, not a float.", field=name)
    try:
        number = Decimal(value.strip().replace(",", "") if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(
            f"{name.replace('_', ' ').capitalize()} {value!r} is not a number.", field=name
        ) from None
    if not number.is_finite():
        raise InvalidInput(
            f"{name.replace('_', ' ').capitalize()} must be a finite number.", field=name
        )
    return number


def _request(
    symbol: str,
    side: str,
    type: str,
    quantity: Decimal | str | int,
    price: Decimal | str | int | None,
    stop_price: Decimal | str | int | None,
) -> OrderRequest:
    try:
        side_ = Side(str(side).strip().lower())
    except ValueError:
        raise InvalidInput("Side must be buy or sell.", field="side") from None
    try:
        type_ = OrderType(str(type).strip().lower())
    except ValueError:
        raise InvalidInput(
            "Order type must be market, limit, stop_loss or take_profit.", field="type"
        ) from None
    qty = _decimal(quantity, "quantity")
    if qty is None:
        raise InvalidInput("Quantity is required.", field="quantity")
    return OrderRequest(
        symbol=(symbol or "").strip().upper(),
        side=side_,
        type=type_,
        quantity=qty,
        price=_decimal(price, "price"),
        stop_price=_decimal(stop_price, "stop_price"),
    )


def _cursor(after: str | None) -> tuple[datetime, str] | None:
    if not after:
        return None
    stamp, sep, row_id = after.partition("|")
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        moment = None
    if not sep or not row_id or moment is None or moment.tzinfo is None:
        raise InvalidInput(
            "That page cursor is not valid; start from the first page.", field="after"
        )
    return moment, row_id


def _next(items: list[T], limit: int, key: tuple[datetime, str] | None) -> str | None:
    if len(items) < limit or key is None:
        return None
    return f"{key[0].isoformat()}|{key[1]}"


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    return limit


# -- venue plumbing ---------------------------------------------------------------------------


async def _pair(session: AsyncSession, feed_name: str, symbol: str, load_feed) -> Pair:
    """The stored pair; on first use of a venue its markets are loaded and stored."""
    try:
        return await load_pair(session, feed_name, symbol)
    except UnknownSymbol:
        known = await session.scalar(select(Exchange.id).where(Exchange.name == feed_name))
        if known:
            raise
    await sync_markets(session, await load_feed())
    return await load_pair(session, feed_name, symbol)


@dataclass
class _Venue:
    wallet: WalletInfo
    pair: Pair
    broker: Broker
    connection: ConnectionInfo | None = None

    async def close(self) -> None:
        if isinstance(self.broker, CcxtBroker):
            await self.broker.exchange.close()


async def _paper_venue(
    session: AsyncSession,
    actor: Actor,
    symbol: str,
    ctx: TradingContext,
    *,
    feed: str = PAPER_FEED,
    wallet: WalletInfo | None = None,
) -> _Venue:
    hub = ctx.paper_hub(feed)

    async def load_feed():
        return hub.feed

    pair = await _pair(session, hub.name, symbol, load_feed)
    if hub.name != PAPER_FEED:  # the user's own fees on that exchange, if they set a tier
        pair = with_fee_tier(pair, await load_fee_tier(session, actor.user_id, hub.name))
    if wallet is None:
        wallet = await manual_wallet(
            session, actor.user_id, initial_balance=ctx.paper_balance, at=ctx.clock.now()
        )
    label = "Paper" if hub.name == PAPER_FEED else f"Paper · {venue_name(hub.name)} prices"
    broker = PaperBroker(hub, clock=ctx.clock, slippage=ctx.slippage, venue=label)
    return _Venue(wallet, pair, broker)


async def _live_venue(
    session: AsyncSession,
    connection_id: str,
    owner_id: str,
    symbol: str,
    ctx: TradingContext,
    *,
    trade: bool,
    wallet: WalletInfo | None = None,
) -> _Venue:
    info, exchange = await open_exchange(
        session,
        connection_id,
        owner_id=owner_id,
        factory=ctx.exchanges,
        clock=ctx.clock,
        trade=trade,
    )
    broker = CcxtBroker(exchange, venue=info.venue, clock=ctx.clock, backoff=ctx.retry)
    try:

        async def load_feed():
            return CcxtFeed(exchange, name=info.feed_name, testnet=info.is_testnet)

        pair = await _pair(session, info.feed_name, symbol, load_feed)
        if wallet is None:
            wallet = await manual_wallet(session, owner_id, connection_id=info.id, venue=info.venue)
    except BaseException:
        await exchange.close()
        raise
    return _Venue(wallet, pair, broker, info)


async def _sync_live(db: Database, venue: _Venue) -> dict[str, Decimal]:
    """Mirror the exchange's balances into the live wallet before trading on it."""
    assert isinstance(venue.broker, CcxtBroker)
    totals = await venue.broker.balances()
    async with db.session() as session, session.begin():
        await sync_balances(session, venue.wallet.id, totals)
    return totals


async def _check_live_notional(venue: _Venue, request: OrderRequest) -> None:
    """A live market order under the minimum order value is refused here, in our words, before
    the exchange refuses it in its own (a limit order is checked at its price already)."""
    info = venue.pair.info
    if request.type is not OrderType.MARKET or not info.min_notional:
        return
    assert isinstance(venue.broker, CcxtBroker)
    ticker = await CcxtFeed(venue.broker.exchange, name=venue.pair.exchange).ticker(request.symbol)
    request.normalized(info, ticker.ask if request.side is Side.BUY else ticker.bid)


async def _order_result(db: Database, result: OrderResult) -> OrderView:
    async with db.session() as session:
        row = (
            await session.execute(
                select(Order, TradingPair.symbol)
                .join(TradingPair, TradingPair.id == Order.pair_id)
                .where(Order.id == result.order_id)
            )
        ).one()
        trades = await session.scalars(
            select(Trade)
            .where(Trade.order_id == result.order_id)
            .order_by(Trade.executed_at, Trade.id)
        )
        return order_view(row[0], row[1], tuple(trade_view(t) for t in trades))


# -- service functions ------------------------------------------------------------------------


async def estimate_order(
    db: Database,
    actor: Actor,
    *,
    symbol: str,
    side: str,
    quantity: Decimal | str | int,
    type: str = "market",
    price: Decimal | str | int | None = None,
    stop_price: Decimal | str | int | None = None,
    connection_id: str | None = None,
    market: str | None = None,
    ctx: TradingContext,
) -> OrderEstimate:
    """Cost, fee and balance check for the confirm dialog; places nothing. Paper orders (no
    ``connection_id``) are priced by ``market``'s public data, or the simulated market."""
    request = _request(symbol, side, type, quantity, price, stop_price)
    async with db.session() as session:
        if connection_id is None:
            venue = await _paper_venue(
                session, actor, request.symbol, ctx, feed=market or PAPER_FEED
            )
            await session.commit()  # the manual wallet, if this was its first use
        else:
            venue = await _live_venue(
                session, connection_id, actor.user_id, request.symbol, ctx, trade=False
            )
            await session.commit()
        try:
            info = venue.pair.info
            if isinstance(venue.broker, PaperBroker):
                ticker = await venue.broker.prices.ticker(request.symbol)
                available: Decimal | None = await WalletFunds(session, venue.wallet.id).available(
                    info.quote if request.side is Side.BUY else info.base
                )
            else:
                assert isinstance(venue.broker, CcxtBroker)
                ticker = await CcxtFeed(venue.broker.exchange, name=venue.pair.exchange).ticker(
                    request.symbol
                )
                totals = await venue.broker.balances()
                available = totals.get(
                    info.quote if request.side is Side.BUY else info.base, Decimal(0)
                )
        finally:
            await venue.close()
    typed = request
    request = request.normalized(info, ticker.ask if request.side is Side.BUY else ticker.bid)
    quote = ticker.ask if request.side is Side.BUY else ticker.bid
    if request.type is OrderType.LIMIT:
        assert request.price is not None
        marketable = quote <= request.price if request.side is Side.BUY else quote >= request.price
        expected = quote if marketable else request.price
        rate = info.taker_fee if marketable else info.maker_fee
    else:
        expected = request.stop_price if request.type.is_trigger and request.stop_price else quote
        rate = info.taker_fee
    notional = request.quantity * expected
    fee = notional * rate
    buying = request.side is Side.BUY
    needed = notional + fee if buying else request.quantity
    return OrderEstimate(
        venue=venue.broker.venue,
        symbol=request.symbol,
        side=request.side.value,
        type=request.type.value,
        quantity=request.quantity,
        price=expected,
        notional=notional,
        fee_rate=rate,
        fee=fee,
        total=notional + fee if buying else notional - fee,
        asset=info.quote if buying else info.base,
        available=available,
        sufficient=None if available is None else available >= needed,
        min_quantity=info.min_quantity,
        min_notional=info.min_notional,
        adjustments=adjustments(typed, request, info),
    )


def adjustments(typed: OrderRequest, fitted: OrderRequest, info: MarketInfo) -> tuple[str, ...]:
    """What fitting the order to the pair's steps changed, said plainly (never silent)."""
    notes = []
    if fitted.quantity != typed.quantity:
        step = quantum(info.quantity_precision)
        notes.append(
            f"Quantity rounded down to {info.symbol}'s step of {step:f} {info.base}: "
            f"{typed.quantity.normalize():f} → {fitted.quantity.normalize():f} {info.base}."
        )
    for name, before, after in (
        ("Limit price", typed.price, fitted.price),
        ("Stop price", typed.stop_price, fitted.stop_price),
    ):
        if before is not None and after is not None and before != after:
            notes.append(
                f"{name} rounded to {info.symbol}'s tick of {quantum(info.price_precision):f} "
                f"{info.quote}: {before.normalize():f} → {after.normalize():f} {info.quote}."
            )
    return tuple(notes)


async def place_order(
    db: Database,
    actor: Actor,
    *,
    symbol: str,
    side: str,
    quantity: Decimal | str | int,
    type: str = "market",
    price: Decimal | str | int | None = None,
    stop_price: Decimal | str | int | None = None,
    connection_id: str | None = None,
    market: str | None = None,
    ctx: TradingContext,
) -> OrderView:
    """Place a manual order: paper without ``connection_id`` (on ``market``'s real prices, or
    the simulated market), else on that exchange connection.

    A rejected paper order changes nothing; a rejected live order is kept as ``failed`` with
    the exchange's reason (and no trade). Either way the typed error is raised with a message
    fit to show.
    """
    request = _request(symbol, side, type, quantity, price, stop_price)
    async with db.session() as session:
        if connection_id is None:
            venue = await _paper_venue(
                session, actor, request.symbol, ctx, feed=market or PAPER_FEED
            )
        else:
            await check_limit(session, actor.user_id, Limit.LIVE_TRADING, clock=ctx.clock)
            venue = await _live_venue(
                session, connection_id, actor.user_id, request.symbol, ctx, trade=True
            )
        await session.commit()
    try:
        if venue.connection is not None:
            await _check_live_notional(venue, request)
            await _sync_live(db, venue)
        result = await ctx.desk.submit(
            db.sessions,
            venue.broker,
            wallet=venue.wallet,
            pair=venue.pair,
            request=request,
            close_reason=CloseReason.MANUAL,
        )
    finally:
        await venue.close()
    return await _order_result(db, result)


async def _owned_order(session: AsyncSession, actor: Actor, order_id: str) -> Order:
    order = await session.scalar(
        select(Order).where(Order.id == order_id, Order.user_id == actor.user_id)
    )
    if order is None:
        raise NotFound(f"No order {order_id!r}.")
    return order


async def _wallet_venue(
    session: AsyncSession,
    actor: Actor,
    wallet: WalletInfo,
    symbol: str,
    exchange_id: str | None,
    ctx: TradingContext,
) -> _Venue:
    if wallet.is_paper:
        feed = PAPER_FEED
        if exchange_id is not None:
            feed = (
                await session.scalar(select(Exchange.name).where(Exchange.id == exchange_id))
                or PAPER_FEED
            )
        return await _paper_venue(session, actor, symbol, ctx, feed=feed, wallet=wallet)
    if wallet.exchange_connection_id is None:
        raise Conflict(
            "The exchange connection of this wallet was removed; trade on the exchange directly."
        )
    return await _live_venue(
        session,
        wallet.exchange_connection_id,
        actor.user_id,
        symbol,
        ctx,
        trade=True,
        wallet=wallet,
    )


async def cancel_order(
    db: Database, actor: Actor, order_id: str, *, ctx: TradingContext
) -> OrderView:
    async with db.session() as session:
        order = await _owned_order(session, actor, order_id)
        if OrderStatus(order.status).is_final:
            raise Conflict(f"The order is already {order.status}.")
        if order.wallet_id is None:
            raise Conflict("The order's wallet no longer exists.")
        wallet = await get_wallet(session, order.wallet_id)
        symbol = await session.scalar(
            select(TradingPair.symbol).where(TradingPair.id == order.pair_id)
        )
        assert symbol is not None
        venue = await _wallet_venue(session, actor, wallet, symbol, order.exchange_id, ctx)
        await session.commit()
    try:
        result = await ctx.desk.cancel(db.sessions, venue.broker, order_id)
    finally:
        await venue.close()
    return await _order_result(db, result)


async def close_position(
    db: Database, actor: Actor, position_id: str, *, ctx: TradingContext
) -> OrderView:
    """Sell what an open position holds at market, by hand (close reason MANUAL)."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(Position, Bot)
                .join(Bot, Bot.id == Position.bot_id)
                .where(Position.id == position_id, Bot.user_id == actor.user_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"No position {position_id!r}.")
        position = row[0]
        if position.status != "open":
            raise Conflict("The position is already closed.")
        if position.wallet_id is None:
            raise Conflict("The position's wallet no longer exists.")
        wallet = await get_wallet(session, position.wallet_id)
        opening = await session.scalar(
            select(Trade.exchange_id)
            .where(Trade.position_id == position.id)
            .order_by(Trade.executed_at)
            .limit(1)
        )
        venue = await _wallet_venue(session, actor, wallet, position.symbol, opening, ctx)
        held = (
            position.quantity
            if position.remaining_quantity is None
            else position.remaining_quantity
        )
        await session.commit()
    try:
        quantity = venue.pair.info.round_quantity(held)
        if quantity <= 0:
            raise Conflict(
                "What the position holds is below the pair's quantity step; it can't be sold."
            )
        if venue.connection is not None:
            await _sync_live(db, venue)
        result = await ctx.desk.submit(
            db.sessions,
            venue.broker,
            wallet=wallet,
            pair=venue.pair,
            request=OrderRequest(position.symbol, Side.SELL, OrderType.MARKET, quantity),
            close_reason=CloseReason.MANUAL,
        )
    finally:
        await venue.close()
    return await _order_result(db, result)


async def list_trades(
    db: Database,
    actor: Actor,
    *,
    symbol: str | None = None,
    limit: int = 50,
    after: str | None = None,
) -> Page[TradeView]:
    """The user's trades, newest first (keyset on ``[user_id, executed_at DESC]``)."""
    limit = _limit(limit)
    cursor = _cursor(after)
    stmt = select(Trade).where(Trade.user_id == actor.user_id)
    if symbol:
        stmt = stmt.where(Trade.symbol == symbol.strip().upper())
    if cursor:
        stmt = stmt.where(tuple_(Trade.executed_at, Trade.id) < tuple_(*cursor))
    stmt = stmt.order_by(Trade.executed_at.desc(), Trade.id.desc()).limit(limit)
    async with db.session() as session:
        rows = list(await session.scalars(stmt))
    items = [trade_view(t) for t in rows]
    key = (rows[-1].executed_at, rows[-1].id) if rows else None
    return Page(tuple(items), _next(items, limit, key))


async def list_orders(
    db: Database,
    actor: Actor,
    *,
    status: str | None = None,
    limit: int = 50,
    after: str | None = None,
) -> Page[OrderView]:
    limit = _limit(limit)
    cursor = _cursor(after)
    stmt = (
        select(Order, TradingPair.symbol)
        .join(TradingPair, TradingPair.id == Order.pair_id)
        .where(Order.user_id == actor.user_id)
    )
    if status:
        try:
            stmt = stmt.where(Order.status == OrderStatus(status).value)
        except ValueError:
            raise InvalidInput(f"Unknown order status {status!r}.", field="status") from None
    if cursor:
        stmt = stmt.where(tuple_(Order.created_at, Order.id) < tuple_(*cursor))
    stmt = stmt.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)
    async with db.session() as session:
        rows = (await session.execute(stmt)).all()
    items = [order_view(o, s) for o, s in rows]
    key = (rows[-1][0].created_at, rows[-1][0].id) if rows else None
    return Page(tuple(items), _next(items, limit, key))


async def list_positions(
    db: Database,
    actor: Actor,
    *,
    status: str | None = "open",
    bot_id: str | None = None,
    search: str = "",
    limit: int = 50,
    after: str | None = None,
) -> Page[PositionView]:
    """Positions of the user's bots (manual ones included): open ones newest opened first,
    closed ones newest *closed* first (a position opened last month and closed now leads).
    ``search``: every word appears in the symbol or the bot's name (case-insensitive), so a
    filter reaches every page, not just the rows loaded so far."""
    limit = _limit(limit)
    cursor = _cursor(after)
    stmt = (
        select(Position, Bot)
        .join(Bot, Bot.id == Position.bot_id)
        .where(Bot.user_id == actor.user_id)
    )
    if status:
        if status not in ("open", "closed"):
            raise InvalidInput("Position status is open or closed.", field="status")
        stmt = stmt.where(Position.status == status)
    if bot_id:
        stmt = stmt.where(Position.bot_id == bot_id)
    for word in search.split():
        pattern = containing(word)
        stmt = stmt.where(
            or_(Position.symbol.ilike(pattern, escape="\\"), Bot.name.ilike(pattern, escape="\\"))
        )
    when: Any = (  # newest close first for closed positions, newest opened otherwise
        func.coalesce(Position.closed_at, Position.created_at)
        if status == "closed"
        else Position.created_at
    )
    if cursor:
        stmt = stmt.where(or_(when < cursor[0], and_(when == cursor[0], Position.id < cursor[1])))
    stmt = stmt.add_columns(when).order_by(when.desc(), Position.id.desc()).limit(limit)
    async with db.session() as session:
        rows: list[Any] = list((await session.execute(stmt)).all())
    items = [position_view(p, b) for p, b, _ in rows]
    key = (rows[-1][2], rows[-1][0].id) if rows else None
    return Page(tuple(items), _next(items, limit, key))


async def paper_account(db: Database, actor: Actor, *, ctx: TradingContext) -> AccountView:
    """The manual paper wallet (created with its starting balance on first use)."""
    async with db.session() as session, session.begin():
        wallet = await manual_wallet(
            session, actor.user_id, initial_balance=ctx.paper_balance, at=ctx.clock.now()
        )
        (value,) = await wallet_values(session, wallet_ids=[wallet.id])
        cash = (await balances(session, wallet.id)).get(wallet.quote)
    return AccountView(
        wallet_id=wallet.id,
        quote=wallet.quote,
        initial_balance=wallet.initial_balance,
        cash=value.cash,
        available=cash.available if cash else Decimal(0),
        positions_value=value.positions_value,
        total=value.total,
        realized_pnl=value.realized_pnl,
        unrealized_pnl=value.unrealized_pnl,
        fees_paid=value.fees_paid,
    )


async def snapshot_portfolio(db: Database, actor: Actor, *, ctx: TradingContext) -> PortfolioPoint:
    """Record the user's portfolio value now (on demand; the engine also does it periodically)."""
    async with db.session() as session, session.begin():
        row = await store_portfolio_snapshot(session, actor.user_id, now=ctx.clock.now())
        return PortfolioPoint(row.timestamp, row.total_value)


async def portfolio_history(
    db: Database, actor: Actor, *, since: datetime | None = None, limit: int = 500
) -> list[PortfolioPoint]:
    """The user's portfolio value over time, oldest first (for a chart)."""
    limit = _limit(limit)
    stmt = select(PortfolioHistory).where(PortfolioHistory.user_id == actor.user_id)
    if since is not None:
        stmt = stmt.where(PortfolioHistory.timestamp >= since)
    stmt = stmt.order_by(PortfolioHistory.timestamp.desc()).limit(limit)
    async with db.session() as session:
        rows = list(await session.scalars(stmt))
    return [PortfolioPoint(r.timestamp, r.total_value) for r in reversed(rows)]


__all__ = [
    "AccountView",
    "OrderEstimate",
    "OrderView",
    "Page",
    "PortfolioPoint",
    "PositionView",
    "TradeView",
    "TradingContext",
    "cancel_order",
    "close_position",
    "estimate_order",
    "list_orders",
    "list_positions",
    "list_trades",
    "paper_account",
    "place_order",
    "portfolio_history",
    "snapshot_portfolio",
]
