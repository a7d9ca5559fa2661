"""Trade history (the TUI's filters, keyset pages), its CSV, and profit by day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from core.api.auth import Context, Reader
from core.api.routers.positions import Cursor
from core.services import trade_history
from core.services.daily_profit import MAX_DAYS, DayProfit, daily_profit
from core.services.trade_history import HistoryRow, TradeFilter, TradeTotals
from core.services.trading_views import Page

router = APIRouter(tags=["trades"])


def trade_filter(
    symbol: Annotated[str | None, Query(max_length=40)] = None,
    bot_id: Annotated[str | None, Query(max_length=64)] = None,
    side: Literal["buy", "sell", "BUY", "SELL"] | None = None,
    paper: bool | None = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[datetime | None, Query(description="With a time zone; inclusive.")] = None,
    until: Annotated[datetime | None, Query(description="With a time zone; exclusive.")] = None,
) -> TradeFilter:
    return TradeFilter(symbol, bot_id, side, paper, status, since, until)


Filter = Annotated[TradeFilter, Depends(trade_filter)]


@router.get("/trades", summary="Your trades, filtered and sorted (keyset pages)")
async def trades(
    caller: Reader,
    ctx: Context,
    f: Filter,
    sort: Literal["time", "symbol", "total", "pnl"] = "time",
    descending: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Cursor = None,
) -> Page[HistoryRow]:
    return await trade_history.search(
        ctx.db, caller.actor, f, sort=sort, descending=descending, limit=limit, after=after
    )


@router.get("/trades/totals", summary="Count, volume, fees and realised P&L of the filtered set")
async def totals(caller: Reader, ctx: Context, f: Filter) -> TradeTotals:
    return await trade_history.totals(ctx.db, caller.actor, f)


@router.get(
    "/trades.csv",
    summary="The filtered trades as CSV (exact decimals, newest first)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
async def trades_csv(caller: Reader, ctx: Context, f: Filter) -> StreamingResponse:
    chunks: AsyncIterator[str] = await trade_history.csv_text(ctx.db, caller.actor, f)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="trades.csv"'},
    )


@router.get("/profit/daily", summary="Realised P&L per day in your time zone, newest first")
async def daily(
    caller: Reader, ctx: Context, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30
) -> list[DayProfit]:
    return await daily_profit(ctx.db, caller.actor, days=days, clock=ctx.clock)
