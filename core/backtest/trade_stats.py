"""Figures over the closed trades of a report: expectancy, durations, best and worst trade.

Formulas in docs/backtest.md; every figure is null without a closed trade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.backtest.account import MONEY, Trade
from core.backtest.metrics import TradeTotals


@dataclass(frozen=True, slots=True)
class TradeStats:
    expectancy: Decimal | None  # mean P&L per closed trade, quote currency
    avg_duration_s: int | None  # entry fill to exit fill, seconds (rounded)
    max_duration_s: int | None
    best_trade_pct: Decimal | None  # the highest pnl_pct of a closed trade
    worst_trade_pct: Decimal | None

    @classmethod
    def of(cls, trades: Sequence[Trade], totals: TradeTotals) -> TradeStats:
        if not trades:
            return cls(None, None, None, None, None)
        net = totals.gains - totals.losses  # Σ P&L, already summed for the profit factor
        durations = [t.exit_ms - t.entry_ms for t in trades]
        pcts = [t.pnl_pct for t in trades]
        return cls(
            expectancy=(net / len(trades)).quantize(MONEY),
            avg_duration_s=round(sum(durations) / len(durations) / 1000),
            max_duration_s=max(durations) // 1000,
            best_trade_pct=max(pcts),
            worst_trade_pct=min(pcts),
        )
