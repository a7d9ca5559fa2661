"""Replaying a ``grid`` bot with the live bot's own orders (``core.strategies.grid``).

At the first candle's close the bot places ``initial_orders`` (buys on the levels below the
close). From the next candle on, a resting buy fills when a candle's low reaches its price, a
resting sell when the high reaches it; an order whose price the candle opened beyond fills at
the open (a buy at min(open, price), a sell at max(open, price)). Within one candle the sells
fill first (lowest level first), then the buys (highest level first, each only if the free cash
pays for it, fee included, and the entry limits allow it; otherwise it stays resting). Each fill
is re-armed with ``rearm`` — a filled buy at level k becomes a sell at k+1, a filled sell a buy
at k — and the new order rests from the next candle on (a candle's path between its high and
low is unknown, so nothing fills twice in one candle).

Every buy is a lot; its sell closes it as one trade (``GRID_SELL``). Lots still held at the end
are reported together as the open position. ``max_position_size`` caps what the held lots cost;
the exit rules (stop-loss, take-profit…) do not apply: each lot's exit is its sell order.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from core.backtest.account import (
    MONEY,
    QUANTITY_STEP,
    ZERO,
    Lot,
    OpenPosition,
    receive,
    significant,
    spend,
)
from core.backtest.simulation import Simulation, first_outside, widened
from core.errors import InvalidInput
from core.strategies.candles import Candles, to_decimal
from core.strategies.grid import GridBotConfig, GridOrder, initial_orders, rearm

if TYPE_CHECKING:
    from core.backtest.runner import BacktestSettings

GRID_SELL = "GRID_SELL"


class GridSimulation(Simulation):
    def __init__(self, config: GridBotConfig, candles: Candles, settings: BacktestSettings):
        if settings.risk.has_exit_rules:
            raise InvalidInput(
                "A grid bot leaves each lot with its own sell order one level up; stop-loss, "
                "take-profit, trailing and stale-trade rules don't apply to it. Remove them "
                "from the risk settings to backtest it.",
                field="risk_settings",
            )
        super().__init__("grid", candles, settings)
        self.config = config
        self.started = False
        self.resting: list[GridOrder] = []
        self.lots: dict[int, Lot] = {}  # by the level of the buy
        self.buy_bound = self.sell_bound = 0.0

    def step(self, i: int) -> None:
        if self.resting and self._fills(i):
            self.record(i)
        if not self.started:
            self.started = True
            self._rest(initial_orders(self.config, to_decimal(self.c.close[i])))

    def _fills(self, i: int) -> bool:
        c, account, fee = self.c, self.account, self.account.fee
        ms = int(c.ts[i])
        bar_open, low, high = to_decimal(c.open[i]), to_decimal(c.low[i]), to_decimal(c.high[i])
        sells = sorted(
            (o for o in self.resting if o.side == "SELL" and high >= o.price),
            key=lambda o: o.level,
        )
        buys = sorted(
            (o for o in self.resting if o.side == "BUY" and low <= o.price),
            key=lambda o: -o.level,
        )
        filled: list[GridOrder] = []
        for order in sells:
            lot = self.lots.pop(order.level - 1)
            price = max(bar_open, order.price)
            account.cash, gross, fee_paid = receive(account.cash, lot.quantity, price, fee)
            account.held -= lot.quantity
            lot.fees += fee_paid
            lot.exits = 1
            trade = lot.closed(ms, price, gross - fee_paid - lot.cost, GRID_SELL)
            account.trades.append(trade)
            self.closed(trade)
            filled.append(order)
        cap = self.risk.max_position_size
        for order in buys:
            if not self.entry_allowed(ms):
                break
            quantity = order.quantity.quantize(QUANTITY_STEP, rounding=ROUND_DOWN)
            price = min(bar_open, order.price)
            cash, notional, fee_paid = spend(account.cash, quantity, price, fee)
            if quantity <= 0 or cash < 0:
                continue  # stays resting until the cash is there
            if cap is not None and self._invested() + notional + fee_paid > cap:
                continue
            account.cash = cash
            account.held += quantity
            self.lots[order.level] = Lot(
                ms, price, quantity, notional + fee_paid, fee_paid, notional
            )
            filled.append(replace(order, quantity=quantity))
        if not filled:
            return False
        done = {(o.side, o.level) for o in filled}
        self._rest(
            [o for o in self.resting if (o.side, o.level) not in done]
            + [rearm(self.config, o) for o in filled]
        )
        return True

    def _rest(self, orders: list[GridOrder]) -> None:
        self.resting = orders
        buys = [o.price for o in orders if o.side == "BUY"]
        sells = [o.price for o in orders if o.side == "SELL"]
        self.buy_bound = widened(max(buys) if buys else None, below=True)
        self.sell_bound = widened(min(sells) if sells else None, below=False)

    def _invested(self) -> Decimal:
        return sum((lot.cost for lot in self.lots.values()), ZERO)

    def next_candle(self, j: int) -> int:
        if j >= self.n or not self.started:
            return j
        if not self.resting:
            return self.n
        c = self.c
        return first_outside(c.low, c.high, j, self.n, self.buy_bound, self.sell_bound)

    def open_position(self, last_close: Decimal) -> OpenPosition | None:
        if not self.lots:
            return None
        lots = list(self.lots.values())
        held = self.account.held
        entry = (
            lots[0].entry_price
            if len(lots) == 1
            else significant(sum((lot.bought_value for lot in lots), ZERO) / held)
        )
        value = held * last_close
        return OpenPosition(
            min(lot.entry_ms for lot in lots),
            entry,
            held,
            last_close,
            value.quantize(MONEY),
            (value - sum((lot.cost for lot in lots), ZERO)).quantize(MONEY),
        )

    def open_fees(self) -> Decimal:
        return sum((lot.fees for lot in self.lots.values()), ZERO)
