"""Run a backtest and build its report: the semantics are in docs/backtest.md.

Each bot type replays in its own simulation (``signal_replay``, ``dca``, ``grid``) on the shared
machinery of ``simulation``; every one has a ``bar`` mode (every candle, as live) and a ``fast``
mode that skips candles where provably nothing happens. The two give the same trades; tests
prove it for every type.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any, Literal

from core.backtest.account import MONEY, PCT, OpenPosition, Trade
from core.backtest.dca import DcaSimulation
from core.backtest.equity_export import EquityPath
from core.backtest.grid import GridSimulation
from core.backtest.metrics import (
    buy_and_hold_pct,
    cagr_pct,
    calmar,
    equity_curve,
    exposure_pct,
    max_drawdown_pct,
    profit_factor,
    sharpe,
    sortino,
    win_rate_pct,
)
from core.backtest.signal_replay import SignalSimulation
from core.backtest.simulation import Progress, Simulation
from core.backtest.trade_json import iso, trade_dicts
from core.backtest.trade_stats import TradeStats
from core.errors import InvalidInput
from core.strategies.base import Strategy
from core.strategies.candles import Candles, timeframe_seconds, to_decimal
from core.strategies.dca import DcaBotConfig
from core.strategies.grid import GridBotConfig
from core.strategies.risk import RiskSettings

Mode = Literal["fast", "bar"]
Subject = Strategy | DcaBotConfig | GridBotConfig
"""What a backtest replays: a candle strategy, or a DCA or grid bot's config."""


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    cash: Decimal
    fee: Decimal  # fee rate as a fraction: 0.002 = 0.2 %
    timeframe: str
    risk: RiskSettings = field(default_factory=RiskSettings)
    mode: Mode = "fast"

    def __post_init__(self) -> None:
        if not isinstance(self.cash, Decimal) or not self.cash.is_finite() or self.cash <= 0:
            raise InvalidInput("The starting cash must be a positive amount.", field="cash")
        if not isinstance(self.fee, Decimal) or not self.fee.is_finite() or not 0 <= self.fee < 1:
            raise InvalidInput(
                "The fee is a fraction of each fill, from 0 up to (not including) 1: "
                "0.002 means 0.2 %.",
                field="fee",
            )
        timeframe_seconds(self.timeframe)
        if self.mode not in ("fast", "bar"):
            raise InvalidInput("mode must be 'fast' or 'bar'.", field="mode")


@dataclass(frozen=True, slots=True)
class BacktestResult:
    strategy: str
    mode: Mode
    timeframe: str
    candles: int
    start_ms: int | None
    end_ms: int | None
    initial_cash: Decimal
    fee: Decimal
    final_equity: Decimal
    total_return_pct: Decimal
    trades: int
    win_rate_pct: Decimal | None
    max_drawdown_pct: Decimal
    sharpe: Decimal | None
    profit_factor: Decimal | None
    fees_paid: Decimal
    open_trade: OpenPosition | None
    trade_list: tuple[Trade, ...]
    elapsed_ms: int
    cagr_pct: Decimal | None
    sortino: Decimal | None
    calmar: Decimal | None
    exposure_pct: Decimal
    buy_and_hold_return_pct: Decimal
    trade_stats: TradeStats
    equity: EquityPath | None = field(default=None, repr=False, compare=False)
    """The per-candle equity, for ``--equity-csv`` (not part of the JSON report)."""

    def as_json(self, *, trade_list: bool = True) -> dict[str, Any]:
        """The report as JSON types: money and ratios as decimal strings, times in ISO 8601
        (``trade_list=False``: an empty trade list, for a caller that writes it itself)."""
        stats = self.trade_stats
        return {
            "strategy": self.strategy,
            "mode": self.mode,
            "timeframe": self.timeframe,
            "candles": self.candles,
            "start": iso(self.start_ms),
            "end": iso(self.end_ms),
            "initial_cash": _s(self.initial_cash),
            "fee": _s(self.fee),
            "final_equity": _s(self.final_equity),
            "total_return_pct": _s(self.total_return_pct),
            "trades": self.trades,
            "win_rate_pct": _s(self.win_rate_pct),
            "max_drawdown_pct": _s(self.max_drawdown_pct),
            "sharpe": _s(self.sharpe),
            "profit_factor": _s(self.profit_factor),
            "fees_paid": _s(self.fees_paid),
            "cagr_pct": _s(self.cagr_pct),
            "sortino": _s(self.sortino),
            "calmar": _s(self.calmar),
            "exposure_pct": _s(self.exposure_pct),
            "buy_and_hold_return_pct": _s(self.buy_and_hold_return_pct),
            "expectancy": _s(stats.expectancy),
            "avg_trade_duration_s": stats.avg_duration_s,
            "max_trade_duration_s": stats.max_duration_s,
            "best_trade_pct": _s(stats.best_trade_pct),
            "worst_trade_pct": _s(stats.worst_trade_pct),
            "open_trade": None
            if self.open_trade is None
            else {
                "entry_time": iso(self.open_trade.entry_ms),
                "entry_price": _s(self.open_trade.entry_price),
                "quantity": _s(self.open_trade.quantity),
                "last_price": _s(self.open_trade.last_price),
                "value": _s(self.open_trade.value),
                "unrealized_pnl": _s(self.open_trade.unrealized_pnl),
            },
            "trade_list": trade_dicts(self.trade_list) if trade_list else [],
            "execution_time_ms": self.elapsed_ms,
        }


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def run(
    subject: Subject,
    candles: Candles,
    settings: BacktestSettings,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest ``subject`` over ``candles``: a candle strategy (signal and ai bots), or a DCA
    or grid bot's config."""
    started = time.perf_counter()
    if len(candles) < 2:
        raise InvalidInput("A backtest needs at least 2 candles.", field="candles")
    with localcontext() as ctx:
        ctx.prec = 60  # quantity × price products stay exact
        sim = simulation(subject, candles, settings)
        sim.run(settings.mode, progress)
        result = _report(sim, candles, settings, started)
    return result


def simulation(subject: Subject, candles: Candles, settings: BacktestSettings) -> Simulation:
    if isinstance(subject, Strategy):
        return SignalSimulation(subject, candles, settings)
    if isinstance(subject, DcaBotConfig):
        return DcaSimulation(subject, candles, settings)
    if isinstance(subject, GridBotConfig):
        return GridSimulation(subject, candles, settings)
    raise TypeError(f"can't backtest a {type(subject).__name__}")


def _report(
    sim: Simulation, candles: Candles, settings: BacktestSettings, started: float
) -> BacktestResult:
    initial = settings.cash
    last_close = to_decimal(candles.close[-1])
    final = sim.cash + sim.held * last_close
    curve = equity_curve(candles, sim.events, initial)
    trades = sim.trades
    totals = sim.totals()
    fees = totals.fees + sim.open_fees()
    tf_seconds = timeframe_seconds(settings.timeframe)
    drawdown = max_drawdown_pct(candles, sim.events, initial, curve)
    cagr = cagr_pct(initial, final, len(candles), tf_seconds)
    return BacktestResult(
        strategy=sim.name,
        mode=settings.mode,
        timeframe=settings.timeframe,
        candles=len(candles),
        start_ms=int(candles.ts[0]),
        end_ms=int(candles.ts[-1]),
        initial_cash=initial,
        fee=settings.fee,
        final_equity=final.quantize(MONEY),
        total_return_pct=((final - initial) / initial * 100).quantize(PCT),
        trades=len(trades),
        win_rate_pct=win_rate_pct(totals),
        max_drawdown_pct=drawdown,
        sharpe=sharpe(curve, tf_seconds),
        profit_factor=profit_factor(totals),
        fees_paid=fees.quantize(MONEY),
        open_trade=sim.open_position(last_close),
        trade_list=tuple(trades),
        cagr_pct=cagr,
        sortino=sortino(curve, tf_seconds),
        calmar=calmar(cagr, drawdown),
        exposure_pct=exposure_pct(sim.events, len(candles)),
        buy_and_hold_return_pct=buy_and_hold_pct(candles),
        trade_stats=TradeStats.of(trades, totals),
        equity=EquityPath(candles.ts, candles.close, sim.events, initial),
        elapsed_ms=round((time.perf_counter() - started) * 1000),  # last: counts the figures
    )
