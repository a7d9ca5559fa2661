"""What every strategy returns, and the one interface the engine and the backtester call.

A strategy writes its logic once, over whole arrays (``series``): the signal at candle ``i``
may use candles ``0..i`` only. ``decide`` (what the live engine calls on a window of candles)
is by default the last element of that series, so live decisions, the backtester's bar-by-bar
mode and its fast mode cannot drift apart.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np

from core.strategies.candles import Candles

BUY, HOLD, SELL = 1, 0, -1
"""Signal codes in the int8 action arrays."""


class Action(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


_ACTIONS = {BUY: Action.BUY, SELL: Action.SELL, HOLD: Action.HOLD}


def confidence_decimal(value: float) -> Decimal:
    """A 0–100 float score as a Decimal with two places (0 for NaN)."""
    if not math.isfinite(value):
        return Decimal("0.00")
    return Decimal(f"{min(100.0, max(0.0, value)):.2f}")


def json_number(value: float) -> float | None:
    """An indicator value fit for a JSON column: rounded, ``None`` for NaN/inf."""
    value = float(value)
    return round(value, 8) if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class Decision:
    signal: Action
    confidence: Decimal
    reason: str
    indicators: dict[str, float | str | None] = field(default_factory=dict)


def hold(reason: str, indicators: dict[str, float | str | None] | None = None) -> Decision:
    return Decision(Action.HOLD, Decimal("0.00"), reason, indicators or {})


@dataclass(frozen=True, slots=True, eq=False)
class SignalSeries:
    """A strategy's decisions for every candle of a history, as arrays.

    ``action`` holds BUY/SELL/HOLD codes (int8), ``confidence`` 0–100 floats, ``indicators``
    the named arrays shown with a decision, and ``explain(i)`` the readable reason at ``i``.
    """

    action: np.ndarray
    confidence: np.ndarray
    indicators: Mapping[str, np.ndarray]
    explain: Callable[[int], str]

    def decision(self, i: int) -> Decision:
        i = i if i >= 0 else len(self.action) + i
        return Decision(
            _ACTIONS[int(self.action[i])],
            confidence_decimal(float(self.confidence[i])) if self.action[i] else Decimal("0.00"),
            self.explain(i),
            {name: json_number(values[i]) for name, values in self.indicators.items()},
        )


class Strategy(ABC):
    """A trading rule over one symbol's candles."""

    name: str = "strategy"

    @property
    @abstractmethod
    def lookback(self) -> int:
        """How many candles a live decision needs (warm-up included)."""

    @abstractmethod
    def series(self, candles: Candles) -> SignalSeries:
        """Decisions for every candle; element ``i`` uses candles ``0..i`` only."""

    has_exit_hook: bool = False
    """Whether ``exit_hook`` may sell an open position (a strategy's ``custom_exit``)."""
    has_size_hook: bool = False
    """Whether ``size_hook`` sizes entries (a strategy's ``position_size``)."""

    def exit_hook(self, window: Candles, trade: Any) -> str | None:
        """At the close of ``window[-1]`` with ``trade`` (an ``api.OpenTrade``) open: the reason
        to sell it at the next open, or None to hold."""
        return None

    def size_hook(self, window: Candles, budget: Decimal) -> Decimal:
        """At an entry on the close of ``window[-1]``: the quote amount to spend (≤ budget)."""
        return budget

    def decide(self, window: Candles, signals: Sequence[Any] = ()) -> Decision:
        """The decision on the last (closed) candle of ``window``. ``signals`` are external
        signals that arrived during that candle (only provider-following bots use them)."""
        if len(window) == 0:
            return hold("No candles yet.")
        return self.series(window).decision(len(window) - 1)


def apply_min_confidence(action: np.ndarray, confidence: np.ndarray, minimum: float) -> np.ndarray:
    """HOLD wherever a signal is weaker than the configured minimum confidence."""
    if minimum <= 0:
        return action
    out = action.copy()
    out[(action != HOLD) & ~(confidence >= minimum)] = HOLD
    return out
