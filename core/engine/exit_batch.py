"""Batched exits: the paper positions breached by one tick, closed together in one transaction.

One position at a time (``exits.apply_exit``) costs about 17 statements per exit. Here the
positions of one tick share two, however many they are:

1. one read: ``pg_try_advisory_xact_lock`` on every position (the same ``exit:<id>`` keys as
   ``trades.lock_position``: a position another process is on is skipped, as one by one), and
   the locked positions with their wallet's balance rows, bot, wallet, owner and notification
   settings, ``FOR UPDATE`` (a position's first balance row before it, as the ledger locks);
2. the rules and the ledger run in memory (``evaluate``, the paper broker's fill at the
   tick's own price — the one that breached the stops — and ``Ledger.book_fill``: the very
   code the one-by-one path books with);
3. one write (``exit_write``): the positions, the balances, the orphaned resting stop orders,
   the new orders, trades, executions and notifications and a NOTIFY per event.

What the batch does not cover is handed back to the one-by-one path: live positions (each goes
to the exchange as its own order), positions in a wallet other than the bot's current one, and
any position whose exit the broker or the ledger refuses (the one-by-one path then reports it
as it always did).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import get_history

from core.brokers.paper import PaperBroker
from core.brokers.types import OrderStatus, Side
from core.db.models.bots import Bot, BotBalance, BotWallet, Execution
from core.db.models.notifications import Notification, NotificationChannel, NotificationPreference
from core.db.models.trading import Order, Position, Trade
from core.db.models.users import User
from core.engine.context import EngineContext
from core.engine.exit_state import exit_state, held, write_state
from core.engine.exit_write import Written, write
from core.engine.exits import (
    PROTECTED,
    WATCHED_TYPES,
    Watched,
    effective_rules,
    exit_execution,
    exit_key,
    exit_why,
    position_quantity,
)
from core.engine.ids import fast_id
from core.engine.orders import client_order_id, market
from core.engine.trades import EXIT_NOTICE, Decided, Tx, enforce_daily_loss, trade_notice_of
from core.engine.venues import sellable
from core.errors import ServiceError
from core.events import Event, payloads_on_commit
from core.ledger.wallets import SIMULATION, wallet_info
from core.market.types import Ticker
from core.notifications.create import notification_rows
from core.notifications.live import event_for
from core.notifications.preferences import Preferences
from core.strategies.risk import Bar, ExitOutcome, RiskSettings, evaluate

_LOCKED = (
    text(
        "SELECT id FROM unnest(CAST(:ids AS varchar[])) AS id "
        "WHERE pg_try_advisory_xact_lock(hashtextextended('exit:' || id, 0))"
    )
    .columns(id=String)
    .cte("locked")
    .prefix_with("MATERIALIZED")
)
"""The batch's positions no other process is on, each taken with its advisory lock."""
# Built once (``ids`` is an array parameter): nothing is constructed per batch.
_ROWS_FOR_UPDATE = (
    select(BotBalance, Position, Bot, BotWallet, User, NotificationPreference)
    .select_from(Position)
    .join(_LOCKED, _LOCKED.c.id == Position.id)
    .join(BotWallet, BotWallet.id == Position.wallet_id)
    .join(
        BotBalance,
        and_(
            BotBalance.wallet_id == Position.wallet_id,
            BotBalance.asset.in_(
                [func.split_part(Position.symbol, "/", 1), BotWallet.quote_currency]
            ),
        ),
    )
    .join(Bot, Bot.id == Position.bot_id)
    .join(User, User.id == Bot.user_id)
    .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
    # Rows are locked in this order: a position's first balance row before it, as the ledger
    # (balances, then the position) does, so the two never wait on each other in a circle.
    .order_by(BotBalance.wallet_id, BotBalance.asset, Position.id)
    .with_for_update(of=[BotBalance, Position])
    .execution_options(populate_existing=True)
)
"""Each locked position with its wallet's two balance rows, bot, market, owner and
notification settings, row-locked: one row per (balance row, position)."""


@dataclass
class Batched:
    """What became of each breached position of the batch."""

    done: list[tuple[Watched, ExitOutcome, Position]] = field(default_factory=list)
    """Handled here (with or without a sale); the position row as it now stands."""
    gone: list[Watched] = field(default_factory=list)
    """Another process has it, or it no longer qualifies (or only dust was left to sell)."""
    one_by_one: list[tuple[Watched, Ticker]] = field(default_factory=list)
    """For ``apply_exit``: live positions, other wallets, refusals."""
    statements: int = 0
    read_at: float = 0.0
    computed_at: float = 0.0
    written_at: float = 0.0
    """``time.perf_counter()`` when the read came back, the write was ready to go and it came
    back (where a slow exit's time went: ``exits.BatchTiming``)."""


class _MemoryFunds:
    """The paper broker's ``Funds`` over balance rows already locked and changed in memory."""

    def __init__(self, rows: dict[str, BotBalance]) -> None:
        self.rows = rows

    async def available(self, asset: str) -> Decimal:
        row = self.rows.get(asset)
        return Decimal(0) if row is None else row.amount - row.locked


class NotInTick(ServiceError):
    """The paper broker asked for a price the tick didn't bring: the one-by-one path, which
    asks the hub, takes the position."""


class _TickPrices:
    """The paper broker's prices for one batch: the tick's own tickers, the prices that breached
    the positions (the hub's cache holds the same; asking it again cost a call per batch)."""

    def __init__(self, seen: dict[str, Ticker]) -> None:
        self.seen = seen

    async def ticker(self, symbol: str) -> Ticker:
        ticker = self.seen.get(symbol)
        if ticker is None:
            raise NotInTick(f"No price of {symbol} came with the tick.")
        return ticker


@dataclass
class _Exit:
    """One position's exit, built in memory and written only if all of it succeeded."""

    orders: list[Order] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    notices: list[tuple[dict[str, Any], tuple[Event, ...]]] = field(default_factory=list)
    execution: Execution | None = None
    closed: bool = False
    daily_loss: RiskSettings | None = None


async def prepare(session: AsyncSession) -> None:
    """Send the batch's two statements once with nothing in them, so the first real batch
    finds them prepared on its connection (and the types of their columns known)."""
    await session.execute(_ROWS_FOR_UPDATE, {"ids": []})
    await write(await session.connection(), Written(now=datetime.now(UTC)))


async def close_together(
    ctx: EngineContext,
    session: AsyncSession,
    found: list[tuple[Watched, Ticker]],
    now: datetime,
) -> Batched:
    """Apply the exit rules to the breached positions ``found`` inside the caller's
    transaction; see the module docstring. The caller commits."""
    out = Batched()
    paper = [(w, t) for w, t in found if w.paper]
    out.one_by_one.extend((w, t) for w, t in found if not w.paper)
    if not paper:
        return out
    by_id = {w.position_id: (w, t) for w, t in paper}
    ids = sorted(by_id)

    rows = (await session.execute(_ROWS_FOR_UPDATE, {"ids": ids})).all()
    out.statements += 1
    out.read_at = time.perf_counter()
    balances: dict[str, dict[str, BotBalance]] = {}
    found_rows: dict[str, Any] = {}
    for balance, position_row, *entities in rows:
        if balance.wallet_id not in balances or balance.asset not in balances[balance.wallet_id]:
            session.expunge(balance)  # changed in memory, written by the one write below
            balances.setdefault(balance.wallet_id, {})[balance.asset] = balance
        found_rows.setdefault(position_row.id, (position_row, *entities))
    # Another process is on it, or it is gone (or has no balance rows to book on).
    out.gone.extend(by_id[i][0] for i in ids if i not in found_rows)
    mine = sorted(found_rows)
    conn = await session.connection()

    exits: list[tuple[Position, _Exit, Bot, User, Preferences]] = []
    changed: list[Position] = []
    prices: dict[str, _TickPrices] = {}
    for watched, ticker in paper:
        prices.setdefault(watched.feed, _TickPrices({}))
        prices[watched.feed].seen[ticker.symbol] = ticker
    for position_id in mine:
        if position_id not in found_rows:
            continue
        position, bot, wallet, user, prefs_row = found_rows[position_id]
        watched, ticker = by_id[position_id]
        if (
            position.status != "open"
            or bot.status not in PROTECTED
            or bot.type not in WATCHED_TYPES
        ):
            out.gone.append(watched)
            continue
        mode = wallet.bot_id == bot.id and wallet.wallet_type == SIMULATION  # the bot's own
        known = wallet_info(wallet, bot) if mode else None  # (else the venue looks it up)
        venue = await ctx.venue(session, bot.id, bot.user_id, True, wallet=known)
        wallet_rows = balances.get(position.wallet_id or "", {})
        if venue.wallet.id != position.wallet_id or not isinstance(venue.broker, PaperBroker):
            out.one_by_one.append((watched, ticker))
            continue
        parsed = ctx.parsed(
            bot.id, bot.type, bot.updated_at, bot.config, bot.risk_settings, wallet.paper_market
        )
        rules = effective_rules(bot.type, bot.config or {}, parsed.risk)
        state = exit_state(position, rules)
        outcome = evaluate(rules, state, Bar.tick(now, ticker.last))
        session.expunge(position)  # changed in memory, written by one UPDATE below
        if not outcome.fills:
            if outcome.state != state:
                write_state(position, rules, outcome.state)
                changed.append(position)
            out.done.append((watched, outcome, position))
            continue
        saved = {a: (r.amount, r.locked) for a, r in wallet_rows.items()}
        once = prices.get(venue.hub.name) or _TickPrices({})
        broker = replace(venue.broker, funds=_MemoryFunds(wallet_rows), prices=once)
        first = outcome.fills[0]
        key = exit_key(bot.id, position.id, first, state.take_profit_levels_hit)
        this = _Exit()
        sold: list[str] = []
        legs = 0
        try:
            pair = await venue.pair(session, position.symbol)
            for fill in outcome.fills:
                wanted = position_quantity(position) if fill.closes else fill.quantity
                quantity = sellable(pair, min(wanted, held(position)))
                if quantity <= 0:
                    continue
                notice, close_reason = EXIT_NOTICE[fill.reason]
                legs += 1
                request = market(
                    position.symbol, Side.SELL, quantity, client_order_id(key, legs)
                ).normalized(pair.info)
                answer = await broker.place(request, pair.info)
                order = ctx.desk._row(venue.wallet, pair, request, answer.status)
                order.filled = max(order.filled, answer.filled)
                order.exchange_order_id = answer.exchange_order_id
                order.error = answer.reason
                order.updated_at = ctx.desk.clock.now()
                if answer.status is OrderStatus.FILLED:
                    order.filled_at = (
                        answer.fills[-1].executed_at if answer.fills else ctx.desk.clock.now()
                    )
                this.orders.append(order)
                applied = None
                for broker_fill in answer.fills:
                    position, trade, applied = ctx.desk.ledger.book_fill(
                        broker_fill,
                        venue.wallet,
                        pair,
                        wallet_rows,
                        position,
                        order_id=order.id,
                        close_reason=close_reason,
                    )
                    this.trades.append(trade)
                    this.closed = this.closed or applied.position_closed
                if applied is None:
                    continue
                told = trade_notice_of(
                    bot,
                    key,
                    position,
                    "SELL",
                    quantity,
                    position.exit_price or position.current_price,
                    exit_why(fill, ticker.last),
                    notice=notice,
                    pnl=applied.realized_pnl,
                )
                this.notices.append((told.notification, told.events))
                if applied.position_closed and rules.max_daily_loss is not None:
                    this.daily_loss = rules
                sold.append(f"{fill.reason.value} {fill.quantity.normalize():f}")
        except ServiceError:
            for asset, (amount, locked_amount) in saved.items():
                wallet_rows[asset].amount, wallet_rows[asset].locked = amount, locked_amount
            out.one_by_one.append((watched, ticker))  # it reports the refusal as it always did
            continue
        if not sold:
            out.gone.append(watched)  # only dust below the pair's step: nothing to sell
            continue
        if position.status == "open":
            write_state(position, rules, outcome.state)
        this.execution = exit_execution(bot.id, key, sold, position, ticker.last, first, now)
        changed.append(position)
        exits.append((position, this, bot, user, Preferences.of(prefs_row)))
        out.done.append((watched, outcome, position))

    await session.flush()  # anything the venues added (a pair row) before the rows pointing at it
    notifications: list[Notification] = []
    events: list[Event] = []
    for _position, this, _bot, user, prefs in exits:
        for notification, told_events in this.notices:
            kwargs = {k: v for k, v in notification.items() if k != "user_id"}
            rows_of = notification_rows(user, prefs, **kwargs, now=ctx.clock.now())
            for row in rows_of:  # the events name them (the column default salts from the OS)
                row.id = row.id or fast_id()
            notifications.extend(rows_of)
            # in the one-by-one order: notification, trade, position
            events.extend(
                event_for(r)
                for r in rows_of
                if r.channel is NotificationChannel.IN_APP and r.delivered
            )
            events.extend(told_events)
    executions = [e.execution for _p, e, *_ in exits if e.execution is not None]
    out.computed_at = time.perf_counter()
    out.statements += await write(
        conn,
        Written(
            positions=changed,
            balances=[r for w in balances.values() for r in w.values() if _changed(r)],
            closed=sorted(
                {(o.wallet_id, o.pair_id) for _p, e, *_ in exits if e.closed for o in e.orders}
            ),
            now=ctx.clock.now(),
            orders=[o for _p, e, *_ in exits for o in e.orders],
            trades=[t for _p, e, *_ in exits for t in e.trades],
            executions=executions,
            notifications=notifications,
            payloads=payloads_on_commit(session, events),
        ),
    )
    out.written_at = time.perf_counter()
    for _position, this, bot, _user, _prefs in exits:
        if this.daily_loss is not None and this.execution is not None:
            tx = Tx(ctx, session, bot, this.execution.execution_id, now, Decided(), {})
            await enforce_daily_loss(tx, this.daily_loss)
    return out


def _changed(row: BotBalance) -> bool:
    return bool(
        get_history(row, "amount").has_changes() or get_history(row, "locked").has_changes()
    )
