"""Bot performance: the figures of ``performance_snapshots`` (formulas in docs/engine.md).

Inputs: the wallet's starting value, its equity curve (hourly ``bot_balance_snapshots`` and the
value now) and the net P&L of each closed position. Decimal throughout; only the standard
deviation behind Sharpe and the volatility is taken in float (a ratio, not money).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)
HOURS_PER_YEAR = 365 * 24
Q2 = Decimal("0.01")
Q4 = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Performance:
    total_trades: int
    win_rate: Decimal  # % of closed positions with a positive net P&L (0 with none)
    total_return: Decimal
    total_return_percent: Decimal
    max_drawdown_percent: Decimal
    sharpe: Decimal | None
    profit_factor: Decimal | None
    volatility_percent: Decimal | None
    risk_score: Decimal
    rating: str
    gross_profit: Decimal
    gross_loss: Decimal


def max_drawdown_percent(curve: Sequence[Decimal]) -> Decimal:
    peak: Decimal | None = None
    worst = ZERO
    for value in curve:
        if peak is None or value > peak:
            peak = value
        if peak and peak > 0:
            worst = max(worst, (peak - value) / peak * HUNDRED)
    return worst.quantize(Q4)


def hourly_returns(curve: Sequence[Decimal]) -> list[float]:
    return [float(b / a - 1) for a, b in itertools.pairwise(curve) if a > 0]


MIN_SHARPE_RETURNS = 30
"""Fewer hourly returns than this give no Sharpe ratio: annualising the mean and spread of a
handful of hours (one trade's jump, say) gives figures like 37.9 that mean nothing."""


def sharpe_and_volatility(returns: Sequence[float]) -> tuple[Decimal | None, Decimal | None]:
    """Annualised Sharpe (none under ``MIN_SHARPE_RETURNS``) and volatility (from 2 returns)."""
    if len(returns) < 2:
        return None, None
    mean = sum(returns) / len(returns)
    var = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    std = math.sqrt(var)
    if std == 0 or not math.isfinite(std):
        return None, Decimal(0)
    annual = math.sqrt(HOURS_PER_YEAR)
    volatility = Decimal(f"{std * annual * 100:.4f}")
    if len(returns) < MIN_SHARPE_RETURNS:
        return None, volatility
    return Decimal(f"{mean / std * annual:.4f}"), volatility


def rate(
    total_return_percent: Decimal,
    sharpe: Decimal | None,
    max_drawdown: Decimal,
    win_rate: Decimal,
    trades: int,
) -> str:
    if (
        total_return_percent > 0
        and sharpe is not None
        and sharpe >= Decimal("1.5")
        and max_drawdown <= 10
        and trades >= 5
        and win_rate >= 50
    ):
        return "excellent"
    if (
        total_return_percent > 0
        and (sharpe is None or sharpe >= Decimal("0.5"))
        and max_drawdown <= 20
    ):
        return "good"
    if total_return_percent > -5 and max_drawdown <= 35:
        return "fair"
    return "poor"


def compute(
    start_value: Decimal, curve: Sequence[Decimal], closed_pnls: Sequence[Decimal]
) -> Performance:
    """``curve`` is the equity over time, the value now last (the start value first)."""
    now = curve[-1] if curve else start_value
    total_return = now - start_value
    total_return_percent = (
        (total_return / start_value * HUNDRED).quantize(Q4) if start_value > 0 else ZERO
    )
    wins = [p for p in closed_pnls if p > 0]
    losses = [p for p in closed_pnls if p < 0]
    trades = len(closed_pnls)
    win_rate = (Decimal(len(wins)) / trades * HUNDRED).quantize(Q4) if trades else ZERO
    gross_profit, gross_loss = sum(wins, ZERO), -sum(losses, ZERO)
    profit_factor = (gross_profit / gross_loss).quantize(Q4) if gross_loss > 0 else None
    drawdown = max_drawdown_percent(curve)
    sharpe, volatility = sharpe_and_volatility(hourly_returns(curve))
    risk = min(HUNDRED, 2 * drawdown + (volatility or ZERO) / 2).quantize(Q2)
    return Performance(
        total_trades=trades,
        win_rate=win_rate,
        total_return=total_return,
        total_return_percent=total_return_percent,
        max_drawdown_percent=drawdown,
        sharpe=sharpe,
        profit_factor=profit_factor,
        volatility_percent=volatility,
        risk_score=risk,
        rating=rate(total_return_percent, sharpe, drawdown, win_rate, trades),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
    )
