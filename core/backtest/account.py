"""The backtest's money, in Decimal: one long-only spot position (added to by DCA buys), or the
separate lots of a grid (``Lot`` with ``spend`` / ``receive``).

A buy of budget B at price P with fee rate f: quantity q = B / (P × (1 + f)) rounded down to a
multiple of 1e-18 (an exact integer division, never rounded up); the fee is q × P × f. A sale of
quantity q at price X receives q × X × (1 − f). Cash is rounded half-even to 18 decimals after
every fill. Everything runs in the backtest's 60-digit context, where these products are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import NamedTuple

from core.strategies.risk import ExitFill, ExitReason

QUANTITY_STEP = Decimal("1e-18")
MONEY = Decimal("0.00000001")
PCT = Decimal("0.0001")
ZERO = Decimal(0)


def significant(value: Decimal, digits: int = 20) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = digits
        return +value


def entry_quantity(budget: Decimal, price: Decimal, fee: Decimal) -> Decimal:
    """The most quantity (a multiple of 1e-18) that ``budget`` buys with its fee, exactly."""
    return (budget.scaleb(18) // (price + price * fee)).scaleb(-18)


def spend(cash: Decimal, quantity: Decimal, price: Decimal, fee: Decimal):
    """Cash after buying ``quantity`` at ``price``, with the notional and the fee."""
    notional = quantity * price
    fee_paid = notional * fee
    # cash keeps 18 decimals (far below any currency's unit): exact sums, short numbers
    return (cash - notional - fee_paid).quantize(QUANTITY_STEP), notional, fee_paid


def receive(cash: Decimal, quantity: Decimal, price: Decimal, fee: Decimal):
    """Cash after selling ``quantity`` at ``price``, with the gross amount and the fee."""
    gross = quantity * price
    fee_paid = gross * fee
    return (cash + gross - fee_paid).quantize(QUANTITY_STEP), gross, fee_paid


class Trade(NamedTuple):
    """A round trip, from the (first) entry to the fill that emptied the position.

    At report precision: money to 1e-8, percentages to 1e-4, the quantity as bought; the entry
    and exit prices are the fill prices, or quantity-weighted averages (20 digits) over several
    buys (DCA) or exit fills (take-profit levels).
    """

    entry_ms: int
    entry_price: Decimal  # quantity-weighted over the buys
    quantity: Decimal
    exit_ms: int
    exit_price: Decimal  # quantity-weighted over the exit fills
    pnl: Decimal
    pnl_pct: Decimal
    fees: Decimal
    exit_reason: str
    exits: int  # number of exit fills (several with take-profit levels)
    entries: int = 1  # number of buys (several for a DCA bot)


@dataclass(slots=True)
class Lot:
    """An open position: what was bought, what it cost, what partial exits brought."""

    entry_ms: int
    entry_price: Decimal  # average entry of what is held (average cost, fees excluded)
    quantity: Decimal  # bought in total
    cost: Decimal  # Σ quantity × price + fees of the buys
    fees: Decimal
    bought_value: Decimal  # Σ quantity × price of the buys
    proceeds: Decimal = ZERO  # from partial exits, after fees
    sold: Decimal = ZERO
    sold_value: Decimal = ZERO  # Σ quantity × price of partial exits
    exits: int = 0
    entries: int = 1

    @property
    def reported_entry(self) -> Decimal:
        """The entry price a report shows: the fill price, or the buys' weighted average."""
        if self.entries == 1:
            return self.entry_price
        return significant(self.bought_value / self.quantity)

    def closed(self, ms: int, price: Decimal, pnl: Decimal, reason: str) -> Trade:
        return Trade(
            self.entry_ms,
            self.reported_entry,
            self.quantity,
            ms,
            price if self.exits == 1 else significant(self.sold_value / self.sold),
            pnl.quantize(MONEY),
            (pnl / self.cost * 100).quantize(PCT),
            self.fees.quantize(MONEY),
            reason,
            self.exits,
            self.entries,
        )


@dataclass(slots=True)
class Account:
    cash: Decimal
    fee: Decimal
    held: Decimal = ZERO
    trade: Lot | None = None
    trades: list[Trade] = field(default_factory=list)

    def buy(self, ms: int, price: Decimal, budget: Decimal) -> Decimal:
        """Open a position, or add to the open one (DCA: the entry becomes the average cost of
        what is held). Returns the quantity bought (0 if the budget buys nothing)."""
        quantity = entry_quantity(budget, price, self.fee)
        if quantity <= 0:
            return ZERO
        self.cash, notional, fee = spend(self.cash, quantity, price, self.fee)
        trade = self.trade
        if trade is None:
            self.held = quantity
            self.trade = Lot(ms, price, quantity, notional + fee, fee, notional)
            return quantity
        # the same average as core.strategies.risk.add_to_position, so the exit rules agree
        held = self.held + quantity
        trade.entry_price = (trade.entry_price * self.held + price * quantity) / held
        self.held = held
        trade.quantity += quantity
        trade.cost += notional + fee
        trade.fees += fee
        trade.bought_value += notional
        trade.entries += 1
        return quantity

    def sell(self, ms: int, quantity: Decimal, price: Decimal, reason: str) -> Trade | None:
        """Sell part or all of the position; returns the trade if this closed it."""
        trade = self.trade
        assert trade is not None and 0 < quantity <= self.held
        self.cash, gross, fee = receive(self.cash, quantity, price, self.fee)
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
        closed = trade.closed(ms, price, pnl, reason)
        self.trades.append(closed)
        self.trade = None
        return closed

    def apply(self, ms: int, fill: ExitFill) -> Trade | None:
        return self.sell(ms, fill.quantity, fill.price, str(fill.reason))

    def sell_all(self, ms: int, price: Decimal, reason: ExitReason) -> Trade | None:
        return self.sell(ms, self.held, price, str(reason))


@dataclass(frozen=True, slots=True)
class OpenPosition:
    """What is still held at the end of a backtest, valued at the last close."""

    entry_ms: int
    entry_price: Decimal
    quantity: Decimal  # still held
    last_price: Decimal
    value: Decimal  # quantity × last close
    unrealized_pnl: Decimal  # value + proceeds of partial exits − entry cost
