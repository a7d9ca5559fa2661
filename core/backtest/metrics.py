"""Report figures from a finished simulation (formulas in docs/backtest.md).

The equity curve is cash + held quantity × close at every candle's close, starting from the
initial cash. It is built in float64 only to *locate* the worst drawdown and to compute Sharpe
(a statistic, not money); the drawdown's two equity values are then recomputed exactly in
Decimal.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from core.backtest.account import Trade
from core.strategies.candles import Candles, to_decimal

SECONDS_PER_YEAR = 365 * 24 * 3600  # crypto trades every day of the year
PCT = Decimal("0.0001")
RATIO = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class EquityEvents:
    """Cash and held quantity after each candle where they changed (in candle order)."""

    bars: list[int]
    cash: list[Decimal]
    held: list[Decimal]

    def at(self, i: int, initial_cash: Decimal) -> tuple[Decimal, Decimal]:
        k = bisect.bisect_right(self.bars, i) - 1
        return (initial_cash, Decimal(0)) if k < 0 else (self.cash[k], self.held[k])


def equity_curve(candles: Candles, events: EquityEvents, initial_cash: Decimal) -> np.ndarray:
    """Equity at the initial point and at every close (length n + 1), float64."""
    n = len(candles)
    cash = np.full(n, float(initial_cash))
    held = np.zeros(n)
    if events.bars:
        bars = np.asarray(events.bars)
        lengths = np.diff(np.append(bars, n))
        # Decimal → float goes through text: skip the many exact zeros
        cash[bars[0] :] = np.repeat(
            np.array([float(c) if c else 0.0 for c in events.cash]), lengths
        )
        held[bars[0] :] = np.repeat(
            np.array([float(h) if h else 0.0 for h in events.held]), lengths
        )
    return np.concatenate([[float(initial_cash)], cash + held * candles.close])


def max_drawdown_pct(
    candles: Candles, events: EquityEvents, initial_cash: Decimal, curve: np.ndarray
) -> Decimal:
    peak = np.maximum.accumulate(curve)
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdown = np.where(peak > 0, (peak - curve) / peak, 0.0)
    trough = int(np.argmax(drawdown))
    if drawdown[trough] <= 0:
        return Decimal("0.0000")
    top = int(np.argmax(curve[: trough + 1]))

    def exact(point: int) -> Decimal:  # point 0 is the start; point k is candle k - 1's close
        if point == 0:
            return initial_cash
        cash, held = events.at(point - 1, initial_cash)
        return cash + held * to_decimal(candles.close[point - 1])

    high, low = exact(top), exact(trough)
    return ((high - low) / high * 100).quantize(PCT)


def sharpe(curve: np.ndarray, timeframe_seconds: int) -> Decimal | None:
    """Annualised mean / standard deviation of per-candle returns (risk-free rate 0)."""
    if len(curve) < 3:
        return None
    returns = curve[1:] / curve[:-1] - 1.0
    std = float(np.std(returns, ddof=1))
    if not math.isfinite(std) or std == 0.0:
        return None
    value = float(np.mean(returns)) / std * math.sqrt(SECONDS_PER_YEAR / timeframe_seconds)
    return Decimal(repr(value)).quantize(RATIO)


def win_rate_pct(trades: list[Trade]) -> Decimal | None:
    if not trades:
        return None
    wins = sum(1 for t in trades if t.pnl > 0)
    return (Decimal(wins) / len(trades) * 100).quantize(PCT)


def profit_factor(trades: list[Trade]) -> Decimal | None:
    """Gross profit / gross loss; None without a losing trade (it would be infinite)."""
    gains = sum((t.pnl for t in trades if t.pnl > 0), Decimal(0))
    losses = -sum((t.pnl for t in trades if t.pnl < 0), Decimal(0))
    if losses == 0:
        return None
    return (gains / losses).quantize(RATIO)
