"""The ledger's arithmetic on its own: average cost, realized/unrealized P&L, the identity."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given, settings

from core.errors import InvalidInput
from core.ledger.accounting import ZERO, Holding, cash_change, percent, storable
from tests.ledger.strategies import SYMBOLS, operations, starting_cash


def test_average_cost_basis_and_partial_exits() -> None:
    h = Holding().buy(Decimal(2), Decimal(100), fee_quote=Decimal("0.2"))
    h = h.buy(Decimal(2), Decimal(200), fee_quote=Decimal("0.4"))  # average cost 150
    assert (h.quantity, h.cost_basis, h.average_price()) == (4, 600, 150)
    h, realized = h.sell(Decimal(1), Decimal(180), fee_quote=Decimal("0.18"))
    assert realized == Decimal(30)  # 180 - 150: before fees
    assert (h.quantity, h.cost_basis, h.realized, h.fees) == (3, 450, 30, Decimal("0.78"))
    assert h.unrealized(Decimal(160)) == Decimal(30)
    h, realized = h.sell(Decimal(3), Decimal(140))
    assert realized == Decimal(-30) and h.is_closed
    assert (h.realized, h.net_pnl, h.invested) == (0, Decimal("-0.78"), 600)
    assert percent(h.net_pnl, h.invested) == Decimal("-0.13")


def test_a_third_of_a_basis_rounds_once_and_the_last_sale_takes_the_rest() -> None:
    h = Holding().buy(Decimal(3), Decimal(1))
    h, _ = h.sell(Decimal(1), Decimal(1))
    assert h.cost_basis == Decimal("2.000000000000000000")
    h = Holding().buy(Decimal(3), Decimal("0.1")).buy(Decimal(3), Decimal("0.2"))  # basis 0.9 for 6
    h, _ = h.sell(Decimal(1), Decimal(1))
    assert h.cost_basis == Decimal("0.75")
    h = Holding(quantity=Decimal(3), cost_basis=Decimal(1), bought=Decimal(3), invested=Decimal(1))
    h, r1 = h.sell(Decimal(1), Decimal(1))
    h, r2 = h.sell(Decimal(2), Decimal(1))
    assert h.cost_basis == 0 and r1 + r2 == Decimal(2)  # 3 sold for 3, cost 1: exactly


def test_base_currency_fees_come_out_of_the_holding() -> None:
    h = Holding().buy(Decimal(1), Decimal(100), fee_base=Decimal("0.001"))
    assert (h.quantity, h.cost_basis, h.fees) == (Decimal("0.999"), Decimal("99.9"), Decimal("0.1"))
    assert cash_change(True, Decimal(1), Decimal(100), ZERO) == Decimal(-100)


def test_bad_numbers_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Holding().sell(Decimal(1), Decimal(1))
    with pytest.raises(InvalidInput):
        Holding().buy(Decimal(0), Decimal(1))
    with pytest.raises(InvalidInput, match="more digits than the ledger stores"):
        storable(Decimal("1e-31"), "price")
    with pytest.raises(InvalidInput):
        storable(Decimal("NaN"), "price")
    assert storable(
        Decimal("12345678901234567890123456789012345.123456789012345678901234567890"), "x"
    )


@settings(max_examples=300, deadline=None)
@given(start=starting_cash, ops=operations)
def test_identity_holds_exactly_for_any_sequence(start: Decimal, ops: list) -> None:
    """cash + market value == start + realized + unrealized - fees, and cash never < 0."""
    cash = start
    book = {s: Holding() for s in SYMBOLS}
    marks = {s: Decimal(1) for s in SYMBOLS}
    for kind, symbol, amount, price, fee, fee_in_base in ops:
        h = book[symbol]
        if kind == "mark":
            marks[symbol] = price
        elif kind == "buy":
            fee_base = (fee / 100).quantize(Decimal("1e-8")) if fee_in_base else ZERO
            fee_quote = ZERO if fee_in_base else fee
            if fee_base >= amount:
                continue
            spend = -cash_change(True, amount, price, fee_quote)
            if spend > cash:
                continue  # the ledger would refuse it
            book[symbol] = h.buy(amount, price, fee_quote=fee_quote, fee_base=fee_base)
            cash -= spend
            marks[symbol] = price
        else:
            qty = (
                h.quantity
                if kind == "sell_all"
                else (h.quantity * amount).quantize(Decimal("1e-8"), ROUND_DOWN)
            )
            if qty <= 0:
                continue
            proceeds = cash_change(False, qty, price, fee)
            if cash + proceeds < 0:
                continue  # a fee larger than the proceeds and the cash
            book[symbol], _ = h.sell(qty, price, fee_quote=fee)
            cash += proceeds
            marks[symbol] = price
        assert cash >= 0
        value = sum((book[s].quantity * marks[s] for s in SYMBOLS), ZERO)
        realized = sum((book[s].realized for s in SYMBOLS), ZERO)
        unrealized = sum((book[s].unrealized(marks[s]) for s in SYMBOLS), ZERO)
        paid = sum((book[s].fees for s in SYMBOLS), ZERO)
        assert cash + value == start + realized + unrealized - paid
        assert all(book[s].quantity >= 0 and book[s].cost_basis >= 0 for s in SYMBOLS)
