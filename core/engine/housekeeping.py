"""Periodic jobs of the engine: hourly wallet snapshots, performance snapshots, daily and weekly
reports, the retention of HOLD executions, and tidying up. Every job runs in transactions that
first take a transaction-level advisory lock, so with many engine processes one does each run
(the others skip it), and each job is idempotent (a repeated run changes nothing)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import ARRAY, Date, Integer, String, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db.engine import Database
from core.db.models.bots import Bot, BotBalanceSnapshot, BotWallet, PerformanceSnapshot
from core.db.models.engine import ExecutionDaily
from core.db.models.notifications import Notification, NotificationType
from core.db.models.signals import Signal
from core.db.models.trading import Position, Trade
from core.engine import performance, registry
from core.engine.ids import fast_id
from core.figures import amount
from core.ledger.snapshots import snapshot_portfolios, snapshot_wallets, wallet_values
from core.ledger.wallets import LIVE, MANUAL_BOT_TYPE, SIMULATION
from core.notifications import notify

log = logging.getLogger(__name__)

_LOCKS = {
    "wallet_snapshots": 7_301,
    "performance": 7_302,
    "reports": 7_303,
    "retention": 7_304,
    "tidy": 7_305,
    "marks": 7_306,
}


async def try_lock(session: AsyncSession, job: str) -> bool:
    return bool(
        await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCKS[job]})
    )


# -- wallet and performance snapshots -------------------------------------------------------------


async def wallet_snapshots(session: AsyncSession, now: datetime) -> int:
    """This hour's ``bot_balance_snapshots`` row of every strategy bot's wallet, and a
    ``portfolio_history`` row of every user with a wallet (the dashboard's portfolio chart)."""
    if not await try_lock(session, "wallet_snapshots"):
        return 0
    ids = (
        await session.scalars(
            select(BotWallet.id)
            .join(Bot, Bot.id == BotWallet.bot_id)
            .where(Bot.type != MANUAL_BOT_TYPE)
        )
    ).all()
    await snapshot_portfolios(session, now=now)
    return await snapshot_wallets(session, now=now, wallet_ids=ids) if ids else 0


async def performance_snapshots(
    session: AsyncSession, now: datetime, *, every: timedelta, limit: int = 200
) -> int:
    """A ``performance_snapshots`` row for each started bot whose last one is older than
    ``every`` (at most ``limit`` per run)."""
    if not await try_lock(session, "performance"):
        return 0
    latest = (
        select(PerformanceSnapshot.bot_id, func.max(PerformanceSnapshot.timestamp).label("at"))
        .group_by(PerformanceSnapshot.bot_id)
        .subquery()
    )
    bots = (
        await session.execute(
            select(Bot.id, Bot.paper_trading)
            .outerjoin(latest, latest.c.bot_id == Bot.id)
            .where(
                Bot.type != MANUAL_BOT_TYPE,
                Bot.started_at.is_not(None),
                (latest.c.at.is_(None)) | (latest.c.at <= now - every),
            )
            .order_by(latest.c.at.nulls_first(), Bot.id)
            .limit(limit)
        )
    ).all()
    written = 0
    for bot_id, paper in bots:
        wallet = await session.scalar(
            select(BotWallet).where(
                BotWallet.bot_id == bot_id, BotWallet.wallet_type == (SIMULATION if paper else LIVE)
            )
        )
        if wallet is None:
            continue
        session.add(await _performance_row(session, bot_id, wallet, now))
        written += 1
    await session.flush()
    return written


async def _performance_row(
    session: AsyncSession, bot_id: str, wallet: BotWallet, now: datetime
) -> PerformanceSnapshot:
    [value] = await wallet_values(session, wallet_ids=[wallet.id])
    history = (
        await session.scalars(
            select(BotBalanceSnapshot.total_value)
            .where(BotBalanceSnapshot.wallet_id == wallet.id, BotBalanceSnapshot.timestamp < now)
            .order_by(BotBalanceSnapshot.timestamp)
        )
    ).all()
    start = (
        wallet.initial_balance
        if wallet.initial_balance > 0
        else (history[0] if history else value.total)
    )
    curve = [start, *history, value.total]
    pnls = (
        await session.scalars(
            select(Position.profit_loss).where(
                Position.wallet_id == wallet.id,
                Position.status == "closed",
                Position.profit_loss.is_not(None),
            )
        )
    ).all()
    perf = performance.compute(start, curve, [p for p in pnls if p is not None])
    return PerformanceSnapshot(
        id=fast_id(),
        bot_id=bot_id,
        timestamp=now,
        metrics={
            "start_value": str(start),
            "equity": str(value.total),
            "cash": str(value.cash),
            "positions_value": str(value.positions_value),
            "realized_pnl": str(value.realized_pnl),
            "unrealized_pnl": str(value.unrealized_pnl),
            "fees_paid": str(value.fees_paid),
            "sharpe": None if perf.sharpe is None else str(perf.sharpe),
            "profit_factor": None if perf.profit_factor is None else str(perf.profit_factor),
            "volatility_percent": None
            if perf.volatility_percent is None
            else str(perf.volatility_percent),
            "gross_profit": str(perf.gross_profit),
            "gross_loss": str(perf.gross_loss),
            "equity_points": len(curve),
        },
        risk_score=perf.risk_score,
        rating=perf.rating,
        total_trades=perf.total_trades,
        win_rate=perf.win_rate,
        total_return=perf.total_return,
        total_return_percent=perf.total_return_percent,
        max_drawdown_percent=perf.max_drawdown_percent,
        sharpe_ratio=perf.sharpe or Decimal(0),
        profit_factor=perf.profit_factor or Decimal(0),
    )


# -- daily and weekly reports -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    kind: NotificationType
    key: str  # "2026-01-05" or "2026-W02"
    start: datetime
    end: datetime
    label: str


def due_periods(now: datetime) -> list[Period]:
    """The day before ``now`` and (from Monday on) the ISO week before."""
    today = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    yesterday = today - timedelta(days=1)
    periods = [
        Period(
            NotificationType.DAILY_REPORT,
            yesterday.date().isoformat(),
            yesterday,
            today,
            f"{yesterday:%A %d %B %Y}",
        )
    ]
    week_start = today - timedelta(days=today.weekday() + 7)
    iso = week_start.isocalendar()
    periods.append(
        Period(
            NotificationType.WEEKLY_REPORT,
            f"{iso.year}-W{iso.week:02d}",
            week_start,
            week_start + timedelta(days=7),
            f"the week of {week_start:%d %B %Y}",
        )
    )
    return periods


async def reports(session: AsyncSession, now: datetime, clock: Clock) -> int:
    """DAILY_REPORT (yesterday) and WEEKLY_REPORT (the last ISO week) to every owner of a bot
    started before the period ended, once per period."""
    if not await try_lock(session, "reports"):
        return 0
    sent = 0
    for period in due_periods(now):
        owners = (
            await session.scalars(
                select(Bot.user_id)
                .where(Bot.type != MANUAL_BOT_TYPE, Bot.started_at < period.end)
                .distinct()
            )
        ).all()
        done = set(
            (
                await session.scalars(
                    select(Notification.user_id).where(
                        Notification.type == period.kind,
                        Notification.metadata_["period"].astext == period.key,
                    )
                )
            ).all()
        )
        for user_id in owners:
            if user_id in done:
                continue
            await _report(session, user_id, period, clock)
            sent += 1
    return sent


def readable(value: Decimal, currency: str) -> str:
    """An amount for reading: signed, to the cent, with its currency (``+130.42 USDT``); the
    exact figure stays in the metadata."""
    return amount(value, currency, sign=True)


def _per_currency(totals: dict[str, Decimal]) -> str:
    return " and ".join(readable(v, c) for c, v in sorted(totals.items())) or readable(
        Decimal(0), "USDT"
    )


async def _report(session: AsyncSession, user_id: str, period: Period, clock: Clock) -> None:
    quote = func.split_part(Trade.symbol, "/", 2)
    rows = (
        await session.execute(
            select(
                Bot.name,
                quote,
                func.count(Trade.id),
                func.coalesce(func.sum(Trade.profit_loss), 0),
            )
            .join(Trade, Trade.bot_id == Bot.id)
            .where(
                Bot.user_id == user_id,
                Trade.executed_at >= period.start,
                Trade.executed_at < period.end,
            )
            .group_by(Bot.name, quote)
            .order_by(Bot.name, quote)
        )
    ).all()
    trades = sum(r[2] for r in rows)
    realized: dict[str, Decimal] = {}
    for _name, currency, _count, pnl in rows:
        realized[currency] = realized.get(currency, Decimal(0)) + Decimal(pnl)
    lines = [
        f"{name}: {count} trade(s), realised P&L {readable(Decimal(pnl), currency)}"
        for name, currency, count, pnl in rows
    ]
    word = "Daily" if period.kind is NotificationType.DAILY_REPORT else "Weekly"
    total = _per_currency(realized)
    message = (
        f"{word} report for {period.label}: {trades} trade(s), realised P&L before fees "
        f"{total}." + (" " + "; ".join(lines) + "." if lines else " Your bots made no trades.")
    )
    exact = sum(realized.values(), Decimal(0))
    await notify(
        session,
        user_id=user_id,
        type=period.kind,
        title=f"{word} report: {trades} trade(s), P&L {total}"[:200],
        message=message,
        metadata={"period": period.key, "trades": trades, "realized_pnl": str(exact)},
        clock=clock,
    )


# -- retention ------------------------------------------------------------------------------------


_PRUNE = text(
    """
    WITH gone AS (
        DELETE FROM executions WHERE id IN (
            SELECT id FROM executions
            WHERE timestamp < :cutoff AND signal = 'HOLD'
              AND execution_id NOT IN (
                  SELECT execution_id FROM signal_executions WHERE execution_id IS NOT NULL)
            LIMIT :batch
        )
        RETURNING bot_id, timestamp, status
    )
    SELECT bot_id, (timestamp AT TIME ZONE 'UTC')::date AS day, count(*) AS holds,
           count(*) FILTER (WHERE status = 'error') AS errors, min(timestamp), max(timestamp)
    FROM gone GROUP BY 1, 2
    """
)

_FOLD = text(
    """
    INSERT INTO execution_daily (id, bot_id, day, holds, errors, first_at, last_at)
    SELECT * FROM unnest(:ids, :bot_ids, :days, :holds, :errors, :firsts, :lasts)
    ON CONFLICT (bot_id, day) DO UPDATE SET
        holds = execution_daily.holds + excluded.holds,
        errors = execution_daily.errors + excluded.errors,
        first_at = least(execution_daily.first_at, excluded.first_at),
        last_at = greatest(execution_daily.last_at, excluded.last_at)
    """
).bindparams(
    bindparam("ids", type_=ARRAY(String)),
    bindparam("bot_ids", type_=ARRAY(String)),
    bindparam("days", type_=ARRAY(Date)),
    bindparam("holds", type_=ARRAY(Integer)),
    bindparam("errors", type_=ARRAY(Integer)),
    bindparam("firsts", type_=ARRAY(ExecutionDaily.__table__.c.first_at.type)),
    bindparam("lasts", type_=ARRAY(ExecutionDaily.__table__.c.last_at.type)),
)


async def prune_batch(session: AsyncSession, cutoff: datetime, batch: int) -> int:
    """Fold up to ``batch`` HOLD executions older than ``cutoff`` into ``execution_daily`` and
    delete them. BUY/SELL executions, and HOLDs a signal execution points at, are kept."""
    groups = (await session.execute(_PRUNE, {"cutoff": cutoff, "batch": batch})).all()
    if not groups:
        return 0
    await session.execute(
        _FOLD,
        {
            "ids": [fast_id() for _ in groups],
            "bot_ids": [g[0] for g in groups],
            "days": [g[1] for g in groups],
            "holds": [g[2] for g in groups],
            "errors": [g[3] for g in groups],
            "firsts": [g[4] for g in groups],
            "lasts": [g[5] for g in groups],
        },
    )
    return sum(g[2] for g in groups)


async def retention(
    db: Database, now: datetime, *, keep: timedelta, batch: int, max_batches: int = 50
) -> int:
    """Apply the HOLD retention in batches (each its own short transaction)."""
    total = 0
    for _ in range(max_batches):
        async with db.sessions.begin() as session:
            if not await try_lock(session, "retention"):
                return total
            done = await prune_batch(session, now - keep, batch)
        total += done
        if done < batch:
            break
    return total


# -- tidying ----------------------------------------------------------------------------------


async def tidy(session: AsyncSession, now: datetime) -> None:
    """Signals nobody can act on any more are marked processed; dead engine rows go."""
    if not await try_lock(session, "tidy"):
        return
    await session.execute(
        update(Signal)
        .where(Signal.processed.is_(False), Signal.created_at < now - timedelta(days=1))
        .values(processed=True)
    )
    await registry.prune(session, now=now)
