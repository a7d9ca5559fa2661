"""Replay a strategy over candles: the semantics are in docs/backtest.md.

Both modes run the same per-candle step (fill what was decided at the previous close, apply
the exit rules, act on this close's decision). ``bar`` asks the strategy for a decision on every
candle with the history up to it, as the live engine does; ``fast`` takes the whole signal
series at once and visits only the candles where something can happen: a relevant signal, the
candle after one, or a candle whose range leaves the position's quiet band (the price band in
which the exit rules provably change nothing). The two give the same trades; a test proves it.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any, Literal

import numpy as np

from core.backtest.account import MONEY, PCT, ZERO, Account, Trade
from core.backtest.metrics import (
    EquityEvents,
    equity_curve,
    max_drawdown_pct,
    profit_factor,
    sharpe,
    win_rate_pct,
)
from core.errors import InvalidInput
from core.strategies.base import BUY, HOLD, SELL, Action, Strategy
from core.strategies.candles import (
    Candles,
    decimals,
    ms_to_datetime,
    timeframe_seconds,
    to_decimal,
)
from core.strategies.risk import (
    Bar,
    ExitReason,
    ExitState,
    RiskSettings,
    entry_block,
    entry_budget,
    evaluate,
    open_state,
    quiet_band,
)

Mode = Literal["fast", "bar"]
Progress = Callable[[int, int], None]
_CODES = {Action.BUY: BUY, Action.SELL: SELL, Action.HOLD: HOLD}
_EPS = 1e-9  # the float pre-check is widened by this so it never misses a candle


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
class OpenPosition:
    entry_ms: int
    entry_price: Decimal
    quantity: Decimal  # still held
    last_price: Decimal
    value: Decimal  # quantity × last close
    unrealized_pnl: Decimal  # value + proceeds of partial exits − entry cost


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

    def as_json(self) -> dict[str, Any]:
        """The report as JSON types: money and ratios as decimal strings, times in ISO 8601."""
        return {
            "strategy": self.strategy,
            "mode": self.mode,
            "timeframe": self.timeframe,
            "candles": self.candles,
            "start": _iso(self.start_ms),
            "end": _iso(self.end_ms),
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
            "open_trade": None
            if self.open_trade is None
            else {
                "entry_time": _iso(self.open_trade.entry_ms),
                "entry_price": _s(self.open_trade.entry_price),
                "quantity": _s(self.open_trade.quantity),
                "last_price": _s(self.open_trade.last_price),
                "value": _s(self.open_trade.value),
                "unrealized_pnl": _s(self.open_trade.unrealized_pnl),
            },
            "trade_list": [
                {
                    "entry_time": _iso(t.entry_ms),
                    "entry_price": _s(t.entry_price),
                    "exit_time": _iso(t.exit_ms),
                    "exit_price": _s(t.exit_price),
                    "quantity": _s(t.quantity),
                    "pnl": _s(t.pnl),
                    "pnl_pct": _s(t.pnl_pct),
                    "fees": _s(t.fees),
                    "exit_reason": t.exit_reason,
                    "exits": t.exits,
                }
                for t in self.trade_list
            ],
            "execution_time_ms": self.elapsed_ms,
        }


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(ms: int | None) -> str | None:
    return None if ms is None else ms_to_datetime(ms).isoformat().replace("+00:00", "Z")


class _Simulation:
    """The per-candle step shared by both modes."""

    def __init__(self, candles: Candles, settings: BacktestSettings) -> None:
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
        self.pending = HOLD
        self.events = EquityEvents([], [], [])
        self.realized_by_day: dict[int, Decimal] = {}
        self.last_loss_ms: int | None = None

    def step(self, i: int, action: int) -> None:
        c, account = self.c, self.account
        ms = int(c.ts[i])
        changed = False
        if self.pending == BUY:
            self.pending = HOLD
            price = to_decimal(c.open[i])
            budget = entry_budget(self.risk, account.cash)
            quantity = account.buy(ms, price, budget) if budget > 0 else Decimal(0)
            if quantity > 0:
                changed = True
                if self.rules:
                    self.state = open_state(self.risk, price, quantity, ms_to_datetime(ms))
        elif self.pending == SELL:
            self.pending = HOLD
            if account.held > 0:
                changed = True
                self._closed(account.sell_all(ms, to_decimal(c.open[i]), ExitReason.SIGNAL))
        if self.state is not None and self.rules:
            bar = Bar(
                ms_to_datetime(ms),
                to_decimal(c.open[i]),
                to_decimal(c.high[i]),
                to_decimal(c.low[i]),
                to_decimal(c.close[i]),
            )
            outcome = evaluate(self.risk, self.state, bar)
            for fill in outcome.fills:
                changed = True
                self._closed(account.apply(ms, fill))
            if self.state is not None:
                self.state = outcome.state
        if i + 1 < self.n:  # a decision on the last close has no next open to fill at
            if action == BUY and account.held == 0:
                if not self.limits or self._entry_allowed(ms + self.tf_ms):
                    self.pending = BUY
            elif action == SELL and account.held > 0:
                self.pending = SELL
        if changed:
            self.events.bars.append(i)
            self.events.cash.append(account.cash)
            self.events.held.append(account.held)

    def _entry_allowed(self, now_ms: int) -> bool:
        blocked = entry_block(
            self.risk,
            open_positions=0,
            realized_today=self.realized_by_day.get(now_ms // 86_400_000, Decimal(0)),
            last_loss_at=None if self.last_loss_ms is None else ms_to_datetime(self.last_loss_ms),
            now=ms_to_datetime(now_ms),
        )
        return blocked is None

    def _closed(self, trade: Trade | None) -> None:
        if trade is None:
            return
        self.state = None
        day = trade.exit_ms // 86_400_000
        self.realized_by_day[day] = self.realized_by_day.get(day, Decimal(0)) + trade.pnl
        if trade.pnl < 0:
            self.last_loss_ms = trade.exit_ms

    def next_candle(self, j: int, buys: list[int], sells: list[int]) -> int:
        """The first candle from ``j`` on where the step can do anything."""
        if j >= self.n or self.pending != HOLD:
            return j
        if self.account.held == 0:
            return _next(buys, j, self.n)
        limit = _next(sells, j, self.n)
        if self.state is None or not self.rules:
            return limit
        band = quiet_band(self.risk, self.state)
        if band.deadline is not None:
            due = int(np.searchsorted(self.c.ts, int(band.deadline.timestamp() * 1000), "left"))
            limit = min(limit, max(due, j))
        lower = -math.inf if band.lower is None else float(band.lower) * (1 + _EPS)
        upper = float(band.upper) * (1 - _EPS)
        low, high = self.c.low, self.c.high
        size, pos = 64, j
        while pos < limit:
            end = min(limit, pos + size)
            hit = (low[pos:end] <= lower) | (high[pos:end] >= upper)
            if hit.any():
                return pos + int(np.argmax(hit))
            pos, size = end, min(size * 2, 1 << 16)
        return limit

    def replay_signals(self, buys: list[int], sells: list[int], progress: Progress | None) -> int:
        """The fast path without exit rules or entry limits: only signals decide, so the fills
        are each entry signal's next open and then the next exit signal's next open. Makes the
        same fills as ``step``; returns the candle to go on from with ``step`` (``n`` if done,
        earlier only if an entry could not be bought, which ``step`` then handles)."""
        n, last = self.n, self.n - 1
        entries, exits = _alternate(
            np.asarray(buys, dtype=np.int64), np.asarray(sells, dtype=np.int64), last
        )
        bars = np.concatenate([entries, exits])
        stamps = self.c.ts[bars].tolist()
        prices = decimals(self.c.open[bars])
        m = len(entries)
        account, risk = self.account, self.risk
        bars_out, cash_out, held_out = self.events.bars, self.events.cash, self.events.held
        buy, sell, reason = account.buy, account.sell, str(ExitReason.SIGNAL)
        every, reported = max(1, m // 100), 0
        exits = exits.tolist()
        closes = len(exits)
        for j, e in enumerate(entries.tolist()):
            budget = entry_budget(risk, account.cash)
            if budget <= 0 or buy(stamps[j], prices[j], budget) <= 0:
                return e  # nothing bought: let the general step take it from here
            bars_out.append(e)
            cash_out.append(account.cash)
            held_out.append(account.held)
            if j < closes:
                sell(stamps[m + j], account.held, prices[m + j], reason)
                bars_out.append(exits[j])
                cash_out.append(account.cash)
                held_out.append(ZERO)
            if progress is not None and j - reported >= every:
                progress(e, n)
                reported = j
        return n


def _alternate(buys: np.ndarray, sells: np.ndarray, last: int) -> tuple[np.ndarray, np.ndarray]:
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


def run(
    strategy: Strategy,
    candles: Candles,
    settings: BacktestSettings,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` over ``candles``."""
    started = time.perf_counter()
    n = len(candles)
    if n < 2:
        raise InvalidInput("A backtest needs at least 2 candles.", field="candles")
    every = max(1, n // 100)
    with localcontext() as ctx:
        ctx.prec = 60  # quantity × price products stay exact
        sim = _Simulation(candles, settings)
        if settings.mode == "bar":
            for i in range(n):
                decision = strategy.decide(candles[: i + 1])
                sim.step(i, _CODES[decision.signal])
                if progress is not None and (i + 1) % every == 0:
                    progress(i + 1, n)
        else:
            action = strategy.series(candles).action
            buys = np.flatnonzero(action == BUY).tolist()
            sells = np.flatnonzero(action == SELL).tolist()
            start = 0
            if not sim.rules and not sim.limits:
                start = sim.replay_signals(buys, sells, progress)
            i = n if start >= n else sim.next_candle(start, buys, sells)
            reported = 0
            while i < n:
                sim.step(i, int(action[i]))
                if progress is not None and i - reported >= every:
                    progress(i, n)
                    reported = i
                i = sim.next_candle(i + 1, buys, sells)
        if progress is not None:
            progress(n, n)
        result = _report(strategy, candles, settings, sim, started)
    return result


def _report(strategy, candles, settings, sim: _Simulation, started: float) -> BacktestResult:
    account, initial = sim.account, settings.cash
    last_close = to_decimal(candles.close[-1])
    open_trade = None
    if account.trade is not None:
        t = account.trade
        value = account.held * last_close
        open_trade = OpenPosition(
            t.entry_ms,
            t.entry_price,
            account.held,
            last_close,
            value.quantize(MONEY),
            (value + t.proceeds - t.cost).quantize(MONEY),
        )
    final = account.cash + account.held * last_close
    curve = equity_curve(candles, sim.events, initial)
    trades = account.trades
    fees = sum((t.fees for t in trades), Decimal(0)) + (account.trade.fees if account.trade else 0)
    return BacktestResult(
        strategy=strategy.name,
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
        win_rate_pct=win_rate_pct(trades),
        max_drawdown_pct=max_drawdown_pct(candles, sim.events, initial, curve),
        sharpe=sharpe(curve, timeframe_seconds(settings.timeframe)),
        profit_factor=profit_factor(trades),
        fees_paid=fees.quantize(MONEY),
        open_trade=open_trade,
        trade_list=tuple(trades),
        elapsed_ms=round((time.perf_counter() - started) * 1000),
    )
