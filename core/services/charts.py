"""Time series for charts, bucketed in PostgreSQL so a chart is one small query whatever the
span: the user's portfolio value (``portfolio_history``) and a bot's equity (its wallet's
hourly ``bot_balance_snapshots``). Each bucket shows its last value. And a bot's candles with
its own trades marked, from the market it trades on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, text

from core.db.engine import Database
from core.db.models.bots import Bot, BotWallet
from core.db.models.trading import Trade
from core.errors import InvalidInput, NotFound
from core.ledger.wallets import LIVE, SIMULATION
from core.market.feed import MAX_CANDLES
from core.market.ohlc import TradeMark
from core.market.types import Candle, Timeframe
from core.services.actor import Actor
from core.services.trading_views import PortfolioPoint

if TYPE_CHECKING:
    from core.engine.venues import Markets

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


@dataclass(frozen=True, slots=True)
class BotChart:
    """The candles of a bot's market (oldest first) and its trades within their span."""

    symbol: str
    timeframe: str
    candles: list[Candle]
    marks: list[TradeMark]


async def bot_chart(
    db: Database, actor: Actor, bot_id: str, markets: Markets, *, candles: int = 120
) -> BotChart:
    """The last ``candles`` candles of the bot's symbol on the market it trades on (its
    timeframe, 1h when it has none), with the bot's fills marked: buys as entries, sells as
    exits."""
    from core.engine.venues import open_venue  # the engine's venue choice, loaded on first use

    if not 2 <= candles <= MAX_CANDLES:
        raise InvalidInput(f"A chart has 2 to {MAX_CANDLES} candles.", field="candles")
    async with db.session() as session:
        bot = (
            await session.execute(
                select(Bot.config, Bot.paper_trading).where(
                    Bot.id == bot_id, Bot.user_id == actor.user_id
                )
            )
        ).first()
        if bot is None:
            raise NotFound(f"No bot {bot_id!r}.")
        config, paper = bot
        symbol = config.get("symbol")
        if not isinstance(symbol, str):
            raise InvalidInput("This bot trades no single symbol to chart.", field="symbol")
        timeframe = Timeframe.parse(str(config.get("timeframe") or "1h"))
        venue = await open_venue(
            session, markets, bot_id=bot_id, owner_id=actor.user_id, paper=paper
        )
        try:
            bars = await venue.hub.feed.ohlcv(symbol, timeframe, limit=candles)
        finally:
            await venue.close()
        marks: list[TradeMark] = []
        if bars:
            rows = await session.execute(
                select(Trade.executed_at, Trade.side, Trade.executed_price)
                .where(
                    Trade.bot_id == bot_id,
                    Trade.user_id == actor.user_id,
                    Trade.symbol == symbol,
                    Trade.executed_at >= bars[0].timestamp,
                )
                .order_by(Trade.executed_at)
            )
            marks = [
                TradeMark(at, "buy" if side.upper() == "BUY" else "sell", price)
                for at, side, price in rows
            ]
    return BotChart(symbol, timeframe.value, bars, marks)
