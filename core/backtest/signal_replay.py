"""Replaying a candle strategy (``signal`` and ``ai`` bots): BUY and SELL decisions on a close
fill at the next open.

``bar`` mode asks the strategy for a decision on every candle with the history up to it, as the
live engine does. ``fast`` mode takes the whole signal series at once and visits only the
candles where something can happen: a relevant signal, the candle after one, or a candle whose
range leaves the position's quiet band. Without exit rules, entry limits or per-bar hooks only
the signals decide, and the fills are replayed straight from them (``core.backtest.fast_replay``).

A strategy's per-bar hooks run here exactly as in the engine: ``position_size`` at the close
where an entry fires (its amount is spent at the next open), ``custom_exit`` at every close
while a position is open and no exit signal fires (the sale fills at the next open).
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from core.backtest.fast_replay import replay_signals
from core.backtest.metrics import TradeTotals
from core.backtest.simulation import Progress, Reporter, Simulation
from core.strategies.api import OpenTrade
from core.strategies.base import BUY, HOLD, SELL, Action, Strategy
from core.strategies.candles import Candles, ms_to_datetime, to_decimal
from core.strategies.risk import ExitReason, entry_budget, open_state

if TYPE_CHECKING:
    from core.backtest.runner import BacktestSettings

_CODES = {Action.BUY: BUY, Action.SELL: SELL, Action.HOLD: HOLD}


class SignalSimulation(Simulation):
    def __init__(self, strategy: Strategy, candles: Candles, settings: BacktestSettings) -> None:
        super().__init__(strategy.name, candles, settings)
        self.strategy = strategy
        self.pending = HOLD
        self.budget: Decimal | None = None  # what position_size chose for the pending entry
        self.exit_reason = ExitReason.SIGNAL  # of the pending sale
        self.hooked = strategy.has_exit_hook or strategy.has_size_hook
        self.replayed = (0, TradeTotals())  # trades made by the integer replay, and their sums

    def run(self, mode: str, progress: Progress | None) -> None:
        n, report = self.n, Reporter(progress, self.n)
        if mode == "bar":
            for i in range(n):
                decision = self.strategy.decide(self.c[: i + 1])
                self.act(i, _CODES[decision.signal])
                report(i + 1)
        else:
            action = self.strategy.series(self.c).action
            buy_at, sell_at = np.flatnonzero(action == BUY), np.flatnonzero(action == SELL)
            start = 0
            if not self.rules and not self.limits and not self.hooked:
                entries, exits = alternate(buy_at, sell_at, n - 1)
                start = replay_signals(self, entries, exits, report)
            i, buys, sells = n, [], []
            if start < n:
                buys, sells = buy_at.tolist(), sell_at.tolist()
                i = self.next_signal(start, buys, sells)
            while i < n:
                self.act(i, int(action[i]))
                report(i)
                i = self.next_signal(i + 1, buys, sells)
        report.finish()

    def act(self, i: int, action: int) -> None:
        """One candle: fill the pending order at the open, exit rules, then this close's
        decision (a decision on the last close has no next open to fill at)."""
        account = self.account
        ms = int(self.c.ts[i])
        changed = False
        if self.pending == BUY:
            self.pending = HOLD
            price = to_decimal(self.c.open[i])
            budget = entry_budget(self.risk, account.cash) if self.budget is None else self.budget
            self.budget = None
            if budget > 0 and account.buy(ms, price, budget) > 0:
                changed = True
                if self.rules:
                    self.state = open_state(self.risk, price, account.held, ms_to_datetime(ms))
        elif self.pending == SELL:
            self.pending = HOLD
            if account.held > 0:
                changed = True
                self.closed(account.sell_all(ms, to_decimal(self.c.open[i]), self.exit_reason))
        changed |= self.exit_rules(i)
        if i + 1 < self.n:
            if action == BUY and account.held == 0:
                if self.entry_allowed(self.at_close(i)):
                    self.enter_at_close(i)
            elif action == SELL and account.held > 0:
                self.pending, self.exit_reason = SELL, ExitReason.SIGNAL
            elif account.held > 0 and self.strategy.has_exit_hook:
                self.custom_exit(i)
        if changed:
            self.record(i)

    def enter_at_close(self, i: int) -> None:
        """An entry fires at the close of ``i``: sized by ``position_size`` if defined."""
        if not self.strategy.has_size_hook:
            self.pending = BUY
            return
        budget = entry_budget(self.risk, self.account.cash)  # the cash is the same at the fill
        amount = self.strategy.size_hook(self.c[: i + 1], budget)
        if amount > 0:
            self.pending, self.budget = BUY, amount

    def custom_exit(self, i: int) -> None:
        """Ask ``custom_exit`` at the close of ``i`` whether to sell at the next open."""
        lot = self.account.trade
        assert lot is not None
        trade = OpenTrade.at(
            lot.entry_price, lot.entry_ms, self.account.held, int(self.c.ts[i]), self.tf_ms
        )
        if self.strategy.exit_hook(self.c[: i + 1], trade) is not None:
            self.pending, self.exit_reason = SELL, ExitReason.CUSTOM_EXIT

    def next_signal(self, j: int, buys: list[int], sells: list[int]) -> int:
        """The first candle from ``j`` on where ``act`` can do anything."""
        if j >= self.n or self.pending != HOLD:
            return j
        if self.account.held == 0:
            return _next(buys, j, self.n)
        if self.strategy.has_exit_hook:
            return j  # custom_exit is asked at every close while a position is open
        return self.quiet_until(j, _next(sells, j, self.n))

    def totals(self) -> TradeTotals:
        covered, totals = self.replayed
        return totals + TradeTotals.of(self.trades[covered:])


def alternate(buys: np.ndarray, sells: np.ndarray, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill candles of the round trips signals alone make: the first BUY, then the first SELL
    after it, then the first BUY after that… (a signal on the last candle is never filled)."""
    index = np.concatenate([buys[buys < last], sells[sells < last]])
    side = np.concatenate(
        [np.ones((buys < last).sum(), np.int8), -np.ones((sells < last).sum(), np.int8)]
    )
    order = np.argsort(index, kind="stable")
    index, side = index[order], side[order]
    keep = np.ones(len(side), dtype=bool)
    keep[1:] = side[1:] != side[:-1]  # a repeated signal changes nothing
    index, side = index[keep], side[keep]
    if len(side) and side[0] == -1:
        index, side = index[1:], side[1:]  # a SELL while flat changes nothing
    return index[side == 1] + 1, index[side == -1] + 1


def _next(indices: list[int], j: int, n: int) -> int:
    k = bisect.bisect_left(indices, j)
    return indices[k] if k < len(indices) else n
