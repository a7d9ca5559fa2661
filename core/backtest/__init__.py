"""The backtester: the same strategy code as live, replayed over historical candles."""

from core.backtest.runner import BacktestResult, BacktestSettings, run

__all__ = ["BacktestResult", "BacktestSettings", "run"]
