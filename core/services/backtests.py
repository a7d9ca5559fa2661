"""Backtests for the acting user: run one (on a CSV's candles or a stored dataset, with a
built-in strategy, a dca or grid config, or one of the user's signal, ai, dca or grid bots),
list and read the stored results.

A result is stored in ``backtests`` only when it belongs to a bot (``backtests.bot_id`` is
required): a run with ``bot_id`` is stored under that bot, owned by the acting user; a run of a
bare strategy (no bot) returns its report and stores nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.backtest.csv_data import read_csv
from core.backtest.datasets import (
    DatasetInfo,
    check_symbol,
    list_datasets,
    load_dataset,
    save_dataset,
)
from core.backtest.requests import (
    BacktestRequest,
    BacktestRun,
    named,
    need_timeframe,
    replay,
    run_on_candles,
)
from core.backtest.requests import (
    parse_decimal as parse_decimal,  # the API's routers read figures with it too
)
from core.backtest.subjects import bot_subject
from core.db.models.bots import Backtest, Bot
from core.db.models.signals import Signal
from core.errors import InvalidInput, NotFound
from core.services.actor import Actor, get_owned, owned_by, require_admin
from core.services.plans import Limit, check_limit
from core.strategies.candles import Candles
from core.strategies.registry import validate_bot_config, validate_risk_settings
from core.strategies.signal import ExternalSignal, SignalBotConfig


@dataclass(frozen=True, slots=True)
class BacktestSummary:
    id: str
    bot_id: str
    created_at: datetime
    execution_time_ms: int
    strategy: str | None
    timeframe: str | None
    final_equity: Decimal | None
    total_return_pct: Decimal | None
    trades: int | None


@dataclass(frozen=True, slots=True)
class BacktestRecord:
    summary: BacktestSummary
    config: dict[str, Any]
    result: dict[str, Any]


async def run_backtest(
    session: AsyncSession | None,
    actor: Actor,
    request: BacktestRequest,
    *,
    candles: Candles | None = None,
    progress=None,
) -> BacktestRun:
    """Run (and, with a bot, store) a backtest. ``candles`` or ``request.dataset_id`` gives data.

    ``session`` may be None for a bare strategy on given candles: that run needs no database.
    """
    if session is None and (request.dataset_id is not None or request.bot_id is not None):
        raise InvalidInput("A dataset or a bot needs the database.", field="data")
    timeframe = request.timeframe
    source = request.source
    symbol: str | None = None  # a CSV doesn't say; a bot's config does
    if (candles is None) == (request.dataset_id is None):
        raise InvalidInput(
            "Give the candles either as a CSV file or as a dataset id.", field="data"
        )
    if request.dataset_id is not None:
        assert session is not None
        info, candles = await load_dataset(session, request.dataset_id)
        if timeframe and timeframe != info.timeframe:
            raise InvalidInput(
                f"Dataset {info.id} holds {info.timeframe} candles, not {timeframe}.",
                field="timeframe",
            )
        timeframe = info.timeframe
        symbol = info.symbol
        source = f"dataset {info.id} ({info.symbol} {info.timeframe})"
    timeframe = need_timeframe(timeframe)
    assert candles is not None
    if session is not None:  # a bare CSV run has no database, hence no account to check
        await check_limit(session, actor.user_id, Limit.BACKTEST_CANDLES, value=len(candles))
    if request.bot_id is None:  # a bare strategy: nothing to look up, nothing stored
        bare = replace(request, timeframe=timeframe, dataset_id=None)
        return await asyncio.to_thread(run_on_candles, bare, candles, progress)

    assert session is not None
    bot = await get_owned(session, Bot, request.bot_id, actor)
    if request.risk_settings is not None:
        raise InvalidInput(
            "A bot brings its own risk settings; edit the bot to change them.",
            field="risk_settings",
        )
    risk = validate_risk_settings(bot.risk_settings)
    if request.strategy is None:
        config = validate_bot_config(bot.type, bot.config)
        history = await _provider_history(session, config, symbol)
        subject = bot_subject(bot.type, config, history)
        described: dict[str, Any] = {"bot_type": bot.type, "config": bot.config}
    else:
        subject, described = named(request.strategy, request.params)
    outcome = await asyncio.to_thread(replay, subject, candles, request, timeframe, risk, progress)
    result = outcome.result
    row = Backtest(
        bot_id=bot.id,
        user_id=actor.user_id,
        config={
            **described,
            "risk_settings": risk.model_dump(mode="json", exclude_defaults=True),
            "cash": str(request.cash),
            "fee": str(request.fee),
            "timeframe": timeframe,
            "mode": request.mode,
            "source": source,
        },
        result=outcome.report(),
        execution_time=result.elapsed_ms,
    )
    session.add(row)
    await session.commit()
    return replace(outcome, backtest_id=row.id)


async def _provider_history(
    session: AsyncSession, config: object, symbol: str | None
) -> list[ExternalSignal]:
    """A provider-following signal bot replays its provider's stored signals for the symbol."""
    if not isinstance(config, SignalBotConfig) or config.source != "provider":
        return []
    rows = await session.execute(
        select(Signal.symbol, Signal.action, Signal.confidence, Signal.created_at, Signal.reason)
        .where(Signal.provider_id == config.provider_id, Signal.symbol == (symbol or config.symbol))
        .order_by(Signal.created_at)
    )
    return [ExternalSignal(*row) for row in rows.all()]


def _summary(row: Backtest) -> BacktestSummary:
    result, config = row.result or {}, row.config or {}

    def number(key: str) -> Decimal | None:
        return None if result.get(key) is None else Decimal(result[key])

    return BacktestSummary(
        id=row.id,
        bot_id=row.bot_id,
        created_at=row.created_at,
        execution_time_ms=row.execution_time,
        strategy=result.get("strategy"),
        timeframe=config.get("timeframe"),
        final_equity=number("final_equity"),
        total_return_pct=number("total_return_pct"),
        trades=result.get("trades"),
    )


async def list_backtests(
    session: AsyncSession, actor: Actor, *, bot_id: str | None = None, limit: int = 50
) -> list[BacktestSummary]:
    """The actor's own backtests, newest first."""
    stmt = owned_by(select(Backtest), Backtest.user_id, actor)
    if bot_id is not None:
        stmt = stmt.where(Backtest.bot_id == bot_id)
    stmt = stmt.order_by(Backtest.created_at.desc(), Backtest.id).limit(max(1, min(limit, 500)))
    return [_summary(row) for row in (await session.scalars(stmt)).all()]


async def get_backtest(session: AsyncSession, actor: Actor, backtest_id: str) -> BacktestRecord:
    row = await get_owned(session, Backtest, backtest_id, actor, what="backtest")
    return BacktestRecord(_summary(row), dict(row.config), dict(row.result))


async def import_csv_dataset(
    session: AsyncSession, actor: Actor, path: str | Path, symbol: str, timeframe: str
) -> DatasetInfo:
    """Read an OHLCV CSV into ``historical_datasets`` (shared market history)."""
    await require_admin(session, actor)  # before reading a file on the actor's behalf
    check_symbol(symbol)
    candles = await asyncio.to_thread(read_csv, path, timeframe)
    return await import_dataset(session, actor, symbol, timeframe, candles)


async def import_dataset(
    session: AsyncSession, actor: Actor, symbol: str, timeframe: str, candles: Candles
) -> DatasetInfo:
    """Store candles already read (and checked) as a dataset; replaces the same range.

    Datasets are market history shared by every user's backtests (the table has no owner), so
    only an administrator or the operator's command line (``SYSTEM``) may write one: a user
    could otherwise replace the candles everyone else's backtests read."""
    await require_admin(session, actor)
    info = await save_dataset(session, symbol, timeframe, candles)
    await session.commit()
    return info


async def datasets(
    session: AsyncSession, actor: Actor, symbol: str | None = None
) -> list[DatasetInfo]:
    return await list_datasets(session, symbol)


async def bot_owner(session: AsyncSession, bot_id: str) -> Actor:
    """The owner of a bot, as an actor: for the operator's command line, which has database
    access anyway and has no logged-in user."""
    user_id = await session.scalar(select(Bot.user_id).where(Bot.id == bot_id))
    if user_id is None:
        raise NotFound(f"No bot {bot_id!r}.")
    return Actor(user_id=user_id)
