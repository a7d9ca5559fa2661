"""Hypothesis strategies for ledger operations: buys, partial sells, full sells, marks."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

SYMBOLS = ("BTC/USDT", "SOL/USDT")

prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("90000"), places=4)
quantities = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("3"), places=6)
fees = st.decimals(min_value=Decimal("0"), max_value=Decimal("25"), places=8)
fractions = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2)
symbols = st.sampled_from(SYMBOLS)

buy = st.tuples(st.just("buy"), symbols, quantities, prices, fees, st.booleans())
partial_sell = st.tuples(st.just("sell"), symbols, fractions, prices, fees, st.just(False))
full_sell = st.tuples(
    st.just("sell_all"), symbols, st.just(Decimal(1)), prices, fees, st.just(False)
)
mark = st.tuples(
    st.just("mark"), symbols, st.just(Decimal(0)), prices, st.just(Decimal(0)), st.just(False)
)

operations = st.lists(st.one_of(buy, buy, partial_sell, full_sell, mark), min_size=1, max_size=12)
starting_cash = st.decimals(min_value=Decimal("0"), max_value=Decimal("200000"), places=2)
