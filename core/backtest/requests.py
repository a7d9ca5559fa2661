"""A backtest asked for by name: the request, its outcome, and the run that needs no database.

``core.services.backtests`` adds what needs the database (datasets, bots, plan limits, stored
results) around these; ``blockbotx backtest --csv`` with a bare strategy runs
``run_on_candles`` alone, so it loads neither SQLAlchemy nor the ORM models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel

from core.backtest.chart import chart_rows
from core.backtest.runner import BacktestResult, BacktestSettings, Subject, run
from core.backtest.simulation import Progress
from core.backtest.subjects import named_subject
from core.errors import InvalidInput
from core.strategies.candles import Candles
from core.strategies.registry import validate_risk_settings
from core.strategies.risk import RiskSettings
from core.strategies.technical import TechnicalStrategy


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    cash: Decimal
    fee: Decimal
    timeframe: str | None = None  # required with candles; a dataset brings its own
    dataset_id: str | None = None
    bot_id: str | None = None
    strategy: str | None = None  # a built-in signal, dca or grid; overrides the bot's strategy
    params: dict[str, Any] | None = None
    risk_settings: dict[str, Any] | None = None  # only without a bot (a bot brings its own)
    mode: Literal["fast", "bar"] = "fast"
    source: str | None = None  # where the candles came from, for the stored config


@dataclass(frozen=True, slots=True)
class BacktestRun:
    result: BacktestResult
    backtest_id: str | None  # None when not stored (no bot)
    chart: list[list[Any]] = field(default_factory=list)  # the candles folded for a chart

    def report(self) -> dict[str, Any]:
        """The result as stored: the report's JSON with its chart."""
        return self.result.as_json() | {"chart": self.chart}


def parse_decimal(value: str | Decimal | int, name: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"{name} {value!r} is not a number.", field=name) from None
    if not number.is_finite():
        raise InvalidInput(f"{name} {value!r} is not a number.", field=name)
    return number


def need_timeframe(timeframe: str | None) -> str:
    if not timeframe:
        raise InvalidInput(
            "Say which timeframe the candles are (for example 1h).", field="timeframe"
        )
    return timeframe


def named(name: str, params: dict[str, Any] | None) -> tuple[Subject, dict[str, Any]]:
    """The strategy or dca / grid rules called ``name``, and how a stored config names them."""
    subject = named_subject(name, params or {})
    settings = subject.signal if isinstance(subject, TechnicalStrategy) else subject
    assert isinstance(settings, BaseModel)  # a technical signal's or a bot's parameters
    return subject, {"strategy": name, "params": settings.model_dump(mode="json")}


def replay(
    subject: Subject,
    candles: Candles,
    request: BacktestRequest,
    timeframe: str,
    risk: RiskSettings,
    progress: Progress | None = None,
) -> BacktestRun:
    """Run ``subject`` over ``candles`` with the request's money and mode (not stored)."""
    settings = BacktestSettings(request.cash, request.fee, timeframe, risk, request.mode)
    result = run(subject, candles, settings, progress)
    return BacktestRun(result, None, chart_rows(candles))


def run_on_candles(
    request: BacktestRequest, candles: Candles, progress: Progress | None = None
) -> BacktestRun:
    """A bare strategy (or dca / grid rules) by name over given candles: no database, no
    account, nothing stored."""
    if request.dataset_id is not None or request.bot_id is not None:
        raise InvalidInput("A dataset or a bot needs the database.", field="data")
    timeframe = need_timeframe(request.timeframe)
    if request.strategy is None:
        raise InvalidInput("Choose a strategy (for example sma_cross) or a bot.", field="strategy")
    risk = validate_risk_settings(request.risk_settings)
    subject, _described = named(request.strategy, request.params)
    return replay(subject, candles, request, timeframe, risk, progress)
