"""The built-in technical signals: sma_cross, ema_cross, rsi_reversal, macd_cross,
bollinger_breakout. Each is a parameter model (``name`` picks the signal) and a vectorized rule.

Confidence is a readable score, not a probability: 50 at the moment a rule fires, rising with
how decisively it fired (the spread between the averages, how deep RSI went, …), capped at 100.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from core.strategies import indicators as ind
from core.strategies.base import BUY, HOLD, SELL, SignalSeries, Strategy, apply_min_confidence
from core.strategies.candles import Candles
from core.strategies.config import ConfigModel

Period = Annotated[int, Field(ge=2, le=1000)]


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


class _MovingAverageCross(ConfigModel):
    LABEL: ClassVar[str]  # the average's short name in explanations ("SMA", "EMA")
    fast: Period = Field(default=10, description="Period of the fast moving average, in candles.")
    slow: Period = Field(default=20, description="Period of the slow moving average, in candles.")

    @model_validator(mode="after")
    def _fast_below_slow(self):
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
        return self

    @property
    def warmup(self) -> int:
        return self.slow

    def _averages(self, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def compute(self, candles: Candles):
        label = self.LABEL
        fast, slow = self._averages(candles.close)
        buy = ind.crossed_above(fast, slow)
        sell = ind.crossed_below(fast, slow)
        with np.errstate(divide="ignore", invalid="ignore"):
            spread_pct = (fast - slow) / slow * 100.0
        confidence = _score(spread_pct * 50.0)

        def explain(i: int) -> str:
            pair = f"{label}({self.fast}) {_fmt(fast[i])} vs {label}({self.slow}) {_fmt(slow[i])}"
            if buy[i]:
                return f"{pair}: the fast average crossed above the slow one (spread {spread_pct[i]:+.3f}%)."
            if sell[i]:
                return f"{pair}: the fast average crossed below the slow one (spread {spread_pct[i]:+.3f}%)."
            return f"{pair}: no crossing."

        return (
            buy,
            sell,
            confidence,
            {f"{label.lower()}_fast": fast, f"{label.lower()}_slow": slow},
            explain,
        )


class SmaCross(_MovingAverageCross):
    """BUY when the fast simple moving average crosses above the slow one, SELL when below."""

    name: Literal["sma_cross"] = "sma_cross"
    LABEL = "SMA"

    def _averages(self, close):
        return ind.sma(close, self.fast), ind.sma(close, self.slow)


class EmaCross(_MovingAverageCross):
    """BUY when the fast exponential moving average crosses above the slow one, SELL when below."""

    name: Literal["ema_cross"] = "ema_cross"
    LABEL = "EMA"
    fast: Period = Field(default=12, description="Period of the fast EMA, in candles.")
    slow: Period = Field(default=26, description="Period of the slow EMA, in candles.")

    @property
    def warmup(self) -> int:
        return self.slow * 10  # EMA seeding has faded to well under 1e-9 by then

    def _averages(self, close):
        return ind.ema(close, self.fast), ind.ema(close, self.slow)


class RsiReversal(ConfigModel):
    """BUY when RSI climbs back above the oversold line, SELL when it falls back below overbought."""

    name: Literal["rsi_reversal"] = "rsi_reversal"
    period: Period = Field(default=14, description="RSI period, in candles.")
    oversold: float = Field(default=30, gt=0, lt=100, description="RSI level counted as oversold.")
    overbought: float = Field(
        default=70, gt=0, lt=100, description="RSI level counted as overbought."
    )

    @model_validator(mode="after")
    def _levels_ordered(self):
        if self.oversold >= self.overbought:
            raise ValueError(
                f"oversold ({self.oversold:g}) must be below overbought ({self.overbought:g})"
            )
        return self

    @property
    def warmup(self) -> int:
        return self.period * 10

    def compute(self, candles: Candles):
        values = ind.rsi(candles.close, self.period)
        buy = ind.crossed_above(values, self.oversold)
        sell = ind.crossed_below(values, self.overbought)
        lowest = ind.rolling_min(values, self.period)
        highest = ind.rolling_max(values, self.period)
        confidence = np.where(
            buy, _score((self.oversold - lowest) * 2.5), _score((highest - self.overbought) * 2.5)
        )

        def explain(i: int) -> str:
            now = f"RSI({self.period}) {_fmt(values[i])}"
            if buy[i]:
                return f"{now} rose back above {self.oversold:g} after reaching {_fmt(lowest[i])}."
            if sell[i]:
                return (
                    f"{now} fell back below {self.overbought:g} after reaching {_fmt(highest[i])}."
                )
            return f"{now}: no reversal."

        return buy, sell, confidence, {"rsi": values}, explain


class MacdCross(ConfigModel):
    """BUY when the MACD line crosses above its signal line, SELL when below."""

    name: Literal["macd_cross"] = "macd_cross"
    fast: Period = Field(default=12, description="Fast EMA period.")
    slow: Period = Field(default=26, description="Slow EMA period.")
    signal: Period = Field(default=9, description="Signal line EMA period.")

    @model_validator(mode="after")
    def _fast_below_slow(self):
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
        return self

    @property
    def warmup(self) -> int:
        return (self.slow + self.signal) * 10

    def compute(self, candles: Candles):
        line, signal, hist = ind.macd(candles.close, self.fast, self.slow, self.signal)
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

        return (
            buy,
            sell,
            confidence,
            {"macd": line, "macd_signal": signal, "macd_hist": hist},
            explain,
        )


class BollingerBreakout(ConfigModel):
    """BUY when the close breaks above the upper band, SELL when it falls back below the middle."""

    name: Literal["bollinger_breakout"] = "bollinger_breakout"
    period: Period = Field(default=20, description="Bollinger period, in candles.")
    stddev: float = Field(
        default=2.0, gt=0, le=10, description="Band width in standard deviations."
    )

    @property
    def warmup(self) -> int:
        return self.period

    def compute(self, candles: Candles):
        close = candles.close
        upper, middle, lower = ind.bollinger(close, self.period, self.stddev)
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

        return (
            buy,
            sell,
            confidence,
            {"bb_upper": upper, "bb_middle": middle, "bb_lower": lower, "percent_b": pct_b},
            explain,
        )


TechnicalSignal = Annotated[
    SmaCross | EmaCross | RsiReversal | MacdCross | BollingerBreakout,
    Field(discriminator="name"),
]
TECHNICAL_SIGNALS: dict[str, type[ConfigModel]] = {
    model.model_fields["name"].default: model
    for model in (SmaCross, EmaCross, RsiReversal, MacdCross, BollingerBreakout)
}


class TechnicalStrategy(Strategy):
    """A built-in technical signal, optionally filtered by a minimum confidence."""

    def __init__(self, signal: ConfigModel, min_confidence: float = 0.0) -> None:
        self.signal = signal
        self.name = signal.name  # type: ignore[attr-defined]
        self.min_confidence = float(min_confidence)

    @property
    def lookback(self) -> int:
        return int(self.signal.warmup) + 2  # type: ignore[attr-defined]

    def series(self, candles: Candles) -> SignalSeries:
        buy, sell, confidence, shown, explain = self.signal.compute(candles)  # type: ignore[attr-defined]
        raw = _codes(buy, sell)
        action = apply_min_confidence(raw, confidence, self.min_confidence)

        def reason(i: int) -> str:
            text = explain(i)
            if raw[i] != action[i]:
                text += f" Ignored: confidence {confidence[i]:.1f} is below the minimum {self.min_confidence:g}."
            return text

        return SignalSeries(action, confidence, shown, reason)
