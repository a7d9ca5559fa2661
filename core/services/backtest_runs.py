"""Backtests over part of a dataset, and what a report shows beyond the stored result.

``run_range`` runs ``backtests.run_backtest`` on the candles of a stored dataset that open in
``[start, end)`` (either bound optional), so the dashboard can test a month of a year-long
dataset without importing it again. ``equity_curve`` is the closed-trade equity of a result:
the starting cash plus the P&L of every trade closed so far, one point per exit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from core.backtest.datasets import load_dataset
from core.errors import InvalidInput
from core.market.ohlc import TradeMark
from core.market.types import Candle
from core.services.actor import Actor
from core.services.backtests import BacktestRequest, BacktestRun, run_backtest
from core.strategies.candles import datetime_to_ms, ms_to_datetime
from core.strategies.catalog import StrategyInfo, list_strategies


def strategies() -> list[StrategyInfo]:
    """The strategies a bare backtest can run (built-in and installed), with their parameters."""
    return list_strategies()


async def run_range(
    session: AsyncSession,
    actor: Actor,
    request: BacktestRequest,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    progress=None,
) -> BacktestRun:
    """``request`` (with a ``dataset_id``) over the dataset's candles in ``[start, end)``."""
    if request.dataset_id is None:
        raise InvalidInput("Choose a dataset.", field="dataset")
    if start is None and end is None:
        return await run_backtest(session, actor, request, progress=progress)
    for name, moment in (("start", start), ("end", end)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(f"The {name} needs a time zone.", field=name)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("The range ends before it starts.", field="end")
    info, candles = await load_dataset(session, request.dataset_id)
    lo = 0 if start is None else int(np.searchsorted(candles.ts, datetime_to_ms(start), "left"))
    hi = (
        len(candles)
        if end is None
        else int(np.searchsorted(candles.ts, datetime_to_ms(end), "left"))
    )
    if hi - lo < 2:
        raise InvalidInput(
            f"Dataset {info.symbol} {info.timeframe} has no candles in that range "
            f"(it covers {info.start_date:%Y-%m-%d} to {info.end_date:%Y-%m-%d}).",
            field="start",
        )
    span = f"{start:%Y-%m-%d}" if start else "start"
    span += f"→{end:%Y-%m-%d}" if end else "→end"
    ranged = replace(
        request,
        dataset_id=None,
        timeframe=info.timeframe,
        source=f"dataset {info.id} ({info.symbol} {info.timeframe}) {span}",
    )
    return await run_backtest(session, actor, ranged, candles=candles[lo:hi], progress=progress)


def equity_curve(result: dict[str, Any]) -> list[tuple[datetime, Decimal]]:
    """(exit time, equity) after each closed trade of a stored result, from its start."""
    cash = Decimal(result.get("initial_cash") or 0)
    points: list[tuple[datetime, Decimal]] = []
    if result.get("start"):
        points.append((_parse(result["start"]), cash))
    for trade in result.get("trade_list") or []:
        if trade.get("exit_time") is None or trade.get("pnl") is None:
            continue
        cash += Decimal(trade["pnl"])
        points.append((_parse(trade["exit_time"]), cash))
    return points


def chart(result: dict[str, Any]) -> tuple[list[Candle], list[TradeMark]]:
    """A stored result's folded candles and its trades' entries and exits (a report stored
    before reports carried a chart has none)."""
    candles = [
        Candle(ms_to_datetime(ts), Decimal(o), Decimal(h), Decimal(lo), Decimal(c), Decimal(0))
        for ts, o, h, lo, c in result.get("chart") or []
    ]
    marks = []
    for trade in result.get("trade_list") or []:
        marks.append(TradeMark(_parse(trade["entry_time"]), "buy", Decimal(trade["entry_price"])))
        if trade.get("exit_time") and trade.get("exit_price"):
            marks.append(
                TradeMark(_parse(trade["exit_time"]), "sell", Decimal(trade["exit_price"]))
            )
    return candles, marks


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
