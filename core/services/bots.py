"""Bots: create, list, inspect, change, delete, and the lifecycle start / pause / resume / stop.

Every function takes the acting user and works in the caller's transaction (``async with
db.sessions.begin() as session``): a bot, its wallets, its notification and its event are
committed together or not at all. Another user's bot is reported exactly like a missing one.
The hidden ``manual`` bots that hold manual trades are never listed or changed here.

Lifecycle (``bots.status``): ``inactive`` → start → ``active`` ⇄ pause / resume ⇄ ``paused``;
stop → ``inactive`` from any state; the engine sets ``error`` after repeated failures (start
clears it) and ``paused`` when the daily loss limit is reached. The engine only runs ``active``
bots; the exit rules keep protecting the open positions of ``paused`` and ``error`` bots.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, and_, case, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.brokers.connections import load_connection
from core.brokers.types import Side, new_client_order_id
from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.bots import Bot, BotBalance, BotWallet, Execution, PerformanceSnapshot
from core.db.models.notifications import NotificationPriority, NotificationType
from core.db.models.trading import Order, Position
from core.engine.orders import cancel_resting, market, submit
from core.engine.venues import Markets, open_venue, sellable
from core.errors import Conflict, InvalidInput, NotFound, ServiceError
from core.events import Event, publish_in
from core.ids import new_id
from core.ledger.accounting import storable
from core.ledger.book import CloseReason
from core.ledger.cash_flows import DELETED, record_flow
from core.ledger.orders import OrderDesk
from core.ledger.snapshots import wallet_values
from core.ledger.wallets import LIVE, MANUAL_BOT_TYPE, SIMULATION, get_wallet, open_wallet
from core.market.exchange_list import exchange_spec
from core.market.simulated import DEFAULT_SYMBOLS
from core.market.types import Timeframe
from core.notifications import notify
from core.services.actor import Actor
from core.services.backtests import list_backtests
from core.services.bot_views import (
    BotDetail,
    BotSpec,
    BotSummary,
    BotUpdate,
    BotView,
    StopResult,
    WalletView,
    bot_view,
    execution_view,
    performance_view,
)
from core.services.like import containing
from core.services.signals import followable_provider
from core.services.trading_views import position_view
from core.strategies.registry import BOT_CONFIGS, validate_bot_config, validate_risk_settings

__all__ = [
    "BotSpec",
    "BotUpdate",
    "create_bot",
    "delete_bot",
    "get_bot",
    "list_bots",
    "pause_bot",
    "resume_bot",
    "start_bot",
    "stop_bot",
    "update_bot",
]

ACTIVE, INACTIVE, PAUSED, ERROR = "active", "inactive", "paused", "error"
STATUSES = (ACTIVE, INACTIVE, PAUSED, ERROR)
NAME_MAX = 100
DESCRIPTION_MAX = 1000
PAPER_SYMBOLS = frozenset(spec.symbol for spec in DEFAULT_SYMBOLS)
SORTS = (
    "name",
    "type",
    "status",
    "symbol",
    "pnl",
    "pnl_percent",
    "win_rate",
    "last_execution",
    "created",
)


# -- validation -------------------------------------------------------------------------------


def _name(value: str | None) -> str:
    name = (value or "").strip()
    if not name:
        raise InvalidInput("A bot needs a name.", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"A bot's name is at most {NAME_MAX} characters.", field="name")
    return name


def _description(value: str | None) -> str | None:
    text = (value or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"A description is at most {DESCRIPTION_MAX} characters.", field="description"
        )
    return text or None


def _balance(value: Decimal) -> Decimal:
    try:
        ok = isinstance(value, Decimal) and value.is_finite() and value > 0
    except (InvalidOperation, TypeError):
        ok = False
    if not ok:
        raise InvalidInput(
            "The starting balance must be a positive amount (a decimal, not a float).",
            field="initial_balance",
        )
    return storable(value, "initial_balance")


def _config(bot_type: str, config: dict[str, Any] | None) -> dict[str, Any]:
    if bot_type == MANUAL_BOT_TYPE:
        raise InvalidInput(f"Choose a bot type: {', '.join(BOT_CONFIGS)}.", field="type")
    model = validate_bot_config(bot_type, config)
    return model.model_dump(mode="json")


def _risk(risk: dict[str, Any] | None) -> dict[str, Any]:
    return validate_risk_settings(risk).model_dump(mode="json", exclude_defaults=True)


def _paper_market_check(config: dict[str, Any]) -> None:
    """Paper bots trade on the simulated market: its pairs and timeframes only."""
    symbols = config.get("symbols") or [config.get("symbol")]
    unknown = [s for s in symbols if s and s not in PAPER_SYMBOLS]
    if unknown:
        raise InvalidInput(
            f"The paper market has no {', '.join(unknown)}; it lists "
            f"{', '.join(sorted(PAPER_SYMBOLS))}.",
            field="config.symbol" if "symbol" in config else "config.symbols",
        )
    timeframe = config.get("timeframe")
    if timeframe is not None:
        Timeframe.parse(timeframe)


def _exchange_market(market: str | None, bot_type: str) -> str | None:
    """The exchange a paper wallet is priced by (any exchange of the list; no keys needed)."""
    if market is None or market.strip().lower() in ("", "simulated"):
        return None
    if bot_type == "arbitrage":
        raise InvalidInput(
            "An arbitrage bot names its two markets in its settings.", field="paper_market"
        )
    return exchange_spec(market).id


async def _connections_check(
    session: AsyncSession, actor: Actor, spec_connection: str | None, config: dict[str, Any]
) -> None:
    """Every exchange connection a bot names must be the user's own, and a provider it follows
    one the user may follow (else: not found, as if it didn't exist)."""
    names = [spec_connection, config.get("market_a"), config.get("market_b")]
    for connection_id in {n for n in names if n and n != "simulated"}:
        row = await load_connection(session, connection_id, owner_id=actor.user_id)
        if not row.is_active:
            raise Conflict(f"The exchange connection {row.label or row.exchange} is disabled.")
    if config.get("source") == "provider" and config.get("provider_id"):
        await followable_provider(session, actor, config["provider_id"])


# -- loading ----------------------------------------------------------------------------------


async def _owned_bot(
    session: AsyncSession, actor: Actor, bot_id: str, *, for_update: bool = False
) -> Bot:
    stmt = select(Bot).where(
        Bot.id == bot_id, Bot.user_id == actor.user_id, Bot.type != MANUAL_BOT_TYPE
    )
    if for_update:
        # NO KEY UPDATE: closing live positions books rows that reference the bot in other
        # transactions (their foreign keys take KEY SHARE locks on it)
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    bot = await session.scalar(stmt)
    if bot is None:
        raise NotFound(f"No bot {bot_id!r}.")
    return bot


async def _view(session: AsyncSession, bot: Bot) -> BotView:
    """The bot as a view; columns the database set on the last flush (an ``updated_at`` left
    equal to its old value gets the server's ``onupdate``) are loaded first."""
    expired = inspect(bot).expired_attributes
    if expired:
        await session.refresh(bot, attribute_names=list(expired))
    return bot_view(bot)


async def _announce(
    session: AsyncSession,
    bot: Bot,
    action: str,
    type_: NotificationType | None,
    title: str,
    message: str,
    clock: Clock,
    priority: NotificationPriority = NotificationPriority.NORMAL,
) -> None:
    if type_ is not None:
        await notify(
            session,
            user_id=bot.user_id,
            type=type_,
            title=title,
            message=message,
            priority=priority,
            metadata={"bot_id": bot.id, "action": action},
            clock=clock,
        )
    await publish_in(
        session,
        Event("bot", bot.user_id, {"bot_id": bot.id, "status": bot.status, "action": action}),
    )


# -- create / read / update / delete ----------------------------------------------------------


async def _plan_allows(
    session: AsyncSession, actor: Actor, *, live: bool, what: str, clock: Clock
) -> None:
    """The user's plan limits: how many bots, how many running, live trading (Forbidden names
    the plan that allows it)."""
    from core.services.plans import Limit, check_limit  # plans imports this module's callers

    await check_limit(session, actor.user_id, Limit(what), clock=clock)
    if live:
        await check_limit(session, actor.user_id, Limit.LIVE_TRADING, clock=clock)


async def create_bot(
    session: AsyncSession, actor: Actor, spec: BotSpec, *, clock: Clock = SYSTEM_CLOCK
) -> BotView:
    """Validate and store a new (inactive) bot with its simulation wallet, plus a live wallet on
    the user's exchange connection for a live bot. Notifies BOT_CREATED."""
    name = _name(spec.name)
    description = _description(spec.description)
    config = _config(spec.type, spec.config)
    risk = _risk(spec.risk_settings)
    balance = _balance(spec.initial_balance)
    paper_market = _exchange_market(spec.paper_market, spec.type)
    if spec.paper_trading:
        if spec.exchange_connection_id is not None:
            raise InvalidInput(
                "A paper bot trades on the simulated market; leave the exchange connection out "
                "or make it a live bot.",
                field="exchange_connection_id",
            )
        if paper_market is None:
            _paper_market_check(config)
    elif spec.type == "arbitrage":
        raise InvalidInput(
            "Arbitrage bots paper-trade: both legs need a wallet on each market, and a bot has "
            "one live wallet. Leave paper trading on.",
            field="paper_trading",
        )
    elif spec.exchange_connection_id is None:
        raise InvalidInput(
            "A live bot needs one of your exchange connections.", field="exchange_connection_id"
        )
    await _connections_check(session, actor, spec.exchange_connection_id, config)
    if spec.exchange_connection_id is not None:
        connection = await load_connection(
            session, spec.exchange_connection_id, owner_id=actor.user_id
        )
        if "trade" not in (connection.permissions or ()):
            raise Conflict(
                "That exchange connection is read-only; allow trading on it for a live bot."
            )
    await _plan_allows(session, actor, live=not spec.paper_trading, what="bots", clock=clock)
    now = clock.now()
    bot = Bot(
        id=new_id(),
        user_id=actor.user_id,
        name=name,
        description=description,
        type=spec.type,
        status=INACTIVE,
        config=config,
        risk_settings=risk,
        paper_trading=spec.paper_trading,
        created_at=now,
        updated_at=now,
        error_count=0,
    )
    session.add(bot)
    await session.flush()
    await open_wallet(
        session,
        bot.id,
        initial_balance=balance,
        quote=spec.quote,
        paper_market=paper_market,
        at=now,
    )
    if not spec.paper_trading:
        await open_wallet(
            session,
            bot.id,
            wallet_type=LIVE,
            quote=spec.quote,
            exchange_connection_id=spec.exchange_connection_id,
        )
    mode = "paper" if spec.paper_trading else "live"
    await _announce(
        session,
        bot,
        "created",
        NotificationType.BOT_CREATED,
        f"Bot created: {name}",
        f"{name} ({spec.type}, {mode} trading) is ready; start it when you are.",
        clock,
    )
    return await _view(session, bot)


def _summary_query(actor: Actor) -> Select[Any]:
    p = Position
    stats = (
        select(
            p.bot_id.label("bot_id"),
            p.is_paper_trade.label("paper"),
            func.sum(
                p.realized_pnl
                - p.fees_paid
                + case((p.status == "open", p.unrealized_pnl), else_=Decimal(0))
            ).label("pnl"),
            func.count().filter(p.status == "closed").label("closed"),
            func.count().filter(and_(p.status == "closed", p.profit_loss > 0)).label("wins"),
            func.count().filter(p.status == "open").label("open"),
        )
        .group_by(p.bot_id, p.is_paper_trade)
        .subquery()
    )
    wallet = select(BotWallet.bot_id, BotWallet.wallet_type, BotWallet.initial_balance).subquery()
    pnl = func.coalesce(stats.c.pnl, Decimal(0))
    win_rate = case(
        (func.coalesce(stats.c.closed, 0) > 0, stats.c.wins * Decimal(100) / stats.c.closed),
        else_=None,
    )
    pnl_percent = case(
        (func.coalesce(wallet.c.initial_balance, 0) > 0, pnl * 100 / wallet.c.initial_balance),
        else_=None,
    )
    return (
        select(
            Bot,
            pnl.label("pnl"),
            pnl_percent.label("pnl_percent"),
            win_rate.label("win_rate"),
            func.coalesce(stats.c.closed, 0).label("closed"),
            func.coalesce(stats.c.open, 0).label("open"),
        )
        .outerjoin(stats, and_(stats.c.bot_id == Bot.id, stats.c.paper == Bot.paper_trading))
        .outerjoin(
            wallet,
            and_(
                wallet.c.bot_id == Bot.id,
                wallet.c.wallet_type == case((Bot.paper_trading, SIMULATION), else_=LIVE),
            ),
        )
        .where(Bot.user_id == actor.user_id, Bot.type != MANUAL_BOT_TYPE)
    )


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


async def list_bots(
    session: AsyncSession,
    actor: Actor,
    *,
    type: str | None = None,
    status: str | None = None,
    symbol: str | None = None,
    search: str | None = None,
    sort: str = "created",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
) -> list[BotSummary]:
    """The user's bots with P&L, win rate and last execution; filtered, sorted and paged."""
    if type is not None and type not in BOT_CONFIGS:
        raise InvalidInput(f"Unknown bot type {type!r}.", field="type")
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            f"Unknown status {status!r}: choose one of {', '.join(STATUSES)}.", field="status"
        )
    if sort not in SORTS:
        raise InvalidInput(f"Sort by one of {', '.join(SORTS)}.", field="sort")
    stmt = _summary_query(actor)
    if type is not None:
        stmt = stmt.where(Bot.type == type)
    if status is not None:
        stmt = stmt.where(Bot.status == status)
    if symbol:
        wanted = symbol.strip().upper()
        stmt = stmt.where(
            (Bot.config["symbol"].astext == wanted) | Bot.config["symbols"].contains([wanted])
        )
    if search and search.strip():
        stmt = stmt.where(Bot.name.ilike(containing(search.strip()), escape="\\"))
    columns = stmt.selected_columns
    key = {
        "name": func.lower(Bot.name),
        "type": Bot.type,
        "status": Bot.status,
        "symbol": Bot.config["symbol"].astext,
        "pnl": columns.pnl,
        "pnl_percent": columns.pnl_percent,
        "win_rate": columns.win_rate,
        "last_execution": Bot.last_execution_at,
        "created": Bot.created_at,
    }[sort]
    order = key.desc().nulls_last() if descending else key.asc().nulls_last()
    stmt = stmt.order_by(order, Bot.id).limit(max(1, min(limit, 500))).offset(max(0, offset))
    rows = (await session.execute(stmt)).all()
    return [
        BotSummary(
            id=bot.id,
            name=bot.name,
            type=bot.type,
            status=bot.status,
            symbol=bot_view(bot).symbol,
            paper_trading=bot.paper_trading,
            pnl=pnl,
            pnl_percent=_percent(pnl_percent),
            win_rate=_percent(win_rate),
            closed_positions=closed,
            open_positions=open_,
            last_execution_at=bot.last_execution_at,
            last_error=bot.last_error,
            created_at=bot.created_at,
        )
        for bot, pnl, pnl_percent, win_rate, closed, open_ in rows
    ]


async def get_bot(
    session: AsyncSession, actor: Actor, bot_id: str, *, executions: int = 20
) -> BotDetail:
    """A bot with its wallets, open positions, recent executions, latest performance snapshot
    and backtests."""
    bot = await _owned_bot(session, actor, bot_id)
    wallets = (
        await session.execute(
            select(BotWallet, BotBalance.amount)
            .outerjoin(
                BotBalance,
                and_(
                    BotBalance.wallet_id == BotWallet.id,
                    BotBalance.asset == BotWallet.quote_currency,
                ),
            )
            .where(BotWallet.bot_id == bot.id)
            .order_by(BotWallet.wallet_type.desc())
        )
    ).all()
    positions = await session.scalars(
        select(Position)
        .where(Position.bot_id == bot.id, Position.status == "open")
        .order_by(Position.created_at, Position.id)
    )
    recent = await session.scalars(
        select(Execution)
        .where(Execution.bot_id == bot.id)
        .order_by(Execution.timestamp.desc(), Execution.id.desc())
        .limit(max(1, min(executions, 500)))
    )
    snapshot = await session.scalar(
        select(PerformanceSnapshot)
        .where(PerformanceSnapshot.bot_id == bot.id)
        .order_by(PerformanceSnapshot.timestamp.desc())
        .limit(1)
    )
    return BotDetail(
        bot=bot_view(bot),
        wallets=tuple(
            WalletView(
                id=w.id,
                wallet_type=w.wallet_type,
                quote=w.quote_currency,
                initial_balance=w.initial_balance,
                cash=cash or Decimal(0),
                exchange_connection_id=w.exchange_connection_id,
            )
            for w, cash in wallets
        ),
        open_positions=tuple(position_view(p, bot) for p in positions),
        recent_executions=tuple(execution_view(e) for e in recent),
        performance=None if snapshot is None else performance_view(snapshot),
        backtests=tuple(await list_backtests(session, actor, bot_id=bot.id, limit=20)),
    )


async def update_bot(
    session: AsyncSession,
    actor: Actor,
    bot_id: str,
    changes: BotUpdate,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> BotView:
    """Change name, description, config or risk settings (validated as on create). A running
    bot picks a new config up at its next cycle."""
    bot = await _owned_bot(session, actor, bot_id, for_update=True)
    if changes.name is not None:
        bot.name = _name(changes.name)
    if changes.description is not None:
        bot.description = _description(changes.description)
    if changes.config is not None:
        config = _config(bot.type, changes.config)
        if bot.paper_trading:
            _paper_market_check(config)
        await _connections_check(session, actor, None, config)
        if config != bot.config:
            bot.config = config
            bot.engine_state = None  # grid levels, DCA ladder... belong to the old config
    if changes.risk_settings is not None:
        bot.risk_settings = _risk(changes.risk_settings)
    bot.updated_at = clock.now()
    await session.flush()
    await _announce(session, bot, "updated", None, "", "", clock)
    return await _view(session, bot)


async def delete_bot(
    session: AsyncSession, actor: Actor, bot_id: str, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Delete a stopped bot without open positions or resting orders. Its trades stay (their
    ``bot_id`` becomes empty); executions, positions and wallets go with it."""
    bot = await _owned_bot(session, actor, bot_id, for_update=True)
    if bot.status == ACTIVE:
        raise Conflict("Stop the bot before deleting it.")
    open_positions = await session.scalar(
        select(func.count())
        .select_from(Position)
        .where(Position.bot_id == bot.id, Position.status == "open")
    )
    if open_positions:
        raise Conflict(
            f"The bot holds {open_positions} open position(s): stop it with 'close positions' "
            "first, so nothing is lost."
        )
    resting = await session.scalar(
        select(func.count())
        .select_from(Order)
        .join(BotWallet, BotWallet.id == Order.wallet_id)
        .where(BotWallet.bot_id == bot.id, Order.status.in_(["open", "pending"]))
    )
    if resting:
        raise Conflict(f"The bot has {resting} open order(s); stop it to cancel them first.")
    user_id = bot.user_id
    # What the bot's wallets still hold leaves the portfolio with it: a withdrawal, not a loss.
    wallet_ids = list(await session.scalars(select(BotWallet.id).where(BotWallet.bot_id == bot.id)))
    for value in await wallet_values(session, wallet_ids=wallet_ids):
        await record_flow(
            session,
            user_id=user_id,
            wallet_id=value.wallet_id,
            amount=-value.total,
            currency=value.quote,
            reason=DELETED,
            at=clock.now(),
        )
    await session.delete(bot)
    await session.flush()
    await publish_in(session, Event("bot", user_id, {"bot_id": bot_id, "action": "deleted"}))


# -- lifecycle ----------------------------------------------------------------------------------


async def start_bot(
    session: AsyncSession, actor: Actor, bot_id: str, *, clock: Clock = SYSTEM_CLOCK
) -> BotView:
    """inactive, paused or error → active (clears the error). Notifies BOT_STARTED."""
    bot = await _owned_bot(session, actor, bot_id, for_update=True)
    if bot.status == ACTIVE:
        raise Conflict("The bot is already running.")
    await _plan_allows(session, actor, live=not bot.paper_trading, what="active_bots", clock=clock)
    # Settings that were valid when stored may not be any more (a connection disabled...).
    validate_bot_config(bot.type, bot.config)
    validate_risk_settings(bot.risk_settings)
    await _connections_check(session, actor, None, bot.config or {})
    if not bot.paper_trading:
        wallet = await session.scalar(
            select(BotWallet).where(BotWallet.bot_id == bot.id, BotWallet.wallet_type == LIVE)
        )
        if wallet is None or wallet.exchange_connection_id is None:
            raise Conflict("The bot's exchange connection was removed; it can't trade live.")
        await _connections_check(session, actor, wallet.exchange_connection_id, {})
    resumed = bot.status == PAUSED
    now = clock.now()
    bot.status = ACTIVE
    bot.error_count = 0
    bot.last_error = None
    bot.backoff_until = None
    bot.last_execution_at = None  # no catching up on the slots it was not running
    if not resumed:
        bot.started_at = now
        bot.stopped_at = None
    bot.updated_at = now
    await session.flush()
    verb = "resumed" if resumed else "started"
    await _announce(
        session,
        bot,
        verb,
        NotificationType.BOT_STARTED,
        f"Bot {verb}: {bot.name}",
        f"{bot.name} is running.",
        clock,
    )
    return await _view(session, bot)


async def resume_bot(
    session: AsyncSession, actor: Actor, bot_id: str, *, clock: Clock = SYSTEM_CLOCK
) -> BotView:
    """paused → active."""
    bot = await _owned_bot(session, actor, bot_id)
    if bot.status != PAUSED:
        raise Conflict(f"Only a paused bot can be resumed; this one is {bot.status}.")
    return await start_bot(session, actor, bot_id, clock=clock)


async def pause_bot(
    session: AsyncSession, actor: Actor, bot_id: str, *, clock: Clock = SYSTEM_CLOCK
) -> BotView:
    """active → paused: no new decisions; the exit rules keep protecting open positions."""
    bot = await _owned_bot(session, actor, bot_id, for_update=True)
    if bot.status != ACTIVE:
        raise Conflict(f"Only a running bot can be paused; this one is {bot.status}.")
    bot.status = PAUSED
    bot.updated_at = clock.now()
    await session.flush()
    await _announce(
        session,
        bot,
        "paused",
        NotificationType.BOT_STOPPED,
        f"Bot paused: {bot.name}",
        f"{bot.name} is paused; its open positions stay protected by their exit rules.",
        clock,
    )
    return await _view(session, bot)


async def stop_bot(
    session: AsyncSession,
    actor: Actor,
    bot_id: str,
    *,
    close_positions: bool = False,
    markets: Markets | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> StopResult:
    """Any state → inactive. With ``close_positions`` its resting orders are cancelled and its
    open positions sold at market (close reason BOT_STOPPED), which needs ``markets``. A
    position that can't be sold stays open and is reported. Notifies BOT_STOPPED."""
    bot = await _owned_bot(session, actor, bot_id, for_update=True)
    if bot.status == INACTIVE and not close_positions:
        raise Conflict("The bot is already stopped.")
    if close_positions and markets is None:
        raise InvalidInput("Closing positions needs market prices; none were given.")
    now = clock.now()
    bot.status = INACTIVE
    bot.stopped_at = now
    bot.updated_at = now
    bot.lease_owner = None
    bot.lease_until = None
    await session.flush()
    closed: list[str] = []
    cancelled: list[str] = []
    failures: list[str] = []
    if close_positions:
        assert markets is not None
        closed, cancelled, failures = await _close_everything(session, bot, markets)
    extra = f" {len(closed)} position(s) closed." if closed else ""
    if failures:
        extra += f" {len(failures)} could not be closed: {'; '.join(failures)}"
    await _announce(
        session,
        bot,
        "stopped",
        NotificationType.BOT_STOPPED,
        f"Bot stopped: {bot.name}",
        f"{bot.name} was stopped.{extra}",
        clock,
        NotificationPriority.HIGH if failures else NotificationPriority.NORMAL,
    )
    return StopResult(await _view(session, bot), tuple(closed), tuple(cancelled), tuple(failures))


async def _close_everything(
    session: AsyncSession, bot: Bot, markets: Markets
) -> tuple[list[str], list[str], list[str]]:
    desk = OrderDesk(clock=markets.clock)
    closed: list[str] = []
    cancelled: list[str] = []
    failures: list[str] = []
    wallets = (await session.scalars(select(BotWallet.id).where(BotWallet.bot_id == bot.id))).all()
    for wallet_id in wallets:
        wallet = await get_wallet(session, wallet_id)
        positions = (
            await session.scalars(
                select(Position).where(Position.wallet_id == wallet_id, Position.status == "open")
            )
        ).all()
        has_orders = await session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.wallet_id == wallet_id, Order.status == "open")
        )
        if not positions and not has_orders:
            continue
        venue = await open_venue(
            session,
            markets,
            bot_id=bot.id,
            owner_id=bot.user_id,
            paper=wallet.is_paper,
            wallet=wallet,
        )
        try:
            cancelled += await cancel_resting(
                session, desk, venue, "Cancelled: the bot was stopped."
            )
            for position in positions:
                held = (
                    position.quantity
                    if position.remaining_quantity is None
                    else position.remaining_quantity
                )
                try:
                    pair = await venue.pair(session, position.symbol)
                    quantity = sellable(pair, held)
                    if quantity <= 0:
                        raise Conflict("what it holds is below the pair's quantity step")
                    async with session.begin_nested():
                        await venue.hub.ticker(position.symbol)
                        await submit(
                            session,
                            desk,
                            venue,
                            market(position.symbol, Side.SELL, quantity, new_client_order_id()),
                            close_reason=CloseReason.BOT_STOPPED,
                        )
                    closed.append(position.id)
                except ServiceError as exc:
                    failures.append(f"{position.symbol}: {exc}")
        finally:
            await venue.close()
    return closed, cancelled, failures
