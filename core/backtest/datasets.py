"""Historical datasets: candles kept in ``historical_datasets`` so a backtest can reuse them.

Rows are shared (the table has no owner): market history is the same for everyone. Candles are
stored as JSON rows ``[open time in epoch ms, "open", "high", "low", "close", "volume"]`` with
exact decimal strings. Importing the same symbol, timeframe and date range again replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.bots import HistoricalDataset
from core.errors import InvalidInput, NotFound
from core.strategies.candles import Candles, ms_to_datetime, timeframe_seconds
from core.strategies.config import normalize_symbol


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    id: str
    symbol: str
    timeframe: str
    start_date: datetime
    end_date: datetime
    candle_count: int
    replaced: bool = False


def _info(row: HistoricalDataset, replaced: bool = False) -> DatasetInfo:
    return DatasetInfo(
        row.id, row.symbol, row.timeframe, row.start_date, row.end_date, row.candle_count, replaced
    )


def check_symbol(symbol: str) -> str:
    try:
        return normalize_symbol(symbol.strip())
    except ValueError as exc:
        raise InvalidInput(f"{exc}.", field="symbol") from None


async def save_dataset(
    session: AsyncSession, symbol: str, timeframe: str, candles: Candles
) -> DatasetInfo:
    symbol = check_symbol(symbol)
    timeframe_seconds(timeframe)
    if len(candles) == 0:
        raise InvalidInput("There are no candles to store.", field="candles")
    start, end = ms_to_datetime(candles.ts[0]), ms_to_datetime(candles.ts[-1])
    row = await session.scalar(
        select(HistoricalDataset).where(
            HistoricalDataset.symbol == symbol,
            HistoricalDataset.timeframe == timeframe,
            HistoricalDataset.start_date == start,
            HistoricalDataset.end_date == end,
        )
    )
    replaced = row is not None
    if row is None:
        row = HistoricalDataset(symbol=symbol, timeframe=timeframe, start_date=start, end_date=end)
        session.add(row)
    row.candles = candles.rows()
    row.candle_count = len(candles)
    await session.flush()
    return _info(row, replaced)


async def load_dataset(session: AsyncSession, dataset_id: str) -> tuple[DatasetInfo, Candles]:
    row = await session.get(HistoricalDataset, dataset_id)
    if row is None:
        raise NotFound(f"No historical dataset {dataset_id!r}.")
    return _info(row), Candles.from_rows(row.candles)


async def list_datasets(session: AsyncSession, symbol: str | None = None) -> list[DatasetInfo]:
    stmt = select(
        HistoricalDataset.id,
        HistoricalDataset.symbol,
        HistoricalDataset.timeframe,
        HistoricalDataset.start_date,
        HistoricalDataset.end_date,
        HistoricalDataset.candle_count,
    ).order_by(HistoricalDataset.symbol, HistoricalDataset.timeframe, HistoricalDataset.start_date)
    if symbol:
        stmt = stmt.where(HistoricalDataset.symbol == check_symbol(symbol))
    return [DatasetInfo(*row) for row in (await session.execute(stmt)).all()]
