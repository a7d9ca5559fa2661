"""Bots: list, detail, create from a JSON config, edit, the lifecycle, performance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field

from core.api.auth import BotsCaller, Context, Reader
from core.api.fields import Amount
from core.ledger.wallets import DEFAULT_PAPER_BALANCE, DEFAULT_QUOTE
from core.services import bots
from core.services.backtests import parse_decimal
from core.services.bot_views import (
    BotDetail,
    BotSpec,
    BotSummary,
    BotUpdate,
    BotView,
    PerformanceView,
    StopResult,
)

router = APIRouter(prefix="/bots", tags=["bots"])
BotId = Annotated[str, Field(max_length=64)]


class BotCreate(BaseModel):
    """A new bot; ``config`` and ``risk_settings`` are checked by the bot type's rules."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    type: str = Field(max_length=40)
    config: dict[str, Any] = Field(default_factory=dict)
    risk_settings: dict[str, Any] = Field(default_factory=dict)
    description: str | None = Field(default=None, max_length=2000)
    paper_trading: bool = True
    initial_balance: Amount = str(DEFAULT_PAPER_BALANCE)
    exchange_connection_id: str | None = Field(default=None, max_length=64)
    quote: str = Field(default=DEFAULT_QUOTE, max_length=20)


class BotEdit(BaseModel):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    config: dict[str, Any] | None = None
    risk_settings: dict[str, Any] | None = None


class Performance(BaseModel):
    bot_id: str
    performance: PerformanceView | None
    """The latest snapshot the engine took (None before its first)."""


@router.get("", summary="Your bots with P&L and win rate")
async def list_bots(
    caller: Reader,
    ctx: Context,
    type: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    symbol: Annotated[str | None, Query(max_length=40)] = None,
    search: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[str, Query(max_length=20)] = "created",
    descending: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[BotSummary]:
    async with ctx.transaction() as s:
        return await bots.list_bots(
            s, caller.actor, type=type, status=status, symbol=symbol, search=search,
            sort=sort, descending=descending, limit=limit, offset=offset,
        )  # fmt: skip


@router.post("", status_code=201, summary="Create a bot (inactive) from a JSON config")
async def create_bot(caller: BotsCaller, ctx: Context, body: BotCreate) -> BotView:
    spec = BotSpec(
        **body.model_dump(exclude={"initial_balance"}),
        initial_balance=parse_decimal(body.initial_balance, "initial_balance"),
    )
    async with ctx.transaction() as s:
        return await bots.create_bot(s, caller.actor, spec, clock=ctx.clock)


@router.get("/{bot_id}", summary="A bot with wallets, open positions and recent executions")
async def get_bot(caller: Reader, ctx: Context, bot_id: BotId) -> BotDetail:
    async with ctx.transaction() as s:
        return await bots.get_bot(s, caller.actor, bot_id)


@router.patch("/{bot_id}", summary="Change a bot's name, description, config or risk settings")
async def update_bot(caller: BotsCaller, ctx: Context, bot_id: BotId, body: BotEdit) -> BotView:
    async with ctx.transaction() as s:
        return await bots.update_bot(
            s, caller.actor, bot_id, BotUpdate(**body.model_dump()), clock=ctx.clock
        )


@router.get("/{bot_id}/performance", summary="The bot's latest performance snapshot")
async def performance(caller: Reader, ctx: Context, bot_id: BotId) -> Performance:
    async with ctx.transaction() as s:
        detail = await bots.get_bot(s, caller.actor, bot_id, executions=1)
    return Performance(bot_id=detail.bot.id, performance=detail.performance)


@router.post("/{bot_id}/start", summary="Start a bot (inactive, paused or error → active)")
async def start_bot(caller: BotsCaller, ctx: Context, bot_id: BotId) -> BotView:
    async with ctx.transaction() as s:
        return await bots.start_bot(s, caller.actor, bot_id, clock=ctx.clock)


@router.post("/{bot_id}/pause", summary="Pause a running bot (exit rules keep protecting it)")
async def pause_bot(caller: BotsCaller, ctx: Context, bot_id: BotId) -> BotView:
    async with ctx.transaction() as s:
        return await bots.pause_bot(s, caller.actor, bot_id, clock=ctx.clock)


@router.post("/{bot_id}/resume", summary="Resume a paused bot")
async def resume_bot(caller: BotsCaller, ctx: Context, bot_id: BotId) -> BotView:
    async with ctx.transaction() as s:
        return await bots.resume_bot(s, caller.actor, bot_id, clock=ctx.clock)


class StopOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    close_positions: bool = False
    """Also cancel its resting orders and sell its open positions at market."""


@router.post("/{bot_id}/stop", summary="Stop a bot, optionally closing its positions")
async def stop_bot(
    caller: BotsCaller,
    ctx: Context,
    bot_id: BotId,
    options: Annotated[StopOptions | None, Body()] = None,
) -> StopResult:
    close = options is not None and options.close_positions
    async with ctx.transaction() as s:
        return await bots.stop_bot(
            s,
            caller.actor,
            bot_id,
            close_positions=close,
            markets=ctx.markets if close else None,
            clock=ctx.clock,
        )
