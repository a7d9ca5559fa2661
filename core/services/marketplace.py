"""The strategy marketplace: publish, browse, buy, deploy, review, sales and refunds.

A strategy is either a whole bot (``bot_config``: ``{"bot_type", "config", "risk_settings"}``)
or a built-in technical rule with its parameters (``trading_strategy``: ``{"strategy",
"params", "risk_settings", "symbol"?, "timeframe"?}``), deployed as a signal bot. Both are
validated through the strategy registry when published. A paid strategy's settings are shown
only to its creator and its buyers.

Buying: one purchase per user and strategy; a paid one is charged through ``core.billing``
(a ``payments`` row of type ``strategy_purchase``); a free one is simply added. A refunded
purchase may be bought again. ``downloads`` counts the purchases in force.

Reviews: one per buyer (a completed purchase, not the creator), 1–5 stars. ``rating`` is
recomputed from all reviews as Σ stars ÷ n in Decimal, rounded half-even to the column's 30
decimal places — never updated incrementally, so it can't drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing.money import PaymentStatus, money_text
from core.billing.payments import (
    Billing,
    billing_lock,
    charge_payment,
    complete_payment,
    ensure_customer,
    open_payment,
    refund_payment,
)
from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.billing import Payment
from core.db.models.bots import Backtest, Bot
from core.db.models.marketplace import Strategy, StrategyPurchase, StrategyReview
from core.db.models.notifications import NotificationType
from core.db.models.users import User
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.notifications import notify
from core.services.actor import Actor, get_owned, recheck
from core.services.plans import Limit, check_limit
from core.services.referrals import mask_email
from core.services.templates import BotDraft, bot_draft, merge, validated
from core.strategies.registry import technical_strategy, validate_risk_settings

TYPES = ("bot_config", "trading_strategy")
CATEGORIES = (
    "trend_following", "mean_reversion", "breakout", "grid", "dca", "arbitrage", "ai",
    "screener", "other",
)  # fmt: skip
SORTS = ("rating", "downloads", "price", "newest")
PRICE_MAX = Decimal("10000")
NAME_MAX, DESCRIPTION_MAX, COMMENT_MAX, REASON_MAX = 100, 5000, 2000, 500
MAX_PAGE = 200
PURCHASE_PAYMENT = "strategy_purchase"
COMPLETED, REFUNDED = "completed", "refunded"
RATING_PLACES = Decimal(10) ** -30


@dataclass(frozen=True, slots=True)
class StrategyView:
    id: str
    name: str
    description: str
    price: Decimal
    type: str
    category: str | None
    rating: Decimal
    reviews: int
    downloads: int
    active: bool
    creator: str
    is_mine: bool
    owned: bool  # bought (and not refunded)
    config: dict[str, Any] | None  # None: paid and not bought
    performance: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewView:
    id: str
    rating: int
    comment: str | None
    reviewer: str
    is_mine: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PurchaseView:
    id: str
    strategy_id: str
    strategy_name: str
    price: Decimal
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SalesSummary:
    sales: tuple[PurchaseView, ...]
    completed: int
    refunded: int
    revenue: Decimal  # completed sales


# --- input ---------------------------------------------------------------------------------


def _text(value: object, field: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(f"{field.capitalize()} can't be empty.", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field.capitalize()} is at most {limit} characters.", field=field)
    return text


def parse_price(value: object) -> Decimal:
    if isinstance(value, float | bool):
        raise InvalidInput("Give the price as a decimal, like 19.99.", field="price")
    try:
        price = Decimal(str(value).strip().replace(",", "").lstrip("$"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"Price {value!r} is not a number.", field="price") from None
    if not price.is_finite() or price < 0 or price > PRICE_MAX:
        raise InvalidInput(f"The price is from 0 to {PRICE_MAX:,} USD.", field="price")
    if price != price.quantize(Decimal("0.01")):
        raise InvalidInput("The price is in whole cents, like 19.99.", field="price")
    return price.quantize(Decimal("0.01"))


def _choice(value: object, allowed: tuple[str, ...], field: str) -> str:
    clean = value.strip().lower() if isinstance(value, str) else ""
    if clean not in allowed:
        raise InvalidInput(f"{field.capitalize()} is one of {', '.join(allowed)}.", field=field)
    return clean


def validate_strategy_config(type_: str, config: object) -> dict[str, Any]:
    """The stored form of a strategy's settings; InvalidInput names what is wrong."""
    if not isinstance(config, dict):
        raise InvalidInput("The strategy's settings are an object.", field="config")
    if type_ == "bot_config":
        unknown = set(config) - {"bot_type", "config", "risk_settings"}
        if unknown or not isinstance(config.get("bot_type"), str):
            raise InvalidInput(
                "A bot strategy has bot_type, config and risk_settings.", field="config"
            )
        bot_config, risk = validated(
            config["bot_type"], config.get("config"), config.get("risk_settings")
        )
        return {"bot_type": config["bot_type"], "config": bot_config, "risk_settings": risk}
    unknown = set(config) - {"strategy", "params", "risk_settings", "symbol", "timeframe"}
    if unknown or not isinstance(config.get("strategy"), str):
        raise InvalidInput(
            "A trading strategy has strategy, params, risk_settings and optionally symbol "
            "and timeframe.",
            field="config",
        )
    params = config.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidInput("params is an object of settings.", field="config.params")
    rule = technical_strategy(config["strategy"], params)
    stored: dict[str, Any] = {
        "strategy": config["strategy"],
        "params": {k: v for k, v in rule.signal.model_dump(mode="json").items() if k != "name"},
        "risk_settings": validate_risk_settings(config.get("risk_settings")).model_dump(
            mode="json", exclude_defaults=True
        ),
    }
    for key in ("symbol", "timeframe"):
        if config.get(key) is not None:
            stored[key] = config[key]
    _as_signal_bot(stored, {}, {}, name="check", paper_trading=True)  # symbol/timeframe checked
    return stored


def _as_signal_bot(
    stored: dict[str, Any],
    config: dict[str, Any],
    risk: dict[str, Any],
    *,
    name: object,
    paper_trading: object,
    description: object = None,
) -> BotDraft:
    base = {
        "symbol": stored.get("symbol", "BTC/USDT"),
        "timeframe": stored.get("timeframe", "1h"),
        "source": "technical",
        "indicator": {"name": stored["strategy"], **stored["params"]},
    }
    return bot_draft(
        "signal",
        merge(base, config),
        merge(stored["risk_settings"], risk),
        name=name,
        description=description,
        paper_trading=paper_trading,
    )


# --- views ---------------------------------------------------------------------------------


async def _creator_names(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    rows = await session.execute(
        select(User.id, User.first_name, User.last_name, User.email).where(User.id.in_(ids))
    )
    names = {}
    for uid, first, last, email in rows.all():
        full = " ".join(p for p in (first, last) if p)
        names[uid] = full or mask_email(email)
    return names


async def _owned_ids(session: AsyncSession, actor: Actor, ids: list[str]) -> set[str]:
    rows = await session.scalars(
        select(StrategyPurchase.strategy_id).where(
            StrategyPurchase.user_id == actor.user_id,
            StrategyPurchase.status == COMPLETED,
            StrategyPurchase.strategy_id.in_(ids),
        )
    )
    return set(rows)


async def _review_counts(session: AsyncSession, ids: list[str]) -> dict[str, int]:
    rows = await session.execute(
        select(StrategyReview.strategy_id, func.count())
        .where(StrategyReview.strategy_id.in_(ids))
        .group_by(StrategyReview.strategy_id)
    )
    return {sid: int(n) for sid, n in rows.all()}


async def _views(session: AsyncSession, actor: Actor, rows: list[Strategy]) -> list[StrategyView]:
    ids = [r.id for r in rows]
    owned = await _owned_ids(session, actor, ids)
    reviews = await _review_counts(session, ids)
    names = await _creator_names(session, {r.creator_id for r in rows})
    out = []
    for r in rows:
        mine = r.creator_id == actor.user_id
        visible = mine or r.id in owned or r.price == 0
        out.append(
            StrategyView(
                id=r.id,
                name=r.name,
                description=r.description,
                price=r.price,
                type=r.type,
                category=r.category,
                rating=r.rating,
                reviews=reviews.get(r.id, 0),
                downloads=r.downloads,
                active=r.active,
                creator=names.get(r.creator_id, "?"),
                is_mine=mine,
                owned=r.id in owned,
                config=r.config if visible else None,
                performance=r.performance,
                created_at=r.created_at,
            )
        )
    return out


# --- publishing ----------------------------------------------------------------------------


def _performance(backtest: Backtest) -> dict[str, Any]:
    result = backtest.result or {}
    keys = ("timeframe", "candles", "start", "end", "total_return_pct", "trades",
            "win_rate_pct", "max_drawdown_pct", "sharpe", "profit_factor")  # fmt: skip
    return {"backtest_id": backtest.id, **{k: result.get(k) for k in keys}}


async def publish_strategy(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    description: str,
    price: object,
    type: str,
    category: str | None = None,
    config: dict[str, Any] | None = None,
    bot_id: str | None = None,
    backtest_id: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> StrategyView:
    """List a strategy: ``config`` as described above, or ``bot_id`` to publish one of the
    actor's bots; ``backtest_id`` (one of the actor's backtests) supplies its performance."""
    type_ = _choice(type, TYPES, "type")
    amount = parse_price(price)
    if bot_id is not None:
        if type_ != "bot_config" or config is not None:
            raise InvalidInput("Publish either a bot or a config, as a bot_config.", field="bot_id")
        bot = await get_owned(session, Bot, bot_id, actor, what="bot")
        config = {"bot_type": bot.type, "config": bot.config, "risk_settings": bot.risk_settings}
    stored = validate_strategy_config(type_, config)
    performance = None
    if backtest_id is not None:
        performance = _performance(await get_owned(session, Backtest, backtest_id, actor))
    if amount > 0:
        await check_limit(session, actor.user_id, Limit.SELL_STRATEGIES, clock=clock)
    now = clock.now()
    row = Strategy(
        creator_id=actor.user_id,
        name=_text(name, "name", NAME_MAX),
        description=_text(description, "description", DESCRIPTION_MAX),
        price=amount,
        type=type_,
        category=_choice(category, CATEGORIES, "category") if category else None,
        config=stored,
        performance=performance,
        rating=Decimal(0),
        downloads=0,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return (await _views(session, actor, [row]))[0]


async def update_listing(
    session: AsyncSession,
    actor: Actor,
    strategy_id: str,
    *,
    price: object = None,
    description: str | None = None,
    active: bool | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> StrategyView:
    """The creator changes the price or description, or lists / unlists the strategy. Buyers
    keep what they bought when it is unlisted."""
    row = await get_owned(session, Strategy, strategy_id, actor, owner_attr="creator_id",
                          what="strategy", for_update=True)  # fmt: skip
    if price is not None:
        amount = parse_price(price)
        if amount > 0:
            await check_limit(session, actor.user_id, Limit.SELL_STRATEGIES, clock=clock)
        row.price = amount
    if description is not None:
        row.description = _text(description, "description", DESCRIPTION_MAX)
    if active is not None:
        row.active = bool(active)
    row.updated_at = clock.now()
    await session.flush()
    return (await _views(session, actor, [row]))[0]


# --- browsing ------------------------------------------------------------------------------


async def browse_strategies(
    session: AsyncSession,
    actor: Actor,
    *,
    search: str | None = None,
    category: str | None = None,
    type: str | None = None,
    sort: str = "rating",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[StrategyView]:
    """Listed strategies, searched in name and description, sorted by rating, downloads, price
    or newest (ties: most downloaded, then newest)."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} strategies.", field="limit")
    key = {
        "rating": Strategy.rating,
        "downloads": Strategy.downloads,
        "price": Strategy.price,
        "newest": Strategy.created_at,
    }[_choice(sort, SORTS, "sort")]
    stmt = select(Strategy).where(Strategy.active.is_(True))
    if search and search.strip():
        word = search.strip()
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Strategy.name.ilike(like), Strategy.description.ilike(like)))
    if category:
        stmt = stmt.where(Strategy.category == _choice(category, CATEGORIES, "category"))
    if type:
        stmt = stmt.where(Strategy.type == _choice(type, TYPES, "type"))
    stmt = stmt.order_by(
        key.desc() if descending else key.asc(),
        Strategy.downloads.desc(),
        Strategy.created_at.desc(),
        Strategy.id,
    )
    rows = list(await session.scalars(stmt.limit(limit).offset(offset)))
    return await _views(session, actor, rows)


async def _visible(session: AsyncSession, actor: Actor, strategy_id: str) -> Strategy:
    """Listed strategies, and unlisted ones to their creator and buyers."""
    row = await session.get(Strategy, strategy_id)
    if row is None:
        raise NotFound(f"No strategy {strategy_id!r}.")
    hidden = not row.active and row.creator_id != actor.user_id
    if hidden and not await _owned_ids(session, actor, [row.id]):
        raise NotFound(f"No strategy {strategy_id!r}.")
    return row


async def get_strategy(session: AsyncSession, actor: Actor, strategy_id: str) -> StrategyView:
    return (await _views(session, actor, [await _visible(session, actor, strategy_id)]))[0]


# --- buying --------------------------------------------------------------------------------


async def _purchase_row(
    session: AsyncSession, user_id: str, strategy_id: str
) -> StrategyPurchase | None:
    return await session.scalar(
        select(StrategyPurchase)
        .where(StrategyPurchase.user_id == user_id, StrategyPurchase.strategy_id == strategy_id)
        .with_for_update()
    )


async def _buyable(session: AsyncSession, actor: Actor, strategy_id: str) -> Strategy:
    row = await session.get(Strategy, strategy_id)
    if row is None or not row.active:
        raise NotFound(f"No strategy {strategy_id!r} for sale.")
    if row.creator_id == actor.user_id:
        raise Conflict("This is your own strategy; deploy it directly.")
    bought = await _purchase_row(session, actor.user_id, strategy_id)
    if bought is not None and bought.status == COMPLETED:
        raise Conflict(f"You already own {row.name!r}.")
    return row


async def _record_purchase(
    session: AsyncSession, actor: Actor, strategy: Strategy, price: Decimal, clock: Clock
) -> StrategyPurchase:
    now = clock.now()
    row = await _purchase_row(session, actor.user_id, strategy.id)
    if row is None:
        row = StrategyPurchase(user_id=actor.user_id, strategy_id=strategy.id, created_at=now)
        session.add(row)
    row.price, row.status, row.created_at = price, COMPLETED, now
    await session.execute(
        update(Strategy).where(Strategy.id == strategy.id)
        .values(downloads=Strategy.downloads + 1)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    await notify(
        session,
        user_id=strategy.creator_id,
        type=NotificationType.STRATEGY_PURCHASED,
        title=f"Sold: {strategy.name}",
        message=f"Someone bought your strategy {strategy.name!r}"
        + (f" for {money_text(price)}." if price else " (free)."),
        metadata={"strategy_id": strategy.id},
        clock=clock,
    )
    await session.flush()
    return row


def _purchase_view(row: StrategyPurchase, name: str) -> PurchaseView:
    return PurchaseView(row.id, row.strategy_id, name, row.price, row.status, row.created_at)


async def buy_strategy(
    db: Database, actor: Actor, strategy_id: str, *, billing: Billing
) -> PurchaseView:
    """Buy a strategy once. A paid one is charged to the card on file first; if it was bought
    meanwhile from elsewhere, the charge is given back."""
    clock = billing.clock
    async with db.sessions.begin() as session:
        strategy = await _buyable(session, actor, strategy_id)
        price, name = strategy.price, strategy.name
        if price == 0:
            row = await _record_purchase(session, actor, strategy, price, clock)
            return _purchase_view(row, name)
    customer = await ensure_customer(db, billing, actor.user_id)
    description = f"strategy {name!r}"
    async with db.sessions.begin() as session:
        await billing_lock(session, actor.user_id)
        strategy = await _buyable(session, actor, strategy_id)
        if strategy.price != price:
            raise Conflict("The price changed while you were deciding; look again.")
        payment = await open_payment(
            session,
            user_id=actor.user_id,
            amount=price,
            type=PURCHASE_PAYMENT,
            metadata={"description": description, "strategy_id": strategy_id},
            now=clock.now(),
        )
    charge = await charge_payment(
        db, billing, payment, customer_id=customer, description=description
    )
    try:
        async with db.sessions.begin() as session:
            await billing_lock(session, actor.user_id)
            strategy = await _buyable(session, actor, strategy_id)
            row = await _record_purchase(session, actor, strategy, price, clock)
            paid = await complete_payment(
                session, payment.id, charge, description=description, clock=clock
            )
            paid.metadata_ = {**(paid.metadata_ or {}), "purchase_id": row.id}
            return _purchase_view(row, name)
    except (Conflict, NotFound):
        await refund_payment(db, billing, payment.id, reason="bought meanwhile or unlisted")
        raise


async def my_purchases(session: AsyncSession, actor: Actor) -> list[PurchaseView]:
    rows = await session.execute(
        select(StrategyPurchase, Strategy.name)
        .join(Strategy, Strategy.id == StrategyPurchase.strategy_id)
        .where(StrategyPurchase.user_id == actor.user_id)
        .order_by(StrategyPurchase.created_at.desc(), StrategyPurchase.id.desc())
    )
    return [_purchase_view(p, name) for p, name in rows.all()]


async def my_sales(session: AsyncSession, actor: Actor) -> SalesSummary:
    """Purchases of the actor's strategies (buyers are not named)."""
    rows = (
        await session.execute(
            select(StrategyPurchase, Strategy.name)
            .join(Strategy, Strategy.id == StrategyPurchase.strategy_id)
            .where(Strategy.creator_id == actor.user_id)
            .order_by(StrategyPurchase.created_at.desc(), StrategyPurchase.id.desc())
        )
    ).all()
    sales = tuple(_purchase_view(p, name) for p, name in rows)
    done = [s for s in sales if s.status == COMPLETED]
    return SalesSummary(
        sales=sales,
        completed=len(done),
        refunded=len(sales) - len(done),
        revenue=sum((s.price for s in done), Decimal(0)),
    )


async def refund_purchase(
    db: Database, actor: Actor, purchase_id: str, *, reason: str, billing: Billing
) -> PurchaseView:
    """The strategy's creator (or an administrator) refunds a purchase: the money goes back,
    the purchase is marked refunded and the buyer can no longer deploy it (bots already made
    stay)."""
    why = _text(reason, "reason", REASON_MAX)
    async with db.sessions.begin() as session:
        found = (
            await session.execute(
                select(StrategyPurchase, Strategy)
                .join(Strategy, Strategy.id == StrategyPurchase.strategy_id)
                .where(StrategyPurchase.id == purchase_id)
            )
        ).first()
        if found is not None and found[1].creator_id != actor.user_id:
            actor = await recheck(session, actor)  # refunding another's sale needs staff now
        if found is None or (found[1].creator_id != actor.user_id and not actor.is_admin):
            raise NotFound(f"No purchase {purchase_id!r}.")
        purchase, strategy = found
        if purchase.status != COMPLETED:
            raise Conflict("This purchase is already refunded.")
        payment_id = await session.scalar(
            select(Payment.id).where(
                Payment.user_id == purchase.user_id,
                Payment.type == PURCHASE_PAYMENT,
                Payment.status == PaymentStatus.COMPLETED,
                Payment.metadata_["purchase_id"].astext == purchase.id,
            )
        )
    if payment_id is not None:
        await refund_payment(db, billing, payment_id, reason=why)
    async with db.sessions.begin() as session:
        locked = await session.get(StrategyPurchase, purchase_id, with_for_update=True)
        assert locked is not None
        purchase = locked
        if purchase.status != COMPLETED:
            raise Conflict("This purchase is already refunded.")
        purchase.status = REFUNDED
        await session.execute(
            update(Strategy).where(Strategy.id == strategy.id)
            .values(downloads=func.greatest(Strategy.downloads - 1, 0))
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        await notify(
            session,
            user_id=purchase.user_id,
            type=NotificationType.STRATEGY_PURCHASED,
            title=f"Refunded: {strategy.name}",
            message=f"Your purchase of {strategy.name!r} was refunded"
            + (f" ({money_text(purchase.price)})" if purchase.price else "")
            + f": {why}",
            metadata={"strategy_id": strategy.id, "purchase_id": purchase.id},
            clock=billing.clock,
        )
        await session.flush()
        return _purchase_view(purchase, strategy.name)


# --- deploying -----------------------------------------------------------------------------


async def strategy_draft(
    session: AsyncSession,
    actor: Actor,
    strategy_id: str,
    *,
    name: object,
    config: dict[str, Any] | None = None,
    risk_settings: dict[str, Any] | None = None,
    paper_trading: object = True,
) -> BotDraft:
    """The bot deploying this strategy would create (the actor must own or have bought it)."""
    row = await _visible(session, actor, strategy_id)
    if row.creator_id != actor.user_id and not await _owned_ids(session, actor, [row.id]):
        raise Forbidden(f"Buy {row.name!r} before deploying it.")
    stored = row.config
    if row.type == "bot_config":
        return bot_draft(
            stored["bot_type"],
            merge(stored["config"], config),
            merge(stored["risk_settings"], risk_settings),
            name=name,
            description=row.description,
            paper_trading=paper_trading,
        )
    return _as_signal_bot(stored, config or {}, risk_settings or {}, name=name,
                          paper_trading=paper_trading, description=row.description)  # fmt: skip


async def deploy_strategy(
    session: AsyncSession,
    actor: Actor,
    strategy_id: str,
    *,
    name: str,
    config: dict[str, Any] | None = None,
    risk_settings: dict[str, Any] | None = None,
    paper_trading: bool = True,
    initial_balance: Decimal | None = None,
    exchange_connection_id: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    """Create a bot from a bought (or one's own) strategy; returns the bot's id."""
    from core.services.bots import create_bot

    draft = await strategy_draft(
        session, actor, strategy_id, name=name, config=config,
        risk_settings=risk_settings, paper_trading=paper_trading,
    )  # fmt: skip
    bot = await create_bot(
        session,
        actor,
        draft.spec(initial_balance=initial_balance, exchange_connection_id=exchange_connection_id),
        clock=clock,
    )
    return bot.id


# --- reviews -------------------------------------------------------------------------------


async def review_strategy(
    session: AsyncSession,
    actor: Actor,
    strategy_id: str,
    *,
    rating: int,
    comment: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> ReviewView:
    """Review a bought strategy once (1–5 stars); the average is recomputed exactly."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("A rating is 1 to 5 stars.", field="rating")
    text = comment.strip() if isinstance(comment, str) else ""
    if len(text) > COMMENT_MAX:
        raise InvalidInput(f"A comment is at most {COMMENT_MAX} characters.", field="comment")
    strategy = await session.scalar(
        select(Strategy).where(Strategy.id == strategy_id).with_for_update()
    )
    if strategy is None:
        raise NotFound(f"No strategy {strategy_id!r}.")
    if strategy.creator_id == actor.user_id:
        raise Forbidden("You can't review your own strategy.")
    if not await _owned_ids(session, actor, [strategy.id]):
        if not strategy.active:
            raise NotFound(f"No strategy {strategy_id!r}.")
        raise Forbidden("Only buyers can review a strategy; buy it first.")
    already = await session.scalar(
        select(StrategyReview.id).where(
            StrategyReview.strategy_id == strategy.id, StrategyReview.user_id == actor.user_id
        )
    )
    if already is not None:
        raise Conflict("You have already reviewed this strategy.")
    row = StrategyReview(strategy_id=strategy.id, user_id=actor.user_id, rating=rating,
                         comment=text or None, created_at=clock.now())  # fmt: skip
    session.add(row)
    await session.flush()
    total, count = (
        await session.execute(
            select(func.sum(StrategyReview.rating), func.count()).where(
                StrategyReview.strategy_id == strategy.id
            )
        )
    ).one()
    with localcontext(prec=80):
        strategy.rating = (Decimal(int(total)) / Decimal(int(count))).quantize(
            RATING_PLACES, rounding=ROUND_HALF_EVEN
        )
    await notify(
        session,
        user_id=strategy.creator_id,
        type=NotificationType.STRATEGY_REVIEW,
        title=f"New review of {strategy.name}",
        message=f"{'★' * rating}{'☆' * (5 - rating)}" + (f" — {text[:200]}" if text else ""),
        metadata={"strategy_id": strategy.id, "review_id": row.id},
        clock=clock,
    )
    await session.flush()
    return ReviewView(row.id, row.rating, row.comment, "you", True, row.created_at)


async def list_reviews(
    session: AsyncSession, actor: Actor, strategy_id: str, *, limit: int = 100
) -> list[ReviewView]:
    await _visible(session, actor, strategy_id)
    rows = (
        await session.execute(
            select(StrategyReview, User.email, User.first_name)
            .join(User, User.id == StrategyReview.user_id, isouter=True)
            .where(StrategyReview.strategy_id == strategy_id)
            .order_by(StrategyReview.created_at.desc(), StrategyReview.id.desc())
            .limit(max(1, min(limit, 500)))
        )
    ).all()
    return [
        ReviewView(
            r.id,
            r.rating,
            r.comment,
            first or mask_email(email or "someone"),
            r.user_id == actor.user_id,
            r.created_at,
        )
        for r, email, first in rows
    ]
