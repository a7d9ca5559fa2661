"""The built-in technical signals: sma_cross, ema_cross, rsi_reversal, macd_cross,
bollinger_breakout, written on the strategy API (``core.strategies.api``) like any installed
strategy; and ``TechnicalStrategy``, which runs one of them for the engine and the backtester.

Confidence is a readable score, not a probability: 50 at the moment a rule fires, rising with
how decisively it fired (the spread between the averages, how deep RSI went, …), capped at 100.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np

from core.strategies import indicators as ind
from core.strategies.api import (
    CandleStrategy,
    OpenTrade,
    Param,
    Signals,
    entry_amount,
    exit_reason,
)
from core.strategies.base import BUY, HOLD, SELL, SignalSeries, Strategy, apply_min_confidence
from core.strategies.candles import Candles
from core.strategies.config import ConfigModel


def _score(strength: np.ndarray) -> np.ndarray:
    """50 plus a strength already scaled to points, capped at 100 (NaN stays NaN)."""
    return 50.0 + np.minimum(50.0, np.abs(strength))


def _codes(buy: np.ndarray, sell: np.ndarray) -> np.ndarray:
    action = np.full(len(buy), HOLD, dtype=np.int8)
    action[buy] = BUY
    action[sell] = SELL
    return action


def _fmt(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:,.6g}"


def _period(default: int, help: str) -> Param:
    return Param(int, default, min=2, max=1000, help=help)


def _fast_below_slow(p: Any) -> None:
    if p.fast >= p.slow:
        raise ValueError(f"fast ({p.fast}) must be smaller than slow ({p.slow})")


class _MovingAverageCross(CandleStrategy):
    builtin = True

    @classmethod
    def check(cls, p: Any) -> None:
        _fast_below_slow(p)

    def warmup(self) -> int:
        return int(self.p.slow)  # type: ignore[attr-defined]

    def _averages(self, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def signals(self, candles: Candles) -> Signals:
        p: Any = self.p
        label = self.name.split("_")[0].upper()
        fast, slow = self._averages(candles.close)
        buy = ind.crossed_above(fast, slow)
        sell = ind.crossed_below(fast, slow)
        with np.errstate(divide="ignore", invalid="ignore"):
            spread_pct = (fast - slow) / slow * 100.0
        confidence = _score(spread_pct * 50.0)

        def explain(i: int) -> str:
            pair = f"{label}({p.fast}) {_fmt(fast[i])} vs {label}({p.slow}) {_fmt(slow[i])}"
            if buy[i]:
                return f"{pair}: the fast average crossed above the slow one (spread {spread_pct[i]:+.3f}%)."
            if sell[i]:
                return f"{pair}: the fast average crossed below the slow one (spread {spread_pct[i]:+.3f}%)."
            return f"{pair}: no crossing."

        return Signals(
            buy,
            sell,
            confidence,
            {f"{label.lower()}_fast": fast, f"{label.lower()}_slow": slow},
            explain,
        )


class SmaCross(_MovingAverageCross):
    """BUY when the fast simple moving average crosses above the slow one, SELL when below."""

    name = "sma_cross"
    params: ClassVar[dict[str, Param]] = {
        "fast": _period(10, "Period of the fast moving average, in candles."),
        "slow": _period(20, "Period of the slow moving average, in candles."),
    }

    def _averages(self, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p: Any = self.p
        return ind.sma(close, p.fast), ind.sma(close, p.slow)


class EmaCross(_MovingAverageCross):
    """BUY when the fast exponential moving average crosses above the slow one, SELL when below."""

    name = "ema_cross"
    params: ClassVar[dict[str, Param]] = {
        "fast": _period(12, "Period of the fast EMA, in candles."),
        "slow": _period(26, "Period of the slow EMA, in candles."),
    }

    def warmup(self) -> int:
        return int(self.p.slow) * 10  # type: ignore[attr-defined]  # EMA seeding has faded by then

    def _averages(self, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p: Any = self.p
        return ind.ema(close, p.fast), ind.ema(close, p.slow)


class RsiReversal(CandleStrategy):
    """BUY when RSI climbs back above the oversold line, SELL when it falls back below overbought."""

    name = "rsi_reversal"
    builtin = True
    params: ClassVar[dict[str, Param]] = {
        "period": _period(14, "RSI period, in candles."),
        "oversold": Param(float, 30, above=0, below=100, help="RSI level counted as oversold."),
        "overbought": Param(float, 70, above=0, below=100, help="RSI level counted as overbought."),
    }

    @classmethod
    def check(cls, p: Any) -> None:
        if p.oversold >= p.overbought:
            raise ValueError(
                f"oversold ({p.oversold:g}) must be below overbought ({p.overbought:g})"
            )

    def warmup(self) -> int:
        return int(self.p.period) * 10  # type: ignore[attr-defined]

    def signals(self, candles: Candles) -> Signals:
        p: Any = self.p
        values = ind.rsi(candles.close, p.period)
        buy = ind.crossed_above(values, p.oversold)
        sell = ind.crossed_below(values, p.overbought)
        lowest = ind.rolling_min(values, p.period)
        highest = ind.rolling_max(values, p.period)
        confidence = np.where(
            buy, _score((p.oversold - lowest) * 2.5), _score((highest - p.overbought) * 2.5)
        )

        def explain(i: int) -> str:
            now = f"RSI({p.period}) {_fmt(values[i])}"
            if buy[i]:
                return f"{now} rose back above {p.oversold:g} after reaching {_fmt(lowest[i])}."
            if sell[i]:
                return f"{now} fell back below {p.overbought:g} after reaching {_fmt(highest[i])}."
            return f"{now}: no reversal."

        return Signals(buy, sell, confidence, {"rsi": values}, explain)


class MacdCross(CandleStrategy):
    """BUY when the MACD line crosses above its signal line, SELL when below."""

    name = "macd_cross"
    builtin = True
    params: ClassVar[dict[str, Param]] = {
        "fast": _period(12, "Fast EMA period."),
        "slow": _period(26, "Slow EMA period."),
        "signal": _period(9, "Signal line EMA period."),
    }

    @classmethod
    def check(cls, p: Any) -> None:
        _fast_below_slow(p)

    def warmup(self) -> int:
        p: Any = self.p
        return int(p.slow + p.signal) * 10

    def signals(self, candles: Candles) -> Signals:
        p: Any = self.p
        line, signal, hist = ind.macd(candles.close, p.fast, p.slow, p.signal)
        buy = ind.crossed_above(hist, 0.0)
        sell = ind.crossed_below(hist, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            confidence = _score(line / candles.close * 100.0 * 50.0)

        def explain(i: int) -> str:
            now = f"MACD {_fmt(line[i])}, signal {_fmt(signal[i])}"
            if buy[i]:
                return f"{now}: MACD crossed above its signal line."
            if sell[i]:
                return f"{now}: MACD crossed below its signal line."
            return f"{now}: no crossing."

        return Signals(
            buy,
            sell,
            confidence,
            {"macd": line, "macd_signal": signal, "macd_hist": hist},
            explain,
        )


class BollingerBreakout(CandleStrategy):
    """BUY when the close breaks above the upper band, SELL when it falls back below the middle."""

    name = "bollinger_breakout"
    builtin = True
    params: ClassVar[dict[str, Param]] = {
        "period": _period(20, "Bollinger period, in candles."),
        "stddev": Param(float, 2.0, above=0, max=10, help="Band width in standard deviations."),
    }

    def warmup(self) -> int:
        return int(self.p.period)  # type: ignore[attr-defined]

    def signals(self, candles: Candles) -> Signals:
        p: Any = self.p
        close = candles.close
        upper, middle, lower = ind.bollinger(close, p.period, p.stddev)
        buy = ind.crossed_above(close, upper)
        sell = ind.crossed_below(close, middle)
        width = upper - lower
        with np.errstate(divide="ignore", invalid="ignore"):
            pct_b = np.where(width > 0, (close - lower) / width, np.nan)
        confidence = np.where(buy, _score((pct_b - 1.0) * 100.0), _score((0.5 - pct_b) * 100.0))

        def explain(i: int) -> str:
            now = f"close {_fmt(close[i])}, bands {_fmt(lower[i])}–{_fmt(upper[i])}"
            if buy[i]:
                return f"{now}: the close broke above the upper band (%B {_fmt(pct_b[i])})."
            if sell[i]:
                return f"{now}: the close fell back below the middle band {_fmt(middle[i])}."
            return f"{now}: no breakout."

        return Signals(
            buy,
            sell,
            confidence,
            {"bb_upper": upper, "bb_middle": middle, "bb_lower": lower, "percent_b": pct_b},
            explain,
        )


BUILTINS: tuple[type[CandleStrategy], ...] = (
    SmaCross,
    EmaCross,
    RsiReversal,
    MacdCross,
    BollingerBreakout,
)
TECHNICAL_SIGNALS: dict[str, type[ConfigModel]] = {s.name: s.params_model() for s in BUILTINS}
"""The built-in signals' parameter models by name."""


class TechnicalStrategy(Strategy):
    """A strategy of the API (built-in or installed) as the engine and the backtester run it,
    optionally filtered by a minimum confidence."""

    def __init__(self, strategy: CandleStrategy, min_confidence: float = 0.0) -> None:
        self.strategy = strategy
        self.name = strategy.name
        self.min_confidence = float(min_confidence)
        hooks = type(strategy).hooks()
        self.has_exit_hook = "custom_exit" in hooks
        self.has_size_hook = "position_size" in hooks

    def exit_hook(self, window: Candles, trade: OpenTrade) -> str | None:
        if not self.has_exit_hook:
            return None
        return exit_reason(self.name, self.strategy.custom_exit(window, trade))

    def size_hook(self, window: Candles, budget: Decimal) -> Decimal:
        if not self.has_size_hook:
            return budget
        return entry_amount(self.strategy.position_size(window, budget), budget)

    @property
    def signal(self) -> ConfigModel:
        """The validated parameters (with ``name``), as stored in a bot's config."""
        return self.strategy.p

    @property
    def time_limited(self) -> bool:
        """Installed code runs under the engine's time limit; the built-ins are ours."""
        return not self.strategy.builtin

    @property
    def lookback(self) -> int:
        return int(self.strategy.warmup()) + 2

    def series(self, candles: Candles) -> SignalSeries:
        out = self.strategy.signals(candles)
        n = len(candles)
        buy = _flags(out.entry, n, "entry")
        sell = _flags(out.exit, n, "exit")
        confidence = (
            np.full(n, 100.0)
            if out.confidence is None
            else np.asarray(out.confidence, dtype=np.float64)
        )
        if confidence.shape != (n,):
            raise ValueError(
                f"{self.name}: confidence has {len(confidence)} values for {n} candles"
            )
        explain = out.explain or self._explain(buy, sell)
        raw = _codes(buy, sell)
        action = apply_min_confidence(raw, confidence, self.min_confidence)

        def reason(i: int) -> str:
            text = explain(i)
            if raw[i] != action[i]:
                text += f" Ignored: confidence {confidence[i]:.1f} is below the minimum {self.min_confidence:g}."
            return text

        return SignalSeries(action, confidence, out.indicators, reason)

    def _explain(self, buy: np.ndarray, sell: np.ndarray) -> Callable[[int], str]:
        def explain(i: int) -> str:
            if sell[i]:
                return f"{self.name}: exit signal."
            if buy[i]:
                return f"{self.name}: entry signal."
            return f"{self.name}: no signal."

        return explain


def _flags(values: object, n: int, what: str) -> np.ndarray:
    flags = np.asarray(values, dtype=bool)
    if flags.shape != (n,):
        raise ValueError(
            f"the {what} array has shape {flags.shape}, expected ({n},) like the candles"
        )
    return flags
