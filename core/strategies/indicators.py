"""Indicators on float64 arrays, via TA-Lib.

Every function is causal: element ``i`` depends only on inputs ``0..i``, and computing on a
prefix gives bit-for-bit the same values as computing on the whole array. That is what lets a
strategy decide bar by bar (as live) and over a whole history at once (the backtester) with the
same result. Warm-up elements are NaN.
"""

from __future__ import annotations

import sys
from types import ModuleType

import numpy as np


def _load_talib() -> ModuleType:
    """TA-Lib for numpy arrays, without the pandas and polars wrappers its package sets up when
    those libraries are installed: importing them for that costs every process seconds of
    start-up (``python -X importtime``), and candles are numpy arrays. A process that imported
    pandas or polars before keeps TA-Lib's wrappers for them."""
    if "talib" in sys.modules:
        return sys.modules["talib"]
    held = [name for name in ("pandas", "polars") if name not in sys.modules]
    for name in held:
        sys.modules[name] = None  # type: ignore[assignment]  # "not installed", for this import
    try:
        import talib
    finally:
        for name in held:
            if sys.modules.get(name) is None:
                sys.modules.pop(name, None)
    return talib


talib = _load_talib()


def sma(values: np.ndarray, period: int) -> np.ndarray:
    return talib.SMA(values, timeperiod=period)


def ema(values: np.ndarray, period: int) -> np.ndarray:
    return talib.EMA(values, timeperiod=period)


def rsi(values: np.ndarray, period: int) -> np.ndarray:
    return talib.RSI(values, timeperiod=period)


def macd(values: np.ndarray, fast: int, slow: int, signal: int):
    """``(macd, signal, histogram)``."""
    return talib.MACD(values, fastperiod=fast, slowperiod=slow, signalperiod=signal)


def bollinger(values: np.ndarray, period: int, stddev: float):
    """``(upper, middle, lower)`` bands."""
    return talib.BBANDS(
        values, timeperiod=period, nbdevup=stddev, nbdevdn=stddev, matype=talib.MA_Type.SMA
    )


def percent_b(values: np.ndarray, period: int, stddev: float) -> np.ndarray:
    """Bollinger %B: 0 at the lower band, 1 at the upper band (NaN when the bands are flat)."""
    upper, _middle, lower = bollinger(values, period, stddev)
    width = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(width > 0, (values - lower) / width, np.nan)


def returns(values: np.ndarray, period: int = 1) -> np.ndarray:
    """Simple return over ``period`` bars, as a fraction."""
    return talib.ROCR(values, timeperiod=period) - 1.0


def zscore(values: np.ndarray, period: int) -> np.ndarray:
    """How many standard deviations a value is from its rolling mean (0 when flat)."""
    mean = talib.SMA(values, timeperiod=period)
    std = talib.STDDEV(values, timeperiod=period, nbdev=1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0, (values - mean) / std, np.where(np.isnan(std), np.nan, 0.0))


def crossed_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """True where ``a`` goes from at or below ``b`` to above it (False where either is NaN)."""
    b = np.broadcast_to(b, a.shape)
    out = np.zeros(len(a), dtype=bool)
    if len(a) > 1:
        with np.errstate(invalid="ignore"):
            out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
    return out


def crossed_below(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """True where ``a`` goes from at or above ``b`` to below it (False where either is NaN)."""
    b = np.broadcast_to(b, a.shape)
    out = np.zeros(len(a), dtype=bool)
    if len(a) > 1:
        with np.errstate(invalid="ignore"):
            out[1:] = (a[1:] < b[1:]) & (a[:-1] >= b[:-1])
    return out


def rolling_min(values: np.ndarray, period: int) -> np.ndarray:
    return talib.MIN(values, timeperiod=period)


def rolling_max(values: np.ndarray, period: int) -> np.ndarray:
    return talib.MAX(values, timeperiod=period)
