"""Time series for charts, bucketed in PostgreSQL so a chart is one small query whatever the
span: the user's portfolio value (``portfolio_history``) and a bot's equity (its wallet's
hourly ``bot_balance_snapshots``). Each bucket shows its last value."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text

from core.db.engine import Database
from core.db.models.bots import Bot, BotWallet
from core.errors import InvalidInput, NotFound
from core.ledger.wallets import LIVE, SIMULATION
from core.services.actor import Actor
from core.services.trading_views import PortfolioPoint

MAX_POINTS = 1000


def _span(since: datetime, until: datetime, points: int) -> timedelta:
    if not 2 <= points <= MAX_POINTS:
        raise InvalidInput(f"A chart has 2 to {MAX_POINTS} points.", field="points")
    if until <= since:
        raise InvalidInput("The chart must end after it starts.", field="until")
    return max((until - since) / points, timedelta(seconds=1))


async def portfolio_chart(
    db: Database, actor: Actor, *, since: datetime, until: datetime, points: int = 120
) -> list[PortfolioPoint]:
    """``portfolio_history`` between ``since`` and ``until`` in at most ``points`` buckets,
    oldest first: a 30-day chart of minute snapshots is still one query returning ``points``
    rows."""
    width = _span(since, until, points)
    stmt = text(
        "SELECT max(timestamp) AS at, (array_agg(total_value ORDER BY timestamp DESC))[1]"
        " FROM portfolio_history"
        " WHERE user_id = :owner AND timestamp >= :since AND timestamp <= :until"
        " GROUP BY date_bin(:width, timestamp, :since) ORDER BY 1"
    )
    params = {"owner": actor.user_id, "since": since, "until": until, "width": width}
    async with db.session() as session:
        rows = (await session.execute(stmt, params)).all()
    return [PortfolioPoint(at, value) for at, value in rows]


async def bot_equity(
    db: Database,
    actor: Actor,
    bot_id: str,
    *,
    since: datetime,
    until: datetime,
    points: int = 120,
) -> list[PortfolioPoint]:
    """The bot's wallet value (the paper one for a paper bot, else the live one) over time."""
    width = _span(since, until, points)
    async with db.session() as session:
        found = (
            await session.execute(
                select(Bot.paper_trading).where(Bot.id == bot_id, Bot.user_id == actor.user_id)
            )
        ).first()
        if found is None:
            raise NotFound(f"No bot {bot_id!r}.")
        wallet_id = await session.scalar(
            select(BotWallet.id).where(
                BotWallet.bot_id == bot_id,
                BotWallet.wallet_type == (SIMULATION if found[0] else LIVE),
            )
        )
        if wallet_id is None:
            return []
        rows = (
            await session.execute(
                text(
                    "SELECT max(timestamp), (array_agg(total_value ORDER BY timestamp DESC))[1]"
                    " FROM bot_balance_snapshots"
                    " WHERE wallet_id = :wallet AND timestamp >= :since AND timestamp <= :until"
                    " GROUP BY date_bin(:width, timestamp, :since) ORDER BY 1"
                ),
                {"wallet": wallet_id, "since": since, "until": until, "width": width},
            )
        ).all()
    return [PortfolioPoint(at, value) for at, value in rows]
