"""The ledger's arithmetic, pure and exact (Decimal): average cost basis, realized P&L, fees.

Definitions (docs/ledger.md says the same, in words):

- a position *holds* ``quantity`` of the base asset whose *cost basis* is what was paid for it
  (quantity x fill price, fees excluded);
- a sale of ``q`` out of ``held`` removes ``basis x q / held`` of cost (the average cost basis),
  rounded to ``COST_QUANTUM``; the last sale removes exactly what is left, so nothing drifts;
- *realized P&L* of a sale = ``q x price - cost removed`` (before fees);
- *unrealized P&L* = ``held x mark price - cost basis`` (before fees);
- *fees* are every fee of the position valued in the quote currency; a fee charged in the base
  asset is valued at its fill's price and comes out of the quantity held;
- *net P&L* (``positions.profit_loss``) = realized - fees.

So for a wallet, exactly: cash + market value of open positions
= starting cash + realized P&L + unrealized P&L - fees.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, localcontext

from core.errors import InvalidInput
from core.market.types import MONEY_CONTEXT

COST_QUANTUM = Decimal("1e-18")
PERCENT_QUANTUM = Decimal("1e-8")
STORED_PLACES = 30  # NUMERIC(65, 30)
STORED_INTEGER_DIGITS = 35
ZERO = Decimal(0)

# Enough digits that no product or quotient below is ever rounded by the context itself.
CONTEXT = MONEY_CONTEXT


def storable(value: Decimal, what: str) -> Decimal:
    """``value`` if NUMERIC(65, 30) stores it exactly; otherwise a clear error (never rounding)."""
    if not value.is_finite():
        raise InvalidInput(f"{what} must be a finite number.", field=what)
    _sign, digits, exponent = value.normalize(CONTEXT).as_tuple()
    assert isinstance(exponent, int)
    places = max(0, -exponent)
    integer_digits = max(0, len(digits) + exponent)
    if places > STORED_PLACES or integer_digits > STORED_INTEGER_DIGITS:
        raise InvalidInput(
            f"{what} {value} has more digits than the ledger stores exactly.", field=what
        )
    return value


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """``part / whole x 100`` to 8 places (half away from zero, as PostgreSQL's ``round``)."""
    if not whole:
        return ZERO
    with localcontext(CONTEXT):
        return (part / whole * 100).quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Holding:
    """One position's accounting state; every field is exact."""

    quantity: Decimal = ZERO  # held now (positions.remaining_quantity)
    cost_basis: Decimal = ZERO  # cost of what is held (positions.cost_basis)
    bought: Decimal = ZERO  # total quantity ever bought (positions.quantity)
    invested: Decimal = ZERO  # total cost of every buy (positions.total_invested)
    realized: Decimal = ZERO  # realized P&L before fees (positions.realized_pnl)
    fees: Decimal = ZERO  # fees in the quote currency (positions.fees_paid)

    @property
    def is_closed(self) -> bool:
        return self.quantity == 0 and self.bought > 0

    @property
    def net_pnl(self) -> Decimal:
        return self.realized - self.fees

    def average_price(self) -> Decimal:
        """Average entry price of what is held (display only; the basis is what counts)."""
        if not self.quantity:
            return ZERO
        with localcontext(CONTEXT):
            return (self.cost_basis / self.quantity).quantize(COST_QUANTUM)

    def unrealized(self, mark: Decimal) -> Decimal:
        with localcontext(CONTEXT):
            return self.quantity * mark - self.cost_basis

    def buy(
        self,
        quantity: Decimal,
        price: Decimal,
        *,
        fee_quote: Decimal = ZERO,
        fee_base: Decimal = ZERO,
    ) -> Holding:
        """Buy ``quantity`` at ``price``. A base-asset fee is taken from what is received."""
        if quantity <= 0 or price <= 0 or fee_quote < 0 or fee_base < 0 or fee_base >= quantity:
            raise InvalidInput("A buy needs a positive quantity and price and a smaller fee.")
        with localcontext(CONTEXT):
            received = quantity - fee_base
            return replace(
                self,
                quantity=self.quantity + received,
                cost_basis=self.cost_basis + received * price,
                bought=self.bought + quantity,
                invested=self.invested + quantity * price,
                fees=self.fees + fee_quote + fee_base * price,
            )

    def sell(
        self,
        quantity: Decimal,
        price: Decimal,
        *,
        fee_quote: Decimal = ZERO,
        fee_base: Decimal = ZERO,
    ) -> tuple[Holding, Decimal]:
        """Sell ``quantity`` at ``price``; returns the new holding and this sale's realized P&L.

        A base-asset fee leaves the holding too, as if sold at the same price and then paid.
        """
        if quantity <= 0 or price <= 0 or fee_quote < 0 or fee_base < 0:
            raise InvalidInput("A sale needs a positive quantity and price and no negative fee.")
        leaving = quantity + fee_base
        if leaving > self.quantity:
            raise InvalidInput("Cannot sell more than the position holds.", field="quantity")
        with localcontext(CONTEXT):
            if leaving == self.quantity:
                removed = self.cost_basis
            else:
                removed = (self.cost_basis * leaving / self.quantity).quantize(COST_QUANTUM)
            realized = leaving * price - removed
            return (
                replace(
                    self,
                    quantity=self.quantity - leaving,
                    cost_basis=self.cost_basis - removed,
                    realized=self.realized + realized,
                    fees=self.fees + fee_quote + fee_base * price,
                ),
                realized,
            )

    def write_off(self) -> tuple[Holding, Decimal]:
        """Close the holding on what is left (dust too small to sell): its cost becomes a
        realized loss; returns the closed holding and that loss (negative)."""
        with localcontext(CONTEXT):
            lost = -self.cost_basis
            return replace(
                self, quantity=ZERO, cost_basis=ZERO, realized=self.realized + lost
            ), lost


def cash_change(
    side_is_buy: bool, quantity: Decimal, price: Decimal, fee_quote: Decimal
) -> Decimal:
    """How the quote balance moves for one fill (fees in other assets don't touch it)."""
    with localcontext(CONTEXT):
        notional = quantity * price
        return -(notional + fee_quote) if side_is_buy else notional - fee_quote
