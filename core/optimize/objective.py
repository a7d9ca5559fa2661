"""What one trial measures: a backtest of the strategy with the trial's parameters, scored by
the objective exactly as ``blockbotx backtest`` reports it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.backtest import BacktestResult, BacktestSettings, run
from core.backtest.subjects import BOT_RULES, named_subject
from core.errors import InvalidInput
from core.strategies.candles import Candles
from core.strategies.technical import TECHNICAL_SIGNALS

OBJECTIVES = {
    "total_return": "total_return_pct",
    "sharpe": "sharpe",
    "sortino": "sortino",
    "calmar": "calmar",
    "profit_factor": "profit_factor",
}
"""Objective name → the report field it is (every objective is maximised)."""


def strategy_parameters(name: str) -> dict[str, Any]:
    """The parameters ``name`` declares, with their defaults (an unknown name is refused with
    the backtest's own message)."""
    model = BOT_RULES.get(name) or TECHNICAL_SIGNALS.get(name)
    if model is None:
        named_subject(name, {})  # raises: "Unknown strategy …: choose one of …"
        raise InvalidInput(f"Unknown strategy {name!r}.", field="strategy")
    return {key: f.default for key, f in model.model_fields.items() if key != "name"}


def check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise InvalidInput(
            f"Unknown objective {objective!r}: choose one of {', '.join(OBJECTIVES)}.",
            field="objective",
        )
    return objective


def score(result: BacktestResult, objective: str) -> Decimal | None:
    value: Decimal | None = getattr(result, OBJECTIVES[objective])
    return value


@dataclass(frozen=True, slots=True)
class Evaluation:
    value: Decimal | None  # None: not scored, ``reason`` says why
    reason: str | None
    result: BacktestResult | None


def evaluate(
    strategy: str,
    params: Mapping[str, Any],
    candles: Candles,
    settings: BacktestSettings,
    objective: str,
    min_trades: int = 0,
) -> Evaluation:
    """Backtest ``strategy`` with ``params`` and score it; parameters the strategy refuses (a
    fast average not faster than the slow one…) and runs with too few trades are not scored."""
    try:
        result = run(named_subject(strategy, dict(params)), candles, settings)
    except InvalidInput as exc:
        return Evaluation(None, str(exc), None)
    if result.trades < min_trades:
        return Evaluation(
            None, f"{result.trades} closed trades, fewer than --min-trades {min_trades}", result
        )
    value = score(result, objective)
    if value is None:
        return Evaluation(None, f"{objective} is undefined for this run", result)
    return Evaluation(value, None, result)
