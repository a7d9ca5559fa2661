"""Manual orders: list, estimate (places nothing), place, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from core.api.auth import Context, Reader, Trader
from core.api.fields import Amount
from core.api.routers.positions import Cursor
from core.services import trading
from core.services.trading_views import OrderEstimate, OrderView, Page

router = APIRouter(prefix="/orders", tags=["orders"])


class OrderRequest(BaseModel):
    """Paper when ``connection_id`` is left out, else on that exchange connection of yours."""

    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(max_length=40, examples=["BTC/USDT"])
    side: str = Field(max_length=10, examples=["buy"])
    quantity: Amount
    type: str = Field(default="market", max_length=20)
    price: Amount | None = None
    stop_price: Amount | None = None
    connection_id: str | None = Field(default=None, max_length=64)


@router.get("", summary="Your orders, newest first (keyset pages)")
async def list_orders(
    caller: Reader,
    ctx: Context,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Cursor = None,
) -> Page[OrderView]:
    return await trading.list_orders(ctx.db, caller.actor, status=status, limit=limit, after=after)


@router.post("/estimate", summary="Cost, fee and balance check for an order; places nothing")
async def estimate_order(caller: Trader, ctx: Context, body: OrderRequest) -> OrderEstimate:
    return await trading.estimate_order(ctx.db, caller.actor, **body.model_dump(), ctx=ctx.trading)


@router.post("", status_code=201, summary="Place an order")
async def place_order(caller: Trader, ctx: Context, body: OrderRequest) -> OrderView:
    return await trading.place_order(ctx.db, caller.actor, **body.model_dump(), ctx=ctx.trading)


@router.post("/{order_id}/cancel", summary="Cancel an open order")
async def cancel_order(
    caller: Trader, ctx: Context, order_id: Annotated[str, Path(max_length=64)]
) -> OrderView:
    return await trading.cancel_order(ctx.db, caller.actor, order_id, ctx=ctx.trading)
