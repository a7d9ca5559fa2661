"""Profit by day: what the user's trades realised each calendar day in their time zone.

A day is midnight to midnight in the user's profile time zone (UTC when none is set), the day
the trader lives in. Days without trades are listed with zeros, newest first, the way a trader
reads a daily report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.trading import Trade
from core.db.models.users import User
from core.errors import InvalidInput
from core.services.actor import Actor

MAX_DAYS = 366
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class DayProfit:
    day: date
    realized_pnl: Decimal
    """Sum of the trades' ``profit_loss`` (sales that closed part of a position)."""
    fees: Decimal
    volume: Decimal
    """Sum of the trades' ``total`` (quote value traded)."""
    trades: int


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def daily_profit(
    db: Database, actor: Actor, *, days: int = 30, clock: Clock = SYSTEM_CLOCK
) -> list[DayProfit]:
    """The last ``days`` days (today included), newest first."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"Days must be between 1 and {MAX_DAYS}.", field="days")
    async with db.session() as session:
        zone = _zone(await session.scalar(select(User.timezone).where(User.id == actor.user_id)))
        today = clock.now().astimezone(zone).date()
        first = today - timedelta(days=days - 1)
        start = datetime.combine(first, time(), zone)
        local_day = func.date(func.timezone(zone.key, Trade.executed_at))
        rows = (
            await session.execute(
                select(
                    local_day,
                    func.coalesce(func.sum(Trade.profit_loss), ZERO),
                    func.coalesce(func.sum(Trade.fee), ZERO),
                    func.coalesce(func.sum(Trade.total), ZERO),
                    func.count(),
                )
                .where(Trade.user_id == actor.user_id, Trade.executed_at >= start)
                .group_by(local_day)
            )
        ).all()
    found = {
        day: DayProfit(day, pnl, fees, volume, count) for day, pnl, fees, volume, count in rows
    }
    return [
        found.get(day, DayProfit(day, ZERO, ZERO, ZERO, 0))
        for day in (today - timedelta(days=n) for n in range(days))
    ]
