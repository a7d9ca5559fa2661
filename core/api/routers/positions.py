"""Positions of the user's bots (manual ones included): list, and close by hand (force exit)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from core.api.auth import Context, Reader, Trader
from core.services import trading
from core.services.trading_views import OrderView, Page, PositionView

router = APIRouter(prefix="/positions", tags=["positions"])
Cursor = Annotated[str | None, Query(max_length=200, description="A page's next_cursor.")]


@router.get("", summary="Positions, newest first (keyset pages)")
async def list_positions(
    caller: Reader,
    ctx: Context,
    status: Literal["open", "closed"] | None = "open",
    bot_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Cursor = None,
) -> Page[PositionView]:
    return await trading.list_positions(
        ctx.db, caller.actor, status=status, bot_id=bot_id, limit=limit, after=after
    )


@router.post("/{position_id}/close", summary="Sell what an open position holds at market")
async def close_position(
    caller: Trader, ctx: Context, position_id: Annotated[str, Path(max_length=64)]
) -> OrderView:
    return await trading.close_position(ctx.db, caller.actor, position_id, ctx=ctx.trading)
