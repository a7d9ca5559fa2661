"""Replaying a ``dca`` bot with the live bot's own rule, ``core.strategies.dca.dca_order``.

At each close the rule sees the position (average entry, quantity held, buys so far, time of
the last buy, ladder levels bought) and the close; what it orders fills at the next open: a buy
spends the ordered quote amount (capped by free cash and by ``max_position_size`` minus what
the position already cost), a sale sells everything (``TAKE_PROFIT``). A buy while holding adds
to the position: the average entry becomes the average cost of what is held. The risk
settings' exit rules apply to the position as to any other (``add_to_position`` moves their
entry with each buy); the entry limits apply to the first buy of each cycle.

``fast`` mode skips a held candle only if its close is below the take-profit, above the next
ladder level (or before the cooldown ends), before the next scheduled buy, and inside the exit
rules' quiet band: then ``dca_order`` returns nothing and the exit rules do nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from core.backtest.account import ZERO
from core.backtest.simulation import Simulation, first_outside, widened
from core.strategies.candles import Candles, ms_to_datetime, to_decimal
from core.strategies.dca import HUNDRED, DcaBotConfig, DcaOrder, DcaPosition, dca_order
from core.strategies.risk import ExitReason, add_to_position, open_state

if TYPE_CHECKING:
    from core.backtest.runner import BacktestSettings

_INF = float("inf")


class DcaSimulation(Simulation):
    def __init__(self, config: DcaBotConfig, candles: Candles, settings: BacktestSettings):
        super().__init__("dca", candles, settings)
        self.config = config
        self.pending: DcaOrder | None = None
        self.buys = 0  # after the first (positions.dca_count)
        self.levels_done = 0
        self.last_buy_ms = 0
        self.cooldown_ms = config.cooldown_minutes * 60_000
        self.interval_ms = (
            None if config.interval_minutes is None else config.interval_minutes * 60_000
        )

    def position(self) -> DcaPosition | None:
        trade = self.account.trade
        if trade is None:
            return None
        return DcaPosition(
            trade.entry_price,
            self.account.held,
            self.buys,
            ms_to_datetime(self.last_buy_ms),
            self.levels_done,
        )

    def step(self, i: int) -> None:
        ms = int(self.c.ts[i])
        order, self.pending = self.pending, None
        changed = order is not None and self._fill(i, ms, order)
        changed |= self.exit_rules(i)
        if i + 1 < self.n:  # a decision on the last close has no next open to fill at
            now_ms = self.at_close(i)
            position = self.position()
            if position is not None or self.entry_allowed(now_ms):
                self.pending = dca_order(
                    self.config, position, to_decimal(self.c.close[i]), ms_to_datetime(now_ms)
                )
        if changed:
            self.record(i)

    def _fill(self, i: int, ms: int, order: DcaOrder) -> bool:
        account = self.account
        price = to_decimal(self.c.open[i])
        if order.side == "SELL":
            self.closed(account.sell_all(ms, price, ExitReason.TAKE_PROFIT))
            return True
        assert order.quote_amount is not None
        opening = account.trade is None
        budget = self._budget(order.quote_amount)
        quantity = account.buy(ms, price, budget) if budget > 0 else ZERO
        if quantity <= 0:
            return False
        if opening:
            self.buys = self.levels_done = 0
            if self.rules:
                self.state = open_state(self.risk, price, quantity, ms_to_datetime(ms))
        else:
            self.buys += 1
            if order.level is not None:
                self.levels_done = order.level + 1
            if self.state is not None:
                self.state = add_to_position(self.state, quantity, price)
        self.last_buy_ms = ms
        return True

    def _budget(self, amount: Decimal) -> Decimal:
        budget = min(amount, self.account.cash)
        cap = self.risk.max_position_size
        if cap is not None:
            trade = self.account.trade
            budget = min(budget, cap - (ZERO if trade is None else trade.cost))
        return budget

    def next_candle(self, j: int) -> int:
        n = self.n
        trade = self.account.trade
        if j >= n or self.pending is not None or trade is None:
            return j  # flat: the rule buys at once (unless an entry limit holds it back)
        config, close = self.config, self.c.close
        average = trade.entry_price
        limit = n
        if self.buys < config.max_buys and self._budget(Decimal(1)) > 0:  # else buys are no-ops
            if self.interval_ms is not None:
                due = self.closing_at(self.last_buy_ms + max(self.cooldown_ms, self.interval_ms))
                limit = max(due, j)
            if self.levels_done < len(config.levels):
                level = config.levels[self.levels_done]
                trigger = average * (1 - level.drop_percent / HUNDRED)
                start = max(self.closing_at(self.last_buy_ms + self.cooldown_ms), j)
                limit = first_outside(
                    close, close, start, limit, widened(trigger, below=True), _INF
                )
        target = average * (1 + config.take_profit_percent / HUNDRED)
        limit = first_outside(close, close, j, limit, -_INF, widened(target, below=False))
        return self.quiet_until(j, limit)
