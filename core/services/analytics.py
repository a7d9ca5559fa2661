"""Per-user analytics computed from the ledger, cached in ``analytics``.

Four types — ``portfolio``, ``bot_performance``, ``trading``, ``defi`` — over six periods —
``24h``, ``7d``, ``30d``, ``90d``, ``1y``, ``all`` (a period is the span up to now). Each
(user, type, period) has one cached row (``data`` holds money as decimal strings), refreshed
on demand (``get_analytics`` when the cache is older than ``max_age``, ``refresh_analytics``)
and by the engine (``refresh_stale``). Definitions are in docs/commerce.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.analytics import Analytics
from core.db.models.bots import Bot
from core.db.models.defi import FarmPosition, LiquidityPosition, StakingPosition, Wallet
from core.db.models.trading import PortfolioHistory, Position, Trade
from core.db.models.users import User
from core.errors import InvalidInput
from core.ledger.accounting import percent
from core.ledger.returns import portfolio_return
from core.ledger.snapshots import wallet_values
from core.services.actor import Actor

TYPES = ("portfolio", "bot_performance", "trading", "defi")
PERIODS: dict[str, timedelta | None] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "1y": timedelta(days=365),
    "all": None,
}
DEFAULT_MAX_AGE = timedelta(minutes=5)
ZERO = Decimal(0)
_TEXT_KEYS = {"bot_id", "name", "type", "status", "symbol", "best_bot"}


@dataclass(frozen=True, slots=True)
class AnalyticsView:
    type: str
    period: str
    data: dict[str, Any]  # money and percentages as Decimal
    computed_at: datetime


def _check(kind: str, period: str) -> None:
    if kind not in TYPES:
        raise InvalidInput(f"Analytics type is one of {', '.join(TYPES)}.", field="type")
    if period not in PERIODS:
        raise InvalidInput(f"Period is one of {', '.join(PERIODS)}.", field="period")


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decode(value: Any, key: str = "") -> Any:
    """Stored JSON back to Decimals (every string except names and ids is a number)."""
    if isinstance(value, dict):
        return {k: _decode(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, key) for v in value]
    if isinstance(value, str) and key not in _TEXT_KEYS:
        return Decimal(value)
    return value


def _quote_fee():
    """A trade's fee when charged in the quote currency (a base or third-asset fee is not
    counted: it has no exact quote value; see docs/ledger.md)."""
    return func.sum(Trade.fee).filter(Trade.fee_currency == func.split_part(Trade.symbol, "/", 2))


# --- the four computations -----------------------------------------------------------------


async def _trading(session: AsyncSession, user_id: str, start: datetime | None) -> dict[str, Any]:
    where = [Trade.user_id == user_id]
    if start is not None:
        where.append(Trade.executed_at >= start)
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Trade.side == "BUY"),
                func.count().filter(Trade.side == "SELL"),
                func.coalesce(func.sum(Trade.total), 0),
                func.coalesce(_quote_fee(), 0),
                func.coalesce(func.sum(Trade.profit_loss), 0),
                func.count().filter(Trade.profit_loss > 0),
                func.count().filter(Trade.profit_loss < 0),
                func.max(Trade.profit_loss),
                func.min(Trade.profit_loss),
                func.count().filter(Trade.is_paper_trade.is_(True)),
            ).where(*where)
        )
    ).one()
    trades, buys, sells, volume, fees, realized, wins, losses, best, worst, paper = row
    symbols = await session.execute(
        select(
            Trade.symbol,
            func.count(),
            func.sum(Trade.total),
            func.coalesce(func.sum(Trade.profit_loss), 0),
        )
        .where(*where)
        .group_by(Trade.symbol)
        .order_by(func.sum(Trade.total).desc(), Trade.symbol)
        .limit(10)
    )
    return {
        "trades": trades, "buys": buys, "sells": sells, "paper_trades": paper,
        "live_trades": trades - paper, "volume": _s(volume), "fees": _s(fees),
        "realized_pnl": _s(realized), "net_pnl": _s(realized - fees), "wins": wins,
        "losses": losses, "win_rate": _s(percent(Decimal(wins), Decimal(wins + losses))),
        "best_trade": _s(best), "worst_trade": _s(worst),
        "by_symbol": [
            {"symbol": s, "trades": n, "volume": _s(v), "realized_pnl": _s(p)}
            for s, n, v, p in symbols.all()
        ],
    }  # fmt: skip


async def _bot_performance(
    session: AsyncSession, user_id: str, start: datetime | None
) -> dict[str, Any]:
    traded = (
        select(
            Trade.bot_id,
            func.count().label("trades"),
            func.coalesce(func.sum(Trade.profit_loss), 0).label("realized"),
            func.coalesce(_quote_fee(), 0).label("fees"),
            func.count().filter(Trade.profit_loss > 0).label("wins"),
            func.count().filter(Trade.profit_loss < 0).label("losses"),
        )
        .where(Trade.user_id == user_id, *([Trade.executed_at >= start] if start else []))
        .group_by(Trade.bot_id)
        .subquery()
    )
    held = (
        select(
            Position.bot_id,
            func.count().label("open"),
            func.coalesce(func.sum(Position.unrealized_pnl), 0).label("unrealized"),
        )
        .where(
            Position.status == "open",
            Position.bot_id.in_(select(Bot.id).where(Bot.user_id == user_id)),
        )
        .group_by(Position.bot_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            Bot.id,
            Bot.name,
            Bot.type,
            Bot.status,
            Bot.paper_trading,
            func.coalesce(traded.c.trades, 0),
            func.coalesce(traded.c.realized, 0),
            func.coalesce(traded.c.fees, 0),
            func.coalesce(traded.c.wins, 0),
            func.coalesce(traded.c.losses, 0),
            func.coalesce(held.c.open, 0),
            func.coalesce(held.c.unrealized, 0),
        )
        .outerjoin(traded, traded.c.bot_id == Bot.id)
        .outerjoin(held, held.c.bot_id == Bot.id)
        .where(Bot.user_id == user_id, Bot.type != "manual")
    )
    bots = []
    for bid, name, kind, status, paper, n, realized, fees, wins, losses, open_, unreal in rows:
        bots.append(
            {
                "bot_id": bid,
                "name": name,
                "type": kind,
                "status": status,
                "paper_trading": paper,
                "trades": n,
                "realized_pnl": _s(realized),
                "fees": _s(fees),
                "net_pnl": _s(realized - fees),
                "wins": wins,
                "losses": losses,
                "win_rate": _s(percent(Decimal(wins), Decimal(wins + losses))),
                "open_positions": open_,
                "unrealized_pnl": _s(unreal),
            }
        )
    bots.sort(key=lambda b: (-Decimal(b["net_pnl"]), b["name"]))
    total = sum((Decimal(b["net_pnl"]) for b in bots), ZERO)
    return {
        "bots": bots,
        "bot_count": len(bots),
        "active_bots": sum(1 for b in bots if b["status"] == "active"),
        "net_pnl": _s(total),
        "unrealized_pnl": _s(sum((Decimal(b["unrealized_pnl"]) for b in bots), ZERO)),
        "best_bot": bots[0]["name"] if bots and Decimal(bots[0]["net_pnl"]) > 0 else None,
    }


async def _portfolio(
    session: AsyncSession, user_id: str, start: datetime | None, now: datetime
) -> dict[str, Any]:
    values = await wallet_values(session, user_id=user_id)
    current = sum((v.total for v in values), ZERO)
    history = PortfolioHistory
    point = select(history.timestamp, history.total_value).where(history.user_id == user_id)
    base = None
    if start is not None:
        base = (
            await session.execute(
                point.where(history.timestamp <= start).order_by(history.timestamp.desc()).limit(1)
            )
        ).first()
    in_period = [history.user_id == user_id, history.timestamp <= now]
    if start is not None:
        in_period.append(history.timestamp >= start)
    first, high, low, points = (
        await session.execute(
            select(
                func.min(history.timestamp),
                func.max(history.total_value),
                func.min(history.total_value),
                func.count(),
            ).where(*in_period)
        )
    ).one()
    if base is None and first is not None:
        base = (await session.execute(point.where(history.timestamp == first).limit(1))).first()
    change = (
        None
        if base is None
        else await portfolio_return(session, user_id, start=(base[0], base[1]), now=(now, current))
    )
    return {
        "value": _s(current),
        "cash": _s(sum((v.cash for v in values), ZERO)),
        "positions_value": _s(sum((v.positions_value for v in values), ZERO)),
        "paper_value": _s(sum((v.total for v in values if v.is_paper), ZERO)),
        "live_value": _s(sum((v.total for v in values if not v.is_paper), ZERO)),
        "unrealized_pnl": _s(sum((v.unrealized_pnl for v in values), ZERO)),
        "realized_pnl": _s(sum((v.realized_pnl for v in values), ZERO)),
        "fees": _s(sum((v.fees_paid for v in values), ZERO)),
        "start_value": None if change is None else _s(change.start_value),
        "net_flows": None if change is None else _s(change.net_flows),
        "change": None if change is None else _s(change.gain),
        "change_percent": None if change is None else _s(change.percent),
        "high": _s(max(high, current) if high is not None else current),
        "low": _s(min(low, current) if low is not None else current),
        "snapshots": points,
        "wallets": len(values),
    }


async def _defi(session: AsyncSession, user_id: str, start: datetime | None) -> dict[str, Any]:
    def opened(column):
        return func.count().filter(column >= start) if start is not None else func.count()

    mine = select(Wallet.id).where(Wallet.user_id == user_id).scalar_subquery()
    staking = (
        await session.execute(
            select(
                func.coalesce(func.sum(StakingPosition.value_usd), 0),
                func.coalesce(func.sum(StakingPosition.rewards), 0),
                func.count(),
                opened(StakingPosition.staked_at),
            ).where(StakingPosition.wallet_id.in_(mine), StakingPosition.status == "active")
        )
    ).one()
    farms = (
        await session.execute(
            select(
                func.coalesce(func.sum(FarmPosition.value_usd), 0),
                func.coalesce(func.sum(FarmPosition.rewards_earned), 0),
                func.count(),
                opened(FarmPosition.deposited_at),
            ).where(FarmPosition.wallet_id.in_(mine), FarmPosition.status == "active")
        )
    ).one()
    pools = (
        await session.execute(
            select(
                func.coalesce(func.sum(LiquidityPosition.current_value_usd), 0),
                func.coalesce(func.sum(LiquidityPosition.fees_earned), 0),
                func.coalesce(func.sum(LiquidityPosition.impermanent_loss), 0),
                func.count(),
                opened(LiquidityPosition.added_at),
            ).where(
                and_(LiquidityPosition.wallet_id.in_(mine), LiquidityPosition.status == "active")
            )
        )
    ).one()
    total = staking[0] + farms[0] + pools[0]
    return {
        "total_value": _s(total),
        "staking_value": _s(staking[0]), "staking_rewards": _s(staking[1]),
        "staking_positions": staking[2],
        "farm_value": _s(farms[0]), "farm_rewards": _s(farms[1]), "farm_positions": farms[2],
        "liquidity_value": _s(pools[0]), "liquidity_fees": _s(pools[1]),
        "impermanent_loss": _s(pools[2]), "liquidity_positions": pools[3],
        "earned": _s(staking[1] + farms[1] + pools[1]),
        "opened_in_period": staking[3] + farms[3] + pools[4],
    }  # fmt: skip


async def compute(
    session: AsyncSession, user_id: str, kind: str, period: str, now: datetime
) -> dict[str, Any]:
    """One type over one period, computed now from the ledger (nothing stored)."""
    _check(kind, period)
    span = PERIODS[period]
    start = None if span is None else now - span
    if kind == "trading":
        return await _trading(session, user_id, start)
    if kind == "bot_performance":
        return await _bot_performance(session, user_id, start)
    if kind == "portfolio":
        return await _portfolio(session, user_id, start, now)
    return await _defi(session, user_id, start)


# --- the cache -----------------------------------------------------------------------------


async def _store(
    session: AsyncSession,
    user_id: str,
    results: dict[tuple[str, str], dict[str, Any]],
    now: datetime,
) -> None:
    """Upsert one row per (user, type, period); a per-user lock keeps concurrent refreshes
    from inserting twice (the schema's index on these columns is not unique)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('analytics:' || :u))"), {"u": user_id}
    )
    rows = await session.scalars(select(Analytics).where(Analytics.user_id == user_id))
    existing = {(r.type, r.period): r for r in rows}
    for (kind, period), data in results.items():
        row = existing.get((kind, period))
        if row is None:
            session.add(
                Analytics(
                    user_id=user_id,
                    type=kind,
                    period=period,
                    data=data,
                    created_at=now,
                    updated_at=now,
                )
            )
        else:
            row.data, row.updated_at = data, now
    await session.flush()


async def refresh_user(
    session: AsyncSession,
    user_id: str,
    *,
    types: tuple[str, ...] = TYPES,
    periods: tuple[str, ...] = tuple(PERIODS),
    clock: Clock = SYSTEM_CLOCK,
) -> dict[tuple[str, str], dict[str, Any]]:
    now = clock.now()
    results = {}
    for kind in types:
        for period in periods:
            results[(kind, period)] = await compute(session, user_id, kind, period, now)
    await _store(session, user_id, results, now)
    return results


async def refresh_analytics(
    session: AsyncSession, actor: Actor, *, clock: Clock = SYSTEM_CLOCK
) -> list[AnalyticsView]:
    """Recompute every type and period for the actor now (in the caller's transaction)."""
    now = clock.now()
    results = await refresh_user(session, actor.user_id, clock=clock)
    return [AnalyticsView(k, p, _decode(d), now) for (k, p), d in results.items()]


async def get_analytics(
    session: AsyncSession,
    actor: Actor,
    kind: str,
    period: str,
    *,
    max_age: timedelta = DEFAULT_MAX_AGE,
    clock: Clock = SYSTEM_CLOCK,
) -> AnalyticsView:
    """The actor's cached figures, recomputed first if older than ``max_age``."""
    _check(kind, period)
    row = await session.scalar(
        select(Analytics).where(
            Analytics.user_id == actor.user_id, Analytics.type == kind, Analytics.period == period
        )
    )
    now = clock.now()
    if row is not None and row.updated_at >= now - max_age:
        return AnalyticsView(kind, period, _decode(row.data), row.updated_at)
    results = await refresh_user(session, actor.user_id, types=(kind,), clock=clock)
    return AnalyticsView(kind, period, _decode(results[(kind, period)]), now)


async def get_period(
    session: AsyncSession,
    actor: Actor,
    period: str,
    *,
    max_age: timedelta = DEFAULT_MAX_AGE,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, AnalyticsView]:
    """Every type over one period (the Overview's analytics), each from the cache when fresh."""
    return {
        kind: await get_analytics(session, actor, kind, period, max_age=max_age, clock=clock)
        for kind in TYPES
    }


async def refresh_stale(
    db: Database,
    *,
    max_age: timedelta = timedelta(minutes=15),
    batch: int = 50,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """For the engine's periodic loop: refresh active users whose cached figures are older than
    ``max_age`` (or missing), oldest first, each in its own transaction. Returns how many."""
    now = clock.now()
    oldest = func.min(Analytics.updated_at)
    async with db.sessions.begin() as session:
        due = list(
            await session.scalars(
                select(User.id)
                .outerjoin(Analytics, Analytics.user_id == User.id)
                .where(User.status == "active")
                .group_by(User.id)
                .having(or_(oldest.is_(None), oldest < now - max_age))
                .order_by(oldest.asc().nulls_first(), User.id)
                .limit(batch)
            )
        )
    for user_id in due:
        async with db.sessions.begin() as session:
            await refresh_user(session, user_id, clock=clock)
    return len(due)
