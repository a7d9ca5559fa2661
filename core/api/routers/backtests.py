"""Backtests: run one over a stored dataset, list them, read a report."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from core.api.auth import BotsCaller, Context, Reader
from core.api.fields import Amount
from core.services import backtests
from core.services.backtests import BacktestRecord, BacktestRequest, BacktestSummary, parse_decimal

router = APIRouter(prefix="/backtests", tags=["backtests"])


class BacktestRun(BaseModel):
    """A run over a dataset (``blockbotx data import``); stored when it is a bot's."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str = Field(max_length=64)
    bot_id: str | None = Field(default=None, max_length=64)
    strategy: str | None = Field(
        default=None, max_length=64, description="A built-in strategy; overrides the bot's."
    )
    params: dict[str, Any] | None = None
    risk_settings: dict[str, Any] | None = None
    cash: Amount = "10000"
    fee: Amount = Field(default="0.001", description="A fraction of each trade, as a string.")
    mode: Literal["fast", "bar"] = "fast"


class BacktestReport(BaseModel):
    backtest_id: str | None
    """None when the run was not a bot's (nothing stored)."""
    result: dict[str, Any]


@router.post("", status_code=201, summary="Run a backtest over a stored dataset")
async def run_backtest(caller: BotsCaller, ctx: Context, body: BacktestRun) -> BacktestReport:
    request = BacktestRequest(
        cash=parse_decimal(body.cash, "cash"),
        fee=parse_decimal(body.fee, "fee"),
        dataset_id=body.dataset_id,
        bot_id=body.bot_id,
        strategy=body.strategy,
        params=body.params,
        risk_settings=body.risk_settings,
        mode=body.mode,
        source="api",
    )
    async with ctx.db.session() as s:
        run = await backtests.run_backtest(s, caller.actor, request)
    return BacktestReport(backtest_id=run.backtest_id, result=run.result.as_json())


@router.get("", summary="Your stored backtests, newest first")
async def list_backtests(
    caller: Reader,
    ctx: Context,
    bot_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[BacktestSummary]:
    async with ctx.db.session() as s:
        return await backtests.list_backtests(s, caller.actor, bot_id=bot_id, limit=limit)


@router.get("/{backtest_id}", summary="A stored backtest's settings and full report")
async def get_backtest(
    caller: Reader, ctx: Context, backtest_id: Annotated[str, Path(max_length=64)]
) -> BacktestRecord:
    async with ctx.db.session() as s:
        return await backtests.get_backtest(s, caller.actor, backtest_id)
