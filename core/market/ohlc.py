"""Candles and trade marks as a chart draws them: many candles folded into a few bars, and each
trade placed on the bar whose time span holds it.

A terminal chart has one column per bar, so 1,000 candles on 90 columns become 90 bars, each the
open of its first candle, the close of its last, and the extremes between. Prices stay Decimal
here; only the drawing turns them into rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Literal, Protocol

Side = Literal["buy", "sell"]


class CandleLike(Protocol):
    @property
    def timestamp(self) -> datetime: ...
    @property
    def open(self) -> Decimal: ...
    @property
    def high(self) -> Decimal: ...
    @property
    def low(self) -> Decimal: ...
    @property
    def close(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class Bar:
    """One drawn column: ``start`` is its first candle's open time."""

    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    @property
    def rising(self) -> bool:
        return self.close >= self.open


@dataclass(frozen=True, slots=True)
class TradeMark:
    """An entry (buy) or exit (sell) to mark on the chart."""

    at: datetime
    side: Side
    price: Decimal


def fold(candles: Sequence[CandleLike], width: int) -> list[Bar]:
    """``candles`` (oldest first) in ``min(len(candles), width)`` bars of consecutive candles,
    the groups as even as whole candles allow, so the chart fills its width."""
    n = len(candles)
    if n == 0 or width <= 0:
        return []
    bars = min(n, width)
    edges = [i * n // bars for i in range(bars + 1)]
    out = []
    for lo, hi in pairwise(edges):
        group = candles[lo:hi]
        out.append(
            Bar(
                group[0].timestamp,
                group[0].open,
                max(c.high for c in group),
                min(c.low for c in group),
                group[-1].close,
            )
        )
    return out


def place_marks(bars: Sequence[Bar], marks: Sequence[TradeMark]) -> dict[int, set[Side]]:
    """For each bar index, the sides traded within its span (a mark before the first bar is
    dropped; one after the last bar's start belongs to the last bar)."""
    placed: dict[int, set[Side]] = {}
    if not bars:
        return placed
    starts = [b.start for b in bars]
    for mark in marks:
        if mark.at < starts[0]:
            continue
        lo, hi = 0, len(starts) - 1
        while lo < hi:  # the last bar starting at or before the mark
            mid = (lo + hi + 1) // 2
            if starts[mid] <= mark.at:
                lo = mid
            else:
                hi = mid - 1
        placed.setdefault(lo, set()).add(mark.side)
    return placed
