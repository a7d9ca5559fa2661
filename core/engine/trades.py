"""Buying and selling for a bot inside a transaction, with what follows every trade: the exit
state of the position, a TRADE_EXECUTED / STOP_LOSS_HIT / TAKE_PROFIT_HIT notification, events
for open dashboards, and the daily loss limit (the bot pauses when it is reached)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import figures
from core.brokers.ccxt_broker import CcxtBroker
from core.brokers.types import Side
from core.db.models.bots import Bot, BotBalance
from core.db.models.notifications import NotificationPriority, NotificationType
from core.db.models.trading import Position
from core.engine.context import EngineContext
from core.engine.exit_state import after_add, exit_state, held, start_state
from core.engine.orders import buy_quantity, client_order_id, market, submit
from core.engine.venues import Venue, open_venue, sellable
from core.events import Event, publish_in
from core.figures import quote_of
from core.ledger.book import AppliedFill, CloseReason
from core.ledger.wallets import WalletInfo, get_wallet, sync_balances
from core.notifications import notify
from core.strategies.risk import ExitReason, RiskSettings

ZERO = Decimal(0)
OPEN = "open"

EXIT_NOTICE = {
    ExitReason.STOP_LOSS: (NotificationType.STOP_LOSS_HIT, CloseReason.STOP_LOSS),
    ExitReason.TRAILING_STOP: (NotificationType.STOP_LOSS_HIT, CloseReason.STOP_LOSS),
    ExitReason.TAKE_PROFIT: (NotificationType.TAKE_PROFIT_HIT, CloseReason.TAKE_PROFIT),
    ExitReason.TAKE_PROFIT_LEVEL: (NotificationType.TAKE_PROFIT_HIT, CloseReason.TAKE_PROFIT),
    ExitReason.STALE_TRADE: (NotificationType.TRADE_EXECUTED, CloseReason.SIGNAL),
    ExitReason.SIGNAL: (NotificationType.TRADE_EXECUTED, CloseReason.SIGNAL),
    ExitReason.CUSTOM_EXIT: (NotificationType.TRADE_EXECUTED, CloseReason.SIGNAL),
}
"""How each exit rule is told and booked (``positions.close_reason`` keeps the seed's values;
the exact rule is in the execution's reason and the notification)."""


@dataclass
class Decided:
    """What a cycle records in ``executions`` (a plan fills it; actions may refine it)."""

    signal: str = "HOLD"
    confidence: Decimal = ZERO
    reason: str = ""
    price: Decimal = ZERO
    indicators: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    """Set when the cycle failed (the row's status is then ``error``)."""
    indicators_json: str | None = None
    """``indicators`` already as JSON (a decision cached for its candle is dumped once)."""


@dataclass
class Tx:
    """A bot's cycle (or exit) inside one transaction."""

    ctx: EngineContext
    session: AsyncSession
    bot: Bot
    execution_id: str
    now: datetime
    decided: Decided
    state: dict[str, Any]
    legs: int = 0
    traded: list[str] = field(default_factory=list)  # trade ids

    async def venue(self) -> Venue:
        return await self.ctx.venue(
            self.session, self.bot.id, self.bot.user_id, self.bot.paper_trading
        )

    def client_id(self) -> str:
        self.legs += 1
        return client_order_id(self.execution_id, self.legs)


# -- reads ------------------------------------------------------------------------------------


async def open_position(session: AsyncSession, wallet_id: str, symbol: str) -> Position | None:
    return await session.scalar(
        select(Position)
        .where(Position.wallet_id == wallet_id, Position.symbol == symbol, Position.status == OPEN)
        .order_by(Position.created_at, Position.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )


async def open_positions(session: AsyncSession, bot_id: str, paper: bool) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Position)
            .where(
                Position.bot_id == bot_id,
                Position.status == OPEN,
                Position.is_paper_trade.is_(paper),
            )
        )
        or 0
    )


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)


async def realized_today(session: AsyncSession, bot_id: str, now: datetime) -> Decimal:
    """Net P&L (after fees) of the bot's positions closed since 00:00 UTC."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Position.profit_loss), 0)).where(
            Position.bot_id == bot_id,
            Position.status == "closed",
            Position.closed_at >= day_start(now),
        )
    )
    return Decimal(total or 0)


async def last_loss_at(session: AsyncSession, bot_id: str) -> datetime | None:
    return await session.scalar(
        select(func.max(Position.closed_at)).where(
            Position.bot_id == bot_id, Position.status == "closed", Position.profit_loss < 0
        )
    )


async def sync_live(tx: Tx, venue: Venue) -> None:
    """A live wallet mirrors the exchange: re-read its balances before spending (committed on
    their own, so the desk's transactions never wait for this one's locks)."""
    if venue.is_paper or not isinstance(venue.broker, CcxtBroker):
        return
    totals = await venue.broker.balances()
    sessions = async_sessionmaker(tx.session.bind, expire_on_commit=False)
    async with sessions() as session, session.begin():
        await sync_balances(session, venue.wallet.id, totals)


async def free_cash(session: AsyncSession, wallet: WalletInfo) -> Decimal:
    value = await session.scalar(
        select(BotBalance.amount - BotBalance.locked).where(
            BotBalance.wallet_id == wallet.id, BotBalance.asset == wallet.quote
        )
    )
    return Decimal(value or 0)


async def lock_position(session: AsyncSession, position_id: str, *, wait: bool = True) -> bool:
    """Serialise every exit of one position across processes (a transaction-level advisory
    lock: no row lock is held while a live order is out, and PgBouncer's transaction mode
    keeps it). ``wait=False``: give up at once when another process holds it."""
    fn = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    got = await session.scalar(
        text(f"SELECT {fn}(hashtextextended(:key, 0))"), {"key": f"exit:{position_id}"}
    )
    return True if wait else bool(got)


# -- trading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bought:
    position: Position
    price: Decimal
    quantity: Decimal
    trade_id: str


async def buy(
    tx: Tx, symbol: str, budget: Decimal, rules: RiskSettings, *, reason: str
) -> Bought | None:
    """Buy ``symbol`` at market with up to ``budget`` of quote (fees included); the position's
    exit state starts (or, for a further buy, keeps its stop). None when the budget buys less
    than the pair's minimum."""
    venue = await tx.venue()
    ticker = await venue.hub.ticker(symbol)
    quantity = await buy_quantity(tx.session, venue, symbol, budget, ticker)
    if quantity <= 0:
        return None
    before = await open_position(tx.session, venue.wallet.id, symbol)
    previous = exit_state(before, rules) if before is not None else None
    result = await submit(
        tx.session, tx.ctx.desk, venue, market(symbol, Side.BUY, quantity, tx.client_id())
    )
    if not result.fills:
        return None
    fill = result.fills[-1]
    position = await tx.session.get(Position, fill.position_id, populate_existing=True)
    assert position is not None
    if previous is None:
        start_state(position, rules)
    else:
        after_add(position, rules, previous)
    await tx.session.flush()
    price = position.current_price
    tx.traded.append(fill.trade_id)
    await trade_notice(tx, position, "BUY", quantity, price, reason)
    return Bought(position, price, quantity, fill.trade_id)


async def sell(
    tx: Tx,
    position: Position,
    quantity: Decimal,
    exit_reason: ExitReason,
    *,
    reason: str,
    rules: RiskSettings | None = None,
) -> AppliedFill | None:
    """Sell ``quantity`` of the position at market (cut to the pair's step)."""
    venue = await tx.venue() if position.wallet_id is None else await _venue_of(tx, position)
    pair = await venue.pair(tx.session, position.symbol)
    quantity = sellable(pair, min(quantity, held(position)))
    if quantity <= 0:
        return None
    notice, close_reason = EXIT_NOTICE[exit_reason]
    result = await submit(
        tx.session,
        tx.ctx.desk,
        venue,
        market(position.symbol, Side.SELL, quantity, tx.client_id()),
        close_reason=close_reason,
    )
    if not result.fills:
        return None
    fill = result.fills[-1]
    if not venue.is_paper:  # booked in the desk's own transactions: read the row again
        await tx.session.refresh(position)
    tx.traded.append(fill.trade_id)  # (a paper fill updated ``position`` in this session)
    await trade_notice(
        tx,
        position,
        "SELL",
        quantity,
        position.exit_price or position.current_price,
        reason,
        notice=notice,
        pnl=fill.realized_pnl,
    )
    if fill.position_closed and rules is not None:
        await enforce_daily_loss(tx, rules)
    return fill


async def _venue_of(tx: Tx, position: Position) -> Venue:
    venue = await tx.venue()
    if venue.wallet.id == position.wallet_id:
        return venue
    # A position in the bot's other wallet (the mode was switched while it was open).
    wallet = await get_wallet(tx.session, position.wallet_id)  # type: ignore[arg-type]
    return await open_venue(
        tx.session,
        tx.ctx.markets,
        bot_id=tx.bot.id,
        owner_id=tx.bot.user_id,
        paper=wallet.is_paper,
        wallet=wallet,
    )


@dataclass(frozen=True, slots=True)
class Notice:
    """What a trade tells: the notification (``notify``'s arguments) and the dashboard events."""

    notification: dict[str, Any]
    events: tuple[Event, ...]


def trade_notice_of(
    bot: Bot,
    execution_id: str,
    position: Position,
    side: str,
    quantity: Decimal,
    price: Decimal,
    reason: str,
    *,
    notice: NotificationType = NotificationType.TRADE_EXECUTED,
    pnl: Decimal | None = None,
) -> Notice:
    verb = "Bought" if side == "BUY" else "Sold"
    title = {
        NotificationType.STOP_LOSS_HIT: f"Stop-loss hit: {bot.name} sold {position.symbol}",
        NotificationType.TAKE_PROFIT_HIT: f"Take-profit hit: {bot.name} sold {position.symbol}",
    }.get(notice, f"{bot.name}: {verb.lower()} {position.symbol}")
    quote = quote_of(position.symbol)
    message = (
        f"{verb} {figures.quantity(quantity)} {position.symbol} at "
        f"{figures.price(price, quote)}. {reason}"
    )
    if pnl is not None:
        message += f" Realised P&L before fees: {figures.amount(pnl, quote, sign=True)}."
    data = {"bot_id": bot.id, "position_id": position.id, "symbol": position.symbol}
    return Notice(
        {
            "user_id": bot.user_id,
            "type": notice,
            "title": title[:200],
            "message": message,
            "priority": NotificationPriority.HIGH
            if notice is NotificationType.STOP_LOSS_HIT
            else NotificationPriority.NORMAL,
            "metadata": {
                "bot_id": bot.id,
                "position_id": position.id,
                "execution_id": execution_id,
            },
        },
        (
            Event("trade", bot.user_id, {**data, "side": side}),
            Event("position", bot.user_id, {**data, "status": position.status}),
        ),
    )


async def trade_notice(
    tx: Tx,
    position: Position,
    side: str,
    quantity: Decimal,
    price: Decimal,
    reason: str,
    *,
    notice: NotificationType = NotificationType.TRADE_EXECUTED,
    pnl: Decimal | None = None,
) -> None:
    told = trade_notice_of(
        tx.bot, tx.execution_id, position, side, quantity, price, reason, notice=notice, pnl=pnl
    )
    await notify(tx.session, **told.notification, clock=tx.ctx.clock)
    for event in told.events:
        await publish_in(tx.session, event)


async def enforce_daily_loss(tx: Tx, rules: RiskSettings) -> bool:
    """Pause the bot when today's realised loss reached ``max_daily_loss``; True if it did."""
    if rules.max_daily_loss is None or tx.bot.status != "active":
        return False
    realized = await realized_today(tx.session, tx.bot.id, tx.now)
    if -realized < rules.max_daily_loss:
        return False
    tx.bot.status = "paused"
    tx.bot.updated_at = tx.now
    quote = quote_of(str((tx.bot.config or {}).get("symbol") or "USDT"))
    await tx.session.flush()
    await notify(
        tx.session,
        user_id=tx.bot.user_id,
        type=NotificationType.BOT_STOPPED,
        title=f"Bot paused: {tx.bot.name} reached its daily loss limit",
        message=(
            f"Today's realised loss {figures.amount(-realized, quote)} reached the limit "
            f"{figures.amount(rules.max_daily_loss, quote)}. "
            "The bot is paused; its open positions stay "
            "protected. Resume it when you are ready."
        ),
        priority=NotificationPriority.HIGH,
        metadata={"bot_id": tx.bot.id, "action": "daily_loss_limit"},
        clock=tx.ctx.clock,
    )
    await publish_in(
        tx.session,
        Event(
            "bot",
            tx.bot.user_id,
            {"bot_id": tx.bot.id, "status": "paused", "action": "daily_loss_limit"},
        ),
    )
    return True
