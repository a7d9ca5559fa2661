"""The backtest's money: one long-only spot account, in Decimal.

Entry: spend the entry budget B (all free cash unless ``max_position_size`` caps it) at price P
with fee rate f: quantity = B / (P × (1 + f)) rounded down to 18 decimals; the fee is
quantity × P × f. An exit of quantity q at price X receives q × X × (1 − f).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import NamedTuple

from core.strategies.risk import ExitFill, ExitReason

QUANTITY_STEP = Decimal("1e-18")
MONEY = Decimal("0.00000001")
PCT = Decimal("0.0001")
ZERO = Decimal(0)


def _significant(value: Decimal, digits: int = 20) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = digits
        return +value


class Trade(NamedTuple):
    """A round trip, from the entry to the fill that emptied the position.

    At report precision: money to 1e-8, percentages to 1e-4, the quantity as bought; the exit
    price is the fill price, or the quantity-weighted average (20 digits) over several fills.
    """

    entry_ms: int
    entry_price: Decimal
    quantity: Decimal
    exit_ms: int
    exit_price: Decimal  # quantity-weighted over the exit fills
    pnl: Decimal
    pnl_pct: Decimal
    fees: Decimal
    exit_reason: str
    exits: int  # number of exit fills (several with take-profit levels)


@dataclass(slots=True)
class OpenTrade:
    entry_ms: int
    entry_price: Decimal
    quantity: Decimal
    cost: Decimal  # quantity × price + entry fee
    fees: Decimal
    proceeds: Decimal = ZERO  # from partial exits, after fees
    sold: Decimal = ZERO
    sold_value: Decimal = ZERO  # Σ quantity × price of partial exits
    exits: int = 0


@dataclass(slots=True)
class Account:
    cash: Decimal
    fee: Decimal
    held: Decimal = ZERO
    trade: OpenTrade | None = None
    trades: list[Trade] = field(default_factory=list)

    def buy(self, ms: int, price: Decimal, budget: Decimal) -> Decimal:
        """Open a position; returns the quantity bought (0 if the budget buys nothing)."""
        quantity = (budget / (price + price * self.fee)).quantize(
            QUANTITY_STEP, rounding=ROUND_DOWN
        )
        if quantity <= 0:
            return ZERO
        notional = quantity * price
        fee = notional * self.fee
        # cash keeps 18 decimals (far below any currency's unit): exact sums, short numbers
        self.cash = (self.cash - notional - fee).quantize(QUANTITY_STEP)
        self.held = quantity
        self.trade = OpenTrade(ms, price, quantity, notional + fee, fee)
        return quantity

    def sell(self, ms: int, quantity: Decimal, price: Decimal, reason: str) -> Trade | None:
        """Sell part or all of the position; returns the trade if this closed it."""
        trade = self.trade
        assert trade is not None and 0 < quantity <= self.held
        gross = quantity * price
        fee = gross * self.fee
        self.cash = (self.cash + gross - fee).quantize(QUANTITY_STEP)
        trade.exits += 1
        trade.fees += fee
        if quantity == self.held and trade.exits == 1:  # the common case: one exit, all of it
            self.held = ZERO
            pnl = gross - fee - trade.cost
        else:
            self.held -= quantity
            trade.proceeds += gross - fee
            trade.sold += quantity
            trade.sold_value += gross
            if self.held > 0:
                return None
            pnl = trade.proceeds - trade.cost
        closed = Trade(
            trade.entry_ms,
            trade.entry_price,
            trade.quantity,
            ms,
            price if trade.exits == 1 else _significant(trade.sold_value / trade.sold),
            pnl.quantize(MONEY),
            (pnl / trade.cost * 100).quantize(PCT),
            trade.fees.quantize(MONEY),
            reason,
            trade.exits,
        )
        self.trades.append(closed)
        self.trade = None
        return closed

    def apply(self, ms: int, fill: ExitFill) -> Trade | None:
        return self.sell(ms, fill.quantity, fill.price, str(fill.reason))

    def sell_all(self, ms: int, price: Decimal, reason: ExitReason) -> Trade | None:
        return self.sell(ms, self.held, price, str(reason))
