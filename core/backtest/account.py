"""The backtest's money: one long-only spot account, in Decimal.

Entry: spend the entry budget B (all free cash unless ``max_position_size`` caps it) at price P
with fee rate f: quantity = B / (P × (1 + f)) rounded down to 18 decimals; the fee is
quantity × P × f. An exit of quantity q at price X receives q × X × (1 − f).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from core.strategies.risk import ExitFill, ExitReason

QUANTITY_STEP = Decimal("1e-18")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Trade:
    """A round trip, from the entry to the fill that emptied the position."""

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
        quantity = (budget / (price * (1 + self.fee))).quantize(QUANTITY_STEP, rounding=ROUND_DOWN)
        if quantity <= 0:
            return ZERO
        notional = quantity * price
        fee = notional * self.fee
        self.cash -= notional + fee
        self.held = quantity
        self.trade = OpenTrade(ms, price, quantity, notional + fee, fee)
        return quantity

    def sell(self, ms: int, quantity: Decimal, price: Decimal, reason: str) -> Trade | None:
        """Sell part or all of the position; returns the trade if this closed it."""
        trade = self.trade
        assert trade is not None and 0 < quantity <= self.held
        gross = quantity * price
        fee = gross * self.fee
        self.cash += gross - fee
        self.held -= quantity
        trade.proceeds += gross - fee
        trade.fees += fee
        trade.sold += quantity
        trade.sold_value += gross
        trade.exits += 1
        if self.held > 0:
            return None
        pnl = trade.proceeds - trade.cost
        closed = Trade(
            entry_ms=trade.entry_ms,
            entry_price=trade.entry_price,
            quantity=trade.quantity,
            exit_ms=ms,
            exit_price=trade.sold_value / trade.sold,
            pnl=pnl,
            pnl_pct=pnl / trade.cost * 100,
            fees=trade.fees,
            exit_reason=reason,
            exits=trade.exits,
        )
        self.trades.append(closed)
        self.trade = None
        return closed

    def apply(self, ms: int, fill: ExitFill) -> Trade | None:
        return self.sell(ms, fill.quantity, fill.price, str(fill.reason))

    def sell_all(self, ms: int, price: Decimal, reason: ExitReason) -> Trade | None:
        return self.sell(ms, self.held, price, str(reason))
