"""Deterministic synthetic candles for strategy and backtest tests."""

import numpy as np

from core.strategies.candles import Candles

T0_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def random_walk(n: int, seed: int = 1, step_ms: int = 3_600_000, vol: float = 0.01) -> Candles:
    """Prices with two decimals (exact as Decimal), like a real 1h market."""
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, vol, n))), 2)
    open_ = np.r_[100.0, close[:-1]]
    high = np.round(np.maximum(open_, close) * (1 + rng.uniform(0, 0.006, n)), 2)
    low = np.round(np.minimum(open_, close) * (1 - rng.uniform(0, 0.006, n)), 2)
    volume = np.round(rng.lognormal(2, 0.5, n), 3)
    return Candles.from_arrays(T0_MS + np.arange(n) * step_ms, open_, high, low, close, volume)
