"""Exchange candles kept in ``historical_datasets``, shared by every engine and kept over restarts.

The engine fetches an exchange's candles with ``fetch_ohlcv`` for its strategies. Each window
(exchange, symbol, timeframe) is one row of ``historical_datasets`` with ``exchange`` set: the
last closed candles, as exact decimal strings like an imported dataset. An engine reads the row
before asking the exchange, and asks only for the candles that closed after it; what it fetched
is written back. So a second engine, or the same one after a restart, does not fetch again what
one of them already has.

Datasets are shared market history: only administrators and the operator (``SYSTEM``) import
them. These rows are written by the engine, acting as ``SYSTEM``, with candles it got from the
exchange itself; no user's input reaches them. Imported datasets (``exchange`` NULL) are never
touched here.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.bots import HistoricalDataset
from core.ids import new_id
from core.strategies.candles import Candles, ms_to_datetime

log = logging.getLogger(__name__)


async def load_window(
    session: AsyncSession, exchange: str, symbol: str, timeframe: str
) -> Candles | None:
    """The stored window of ``exchange``'s candles, or None."""
    rows = await session.scalar(
        select(HistoricalDataset.candles).where(
            HistoricalDataset.exchange == exchange,
            HistoricalDataset.symbol == symbol,
            HistoricalDataset.timeframe == timeframe,
        )
    )
    if not rows:
        return None
    return Candles.from_rows(rows)


async def save_window(
    session: AsyncSession, exchange: str, symbol: str, timeframe: str, candles: Candles
) -> None:
    """Store (or replace) the window; a newer one another engine stored is kept."""
    if len(candles) == 0:
        return
    start, end = ms_to_datetime(int(candles.ts[0])), ms_to_datetime(int(candles.ts[-1]))
    stmt = insert(HistoricalDataset).values(
        id=new_id(),
        exchange=exchange,
        symbol=symbol,
        timeframe=timeframe,
        start_date=start,
        end_date=end,
        candle_count=len(candles),
        candles=candles.rows(),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["exchange", "symbol", "timeframe"],
            index_where=HistoricalDataset.exchange.isnot(None),
            set_={
                "start_date": stmt.excluded.start_date,
                "end_date": stmt.excluded.end_date,
                "candle_count": stmt.excluded.candle_count,
                "candles": stmt.excluded.candles,
                "updated_at": stmt.excluded.updated_at,
            },
            where=HistoricalDataset.end_date <= stmt.excluded.end_date,
        )
    )
