"""What every bot type's replay shares: the candle loop of both modes, the account, the exit
rules on the held position, the entry limits and the equity events.

A simulation's ``step(i)`` is one candle: fill what was decided at the previous close (at this
open), apply the exit rules to this candle, then decide at this close. ``bar`` mode steps every
candle, exactly as the live engine sees them. ``fast`` mode steps only the candles
``next_candle`` names: it may skip a candle only when stepping it provably changes nothing
(nothing pending, no decision can fire at its close, its range stays inside the exit rules'
quiet band). So both modes make the same fills; the tests compare them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from core.backtest.account import MONEY, ZERO, Account, OpenPosition, Trade
from core.backtest.metrics import EquityEvents, TradeTotals
from core.strategies.candles import (
    Candles,
    datetime_to_ms,
    ms_to_datetime,
    timeframe_seconds,
    to_decimal,
)
from core.strategies.risk import Bar, ExitState, entry_block, evaluate, quiet_band

if TYPE_CHECKING:
    from core.backtest.runner import BacktestSettings

Progress = Callable[[int, int], None]
EPS = 1e-9  # float pre-checks are widened by this so they never miss a candle
DAY_MS = 86_400_000


class Reporter:
    """Calls ``progress(done, total)`` about a hundred times over a run."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total = progress, total
        self.every, self.reported = max(1, total // 100), 0

    def __call__(self, done: int) -> None:
        if self.progress is not None and done - self.reported >= self.every:
            self.progress(done, self.total)
            self.reported = done

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


def first_outside(
    low: np.ndarray, high: np.ndarray, j: int, limit: int, lower: float, upper: float
) -> int:
    """The first candle in [j, limit) with ``low <= lower`` or ``high >= upper`` (else limit).
    Scans in growing chunks: events are usually near, and a far one costs few numpy calls."""
    if j < limit and (low[j] <= lower or high[j] >= upper):
        return j  # the next candle: common where events are dense
    size, pos = 32, j + 1
    while pos < limit:
        end = min(limit, pos + size)
        hit = (low[pos:end] <= lower) | (high[pos:end] >= upper)
        if hit.any():
            return pos + int(np.argmax(hit))
        pos, size = end, min(size * 4, 1 << 16)
    return limit


def widened(level: Decimal | None, *, below: bool) -> float:
    """A Decimal level as a float pre-check threshold that errs towards looking."""
    if level is None:
        return -math.inf if below else math.inf
    return float(level) * (1 + EPS) if below else float(level) * (1 - EPS)


class Simulation:
    """One long-only position in an ``Account``, with exit rules and entry limits."""

    def __init__(self, name: str, candles: Candles, settings: BacktestSettings) -> None:
        self.name = name
        self.c = candles
        self.n = len(candles)
        self.risk = settings.risk
        self.rules = settings.risk.has_exit_rules
        self.limits = (
            settings.risk.max_daily_loss is not None
            or settings.risk.cooldown_after_loss_minutes > 0
        )
        self.tf_ms = timeframe_seconds(settings.timeframe) * 1000
        self.account = Account(settings.cash, settings.fee)
        self.state: ExitState | None = None
        self.events = EquityEvents([], [], [])
        self.realized_by_day: dict[int, Decimal] = {}
        self.last_loss_ms: int | None = None
        self._stamps: list[int] | None = None

    # -- the loop ---------------------------------------------------------------------------

    def run(self, mode: str, progress: Progress | None) -> None:
        report = Reporter(progress, self.n)
        if mode == "bar":
            for i in range(self.n):
                self.step(i)
                report(i + 1)
        else:
            i = self.next_candle(0)
            while i < self.n:
                self.step(i)
                report(i)
                i = self.next_candle(i + 1)
        report.finish()

    def step(self, i: int) -> None:
        raise NotImplementedError

    def next_candle(self, j: int) -> int:
        """The first candle from ``j`` on whose step may change anything."""
        return j

    # -- shared pieces ----------------------------------------------------------------------

    @property
    def cash(self) -> Decimal:
        return self.account.cash

    @property
    def held(self) -> Decimal:
        return self.account.held

    @property
    def trades(self) -> list[Trade]:
        return self.account.trades

    def record(self, i: int) -> None:
        """Cash and holdings changed on candle ``i`` (for the equity curve)."""
        self.events.bars.append(i)
        self.events.cash.append(self.cash)
        self.events.held.append(self.held)

    def bar(self, i: int) -> Bar:
        c = self.c
        return Bar(
            ms_to_datetime(int(c.ts[i])),
            to_decimal(c.open[i]),
            to_decimal(c.high[i]),
            to_decimal(c.low[i]),
            to_decimal(c.close[i]),
        )

    def exit_rules(self, i: int) -> bool:
        """Apply the exit rules to candle ``i``; True if anything was sold."""
        if self.state is None or not self.rules:
            return False
        outcome = evaluate(self.risk, self.state, self.bar(i))
        ms = int(self.c.ts[i])
        for fill in outcome.fills:
            self.closed(self.account.apply(ms, fill))
        if self.state is not None:
            self.state = outcome.state
        return bool(outcome.fills)

    def entry_allowed(self, now_ms: int) -> bool:
        """The daily-loss and cooldown-after-loss limits at ``now_ms``."""
        if not self.limits:
            return True
        blocked = entry_block(
            self.risk,
            open_positions=0,
            realized_today=self.realized_by_day.get(now_ms // DAY_MS, ZERO),
            last_loss_at=None if self.last_loss_ms is None else ms_to_datetime(self.last_loss_ms),
            now=ms_to_datetime(now_ms),
        )
        return blocked is None

    def closed(self, trade: Trade | None) -> None:
        if trade is None:
            return
        self.state = None
        day = trade.exit_ms // DAY_MS
        self.realized_by_day[day] = self.realized_by_day.get(day, ZERO) + trade.pnl
        if trade.pnl < 0:
            self.last_loss_ms = trade.exit_ms

    def quiet_until(self, j: int, limit: int) -> int:
        """The first candle in [j, limit) where the exit rules may act on the held position."""
        if self.state is None or not self.rules or j >= limit:
            return limit
        band = quiet_band(self.risk, self.state)
        if band.deadline is not None:
            due = self.closing_at(datetime_to_ms(band.deadline) + self.tf_ms)  # opening at or after
            limit = min(limit, max(due, j))
        return first_outside(
            self.c.low,
            self.c.high,
            j,
            limit,
            widened(band.lower, below=True),
            widened(band.upper, below=False),
        )

    def closing_at(self, moment_ms: int) -> int:
        """The first candle that closes at or after ``moment_ms`` (``n`` if none)."""
        if self._stamps is None:
            self._stamps = self.c.ts.tolist()
        return bisect.bisect_left(self._stamps, moment_ms - self.tf_ms)

    def at_close(self, i: int) -> int:
        """The moment candle ``i`` closes (when a decision on it is made), in epoch ms."""
        return int(self.c.ts[i]) + self.tf_ms

    # -- the report -------------------------------------------------------------------------

    def open_position(self, last_close: Decimal) -> OpenPosition | None:
        trade = self.account.trade
        if trade is None:
            return None
        value = self.held * last_close
        return OpenPosition(
            trade.entry_ms,
            trade.reported_entry,
            self.held,
            last_close,
            value.quantize(MONEY),
            (value + trade.proceeds - trade.cost).quantize(MONEY),
        )

    def totals(self) -> TradeTotals:
        return TradeTotals.of(self.trades)

    def open_fees(self) -> Decimal:
        return ZERO if self.account.trade is None else self.account.trade.fees
