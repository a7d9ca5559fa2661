"""The per-candle equity of a backtest as a CSV file (``blockbotx backtest --equity-csv``).

One row per candle: its open time, its close, and the cash, held quantity and equity after it
closed (equity = cash + quantity × close). The amounts are exact decimals, as the simulation
kept them; they are the raw figures behind the report's drawdown, Sharpe and Sortino.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np

from core.backtest.metrics import EquityEvents, exact
from core.errors import InvalidInput
from core.strategies.candles import decimals, ms_to_datetime

HEADER = ("time", "close", "cash", "quantity", "equity")


@dataclass(frozen=True, slots=True)
class EquityPath:
    """What the per-candle equity is rebuilt from (no copy of the candles)."""

    ts: np.ndarray
    close: np.ndarray
    events: EquityEvents
    initial_cash: Decimal


def _plain(value: Decimal) -> str:
    """Fixed-point, never exponent notation; zero as 0."""
    return "0" if not value else f"{value:f}"


def check_target(path: str | Path) -> Path:
    """``path`` as a file to write, or InvalidInput (checked before a run, so a bad path costs
    nothing)."""
    target = Path(path)
    if target.is_dir() or not target.parent.is_dir():
        raise InvalidInput(
            f"Can't write the equity curve to {str(path)!r}: not a file in an existing folder.",
            field="equity_csv",
        )
    return target


def write_equity_csv(path: str | Path, equity: EquityPath) -> int:
    """Write the curve to ``path``; returns the number of candle rows."""
    target = check_target(path)
    closes = decimals(equity.close)
    bars = equity.events.bars
    cash, held = equity.initial_cash, Decimal(0)
    k = 0
    try:
        with target.open("w", newline="") as handle, localcontext() as ctx:
            ctx.prec = 60  # quantity × close stays exact, as in the backtest
            out = csv.writer(handle)
            out.writerow(HEADER)
            for i, (stamp, close) in enumerate(zip(equity.ts.tolist(), closes, strict=True)):
                while k < len(bars) and bars[k] <= i:  # the events of this candle
                    cash, held = exact(equity.events.cash[k]), exact(equity.events.held[k])
                    k += 1
                when = ms_to_datetime(stamp).isoformat().replace("+00:00", "Z")
                out.writerow((when, close, _plain(cash), _plain(held), _plain(cash + held * close)))
    except OSError as exc:
        raise InvalidInput(
            f"Can't write the equity curve to {str(path)!r}: {exc.strerror}.", field="equity_csv"
        ) from None
    return len(closes)
