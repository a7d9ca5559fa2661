"""A backtest's candles folded for its report's chart, small enough to store with the report.

A million candles become ``CHART_BARS`` bars, each with the open of its first candle, the close
of its last and the extremes between (numpy ``reduceat``, so folding costs milliseconds). The
report keeps them as ``[open time ms, open, high, low, close]`` rows of decimal strings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.strategies.candles import Candles, to_decimal

CHART_BARS = 240


def chart_rows(candles: Candles, bars: int = CHART_BARS) -> list[list[Any]]:
    """``min(len(candles), bars)`` folded bars of ``candles``, oldest first."""
    n = len(candles)
    if n == 0:
        return []
    width = min(n, bars)
    starts = np.arange(width) * n // width  # groups as even as whole candles allow
    ends = np.append(starts[1:], n) - 1
    highs = np.maximum.reduceat(candles.high, starts)
    lows = np.minimum.reduceat(candles.low, starts)
    return [
        [
            int(candles.ts[s]),
            *(str(to_decimal(v)) for v in (candles.open[s], h, lo, candles.close[e])),
        ]
        for s, e, h, lo in zip(
            starts.tolist(), ends.tolist(), highs.tolist(), lows.tolist(), strict=True
        )
    ]
