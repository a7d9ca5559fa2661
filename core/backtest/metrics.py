"""Report figures from a finished simulation (formulas in docs/backtest.md).

The equity curve is cash + held quantity × close at every candle's close, starting from the
initial cash. It is built in float64 only to *locate* the worst drawdown and to compute Sharpe
(a statistic, not money); the drawdown's two equity values are then recomputed exactly in
Decimal.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np

from core.backtest.account import Trade
from core.strategies.candles import Candles, to_decimal

SECONDS_PER_YEAR = 365 * 24 * 3600  # crypto trades every day of the year
PCT = Decimal("0.0001")
RATIO = Decimal("0.0001")


ATOMS = 10**18
"""Cash and quantities are multiples of 1e-18; the fast replay keeps them as integers of it."""
_ATOM = Decimal("1e-18")


def exact(value: Decimal | int) -> Decimal:
    """An event value as a Decimal (an int counts atoms of 1e-18)."""
    return Decimal(value) * _ATOM if value.__class__ is int else value  # type: ignore[return-value]


def _float(value: Decimal | int) -> float:
    """An event value as a float, the same for the same amount in either form: a whole number
    of atoms n becomes float(n) × 1e-18."""
    if value.__class__ is int:
        return float(value) * 1e-18
    if not value:
        return 0.0
    shifted = value.scaleb(18)  # type: ignore[union-attr]
    if shifted == shifted.to_integral_value():
        return float(int(shifted)) * 1e-18
    return float(value)


def _floats(values: list) -> np.ndarray:
    if all(v.__class__ is int for v in values):  # the fast replay's: converted in one pass
        return np.array(values, dtype=object).astype(np.float64) * 1e-18
    return np.array([_float(v) for v in values])


@dataclass(frozen=True, slots=True)
class EquityEvents:
    """Cash and held quantity after each candle where they changed (in candle order); values
    are Decimals, or ints counting atoms of 1e-18 (the fast replay's)."""

    bars: list[int]
    cash: list[Decimal | int]
    held: list[Decimal | int]

    def at(self, i: int, initial_cash: Decimal) -> tuple[Decimal, Decimal]:
        k = bisect.bisect_right(self.bars, i) - 1
        if k < 0:
            return initial_cash, Decimal(0)
        return exact(self.cash[k]), exact(self.held[k])


def equity_curve(candles: Candles, events: EquityEvents, initial_cash: Decimal) -> np.ndarray:
    """Equity at the initial point and at every close (length n + 1), float64."""
    n, start = len(candles), float(initial_cash)
    curve = np.empty(n + 1)
    curve[0] = start
    if not events.bars:
        curve[1:] = start
        return curve
    bars = np.asarray(events.bars)
    lengths = np.diff(bars, append=n)
    first = int(bars[0])
    curve[1 : first + 1] = start
    held = curve[first + 1 :]  # filled in place: held × close + cash
    np.multiply(np.repeat(_floats(events.held), lengths), candles.close[first:], out=held)
    held += np.repeat(_floats(events.cash), lengths)
    return curve


def max_drawdown_pct(
    candles: Candles, events: EquityEvents, initial_cash: Decimal, curve: np.ndarray
) -> Decimal:
    peak = np.maximum.accumulate(curve)  # ≥ the starting cash > 0
    drawdown = peak - curve
    drawdown /= peak
    trough = int(np.argmax(drawdown))
    if drawdown[trough] <= 0:
        return Decimal("0.0000")
    top = int(np.argmax(curve[: trough + 1]))

    def equity(point: int) -> Decimal:  # point 0 is the start; point k is candle k - 1's close
        if point == 0:
            return initial_cash
        cash, held = events.at(point - 1, initial_cash)
        return cash + held * to_decimal(candles.close[point - 1])

    high, low = equity(top), equity(trough)
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


@dataclass(frozen=True, slots=True)
class TradeTotals:
    """Sums over closed trades (at report precision) that the win rate, profit factor and
    fees come from."""

    count: int = 0
    wins: int = 0
    gains: Decimal = Decimal(0)  # Σ P&L of winning trades
    losses: Decimal = Decimal(0)  # −Σ P&L of losing trades
    fees: Decimal = Decimal(0)

    @classmethod
    def of(cls, trades: Sequence[Trade]) -> TradeTotals:
        pnls = [t.pnl for t in trades]
        return cls(
            len(trades),
            sum(1 for p in pnls if p > 0),
            sum((p for p in pnls if p > 0), Decimal(0)),
            -sum((p for p in pnls if p < 0), Decimal(0)),
            sum((t.fees for t in trades), Decimal(0)),
        )

    def __add__(self, other: TradeTotals) -> TradeTotals:
        return TradeTotals(
            self.count + other.count,
            self.wins + other.wins,
            self.gains + other.gains,
            self.losses + other.losses,
            self.fees + other.fees,
        )


def win_rate_pct(totals: TradeTotals) -> Decimal | None:
    if not totals.count:
        return None
    return (Decimal(totals.wins) / totals.count * 100).quantize(PCT)


def profit_factor(totals: TradeTotals) -> Decimal | None:
    """Gross profit / gross loss; None without a losing trade (it would be infinite)."""
    if totals.losses == 0:
        return None
    return (totals.gains / totals.losses).quantize(RATIO)


def periods_per_year(timeframe_seconds: int) -> float:
    return SECONDS_PER_YEAR / timeframe_seconds


def _ratio(value: float) -> Decimal | None:
    """A float ratio as a Decimal to ``RATIO``; None when it is not finite or too large to
    carry that many places (a CAGR of a few hours can be astronomically large)."""
    if not math.isfinite(value):
        return None
    try:
        return Decimal(repr(value)).quantize(RATIO)
    except InvalidOperation:
        return None


def sortino(curve: np.ndarray, timeframe_seconds: int) -> Decimal | None:
    """Annualised mean / downside deviation of per-candle returns, target 0: the downside
    deviation is √(mean over every return of min(r, 0)²). Null with fewer than 2 returns or no
    losing candle."""
    if len(curve) < 3:
        return None
    returns = curve[1:] / curve[:-1] - 1.0
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if not math.isfinite(downside) or downside == 0.0:
        return None
    return _ratio(
        float(np.mean(returns)) / downside * math.sqrt(periods_per_year(timeframe_seconds))
    )


def cagr_pct(
    initial: Decimal, final: Decimal, candles: int, timeframe_seconds: int
) -> Decimal | None:
    """Compound annual growth over the span the candles cover (candles × timeframe), in %.
    Null when it overflows (a short span compounds a gain into an astronomical figure)."""
    years = candles * timeframe_seconds / SECONDS_PER_YEAR
    if years <= 0 or final < 0:
        return None
    try:
        growth = float(final / initial) ** (1.0 / years)
    except OverflowError:
        return None
    return _ratio((growth - 1.0) * 100.0)


def calmar(cagr: Decimal | None, max_drawdown: Decimal) -> Decimal | None:
    """CAGR / max drawdown (both in %); null without a drawdown or a CAGR."""
    if cagr is None or max_drawdown <= 0:
        return None
    return (cagr / max_drawdown).quantize(RATIO)


def exposure_pct(events: EquityEvents, candles: int) -> Decimal:
    """Time in market: the share of candles whose close finds a position held, in %."""
    if not events.bars or candles == 0:
        return Decimal("0.0000")
    lengths = np.diff(np.asarray(events.bars), append=candles)
    holding = np.fromiter((h != 0 for h in events.held), dtype=bool, count=len(events.held))
    return (Decimal(int(lengths[holding].sum())) / candles * 100).quantize(PCT)


def buy_and_hold_pct(candles: Candles) -> Decimal:
    """Buying at the first candle's open and holding to the last close, without fees, in %."""
    first, last = to_decimal(candles.open[0]), to_decimal(candles.close[-1])
    return ((last - first) / first * 100).quantize(PCT)
