"""The fast path of a candle strategy without exit rules or entry limits, in exact integers.

Then the fills follow from the signals alone: each entry signal's next open, then the next exit
signal's next open (``alternate``). Only the money must be walked trade by trade — each entry
spends the cash the previous exit left — and this module walks that chain in Python integers,
then derives every trade's P&L, fees and percentage at once. The results equal the Decimal
account's (``core.backtest.account``) digit for digit; the mode tests compare them.

Scaling (all exact): a fill price P = p / 10^D (D: the most decimal places among the fill
prices), the fee rate f = F / 10^k, cash and quantities in atoms of 1e-18, and M = 10^(D+k).

- An entry with budget b buys q = ⌊b·M / (p·(10^k + F))⌋ atoms (the Decimal account's
  "rounded down to 18 decimals") and pays q·p·(10^k + F) / M atoms: the new cash is rounded
  half-even to an atom, as the account rounds cash to 18 decimals.
- An exit of q at x receives q·x·(10^k − F) / M atoms, rounded the same way.
- A trade's P&L is (q·x·(10^k − F) − q·p·(10^k + F)) and its fees q·(p + x)·F, in units of
  1 / (M·10^18); they are rounded half-even (on the magnitude, keeping the sign, like
  ``Decimal.quantize``) to 1e-8, and P&L / cost × 100 to 1e-4.

The path is taken when every fill price is exactly such a decimal, the cash and the position
cap are whole atoms, and the amounts stay far inside the Decimal account's 60 digits (where
its arithmetic is exact too). Otherwise — or from an entry that buys nothing — the general
Decimal step goes on.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np

from core.backtest.account import Lot, Trade
from core.backtest.metrics import ATOMS, TradeTotals
from core.strategies.risk import ExitReason

if TYPE_CHECKING:
    from core.backtest.signal_replay import SignalSimulation
    from core.backtest.simulation import Reporter

_E18, _E8, _E4 = Decimal("1e-18"), Decimal("1e-8"), Decimal("1e-4")
_NEG_ZERO_8, _NEG_ZERO_4 = Decimal("-0E-8"), Decimal("-0E-4")
_LIMIT = 10**45  # cash × M below this: every product stays well inside 60 digits
_FLOAT_EXACT = 2.0**52  # below this, a float with D decimals has one decimal reading


def scaled(values: np.ndarray) -> tuple[int, np.ndarray] | None:
    """(D, values × 10^D as int64) if every value's shortest decimal has at most D places."""
    for places in range(16):
        scale = 10.0**places
        ints = np.rint(values * scale)
        if not np.all(np.abs(ints) < _FLOAT_EXACT):
            return None
        if np.array_equal(ints / scale, values):
            return places, ints.astype(np.int64)
    return None


def _atoms(value: Decimal) -> int | None:
    shifted = value.scaleb(18)
    return int(shifted) if shifted == shifted.to_integral_value() else None


def price_decimals(ints: np.ndarray, places: int) -> list[Decimal]:
    """Prices given as ``ints`` / 10^places, as ``core.strategies.candles.to_decimal`` writes
    them (the shortest decimal: trailing zeros dropped down to a whole number)."""
    unique, where = np.unique(ints, return_inverse=True)
    coefficient, exponent = unique.copy(), np.full(len(unique), -places)
    for _ in range(places):
        strip = (exponent < 0) & (coefficient % 10 == 0)
        coefficient = np.where(strip, coefficient // 10, coefficient)
        exponent = exponent + strip
    converted = np.empty(len(unique), dtype=object)
    for e in np.unique(exponent).tolist():
        at = exponent == e
        converted[at] = _decimals(coefficient[at].tolist(), Decimal(f"1E{e}"))
    return converted[where].tolist()


def _decimals(ints: list[int], unit: Decimal) -> list[Decimal]:
    return list(map(unit.__rmul__, map(Decimal, ints)))


def replay_signals(
    sim: SignalSimulation, entries: np.ndarray, exits: np.ndarray, report: Reporter
) -> int:
    """Replay the round trips (fill candles ``entries`` / ``exits``) into ``sim``; returns the
    candle the general step goes on from (``n`` when done, 0 if this path doesn't apply)."""
    n, m, closes = sim.n, len(entries), len(exits)
    account = sim.account
    if m == 0:
        return n
    opens = sim.c.open[np.concatenate([entries, exits])]
    found = scaled(opens)
    cash = _atoms(account.cash)
    cap = sim.risk.max_position_size
    cap_atoms = None if cap is None else _atoms(cap)
    if found is None or cash is None or (cap is not None and cap_atoms is None):
        return 0
    places, ints = found
    k = max(0, -int(account.fee.as_tuple().exponent))
    fee = int(account.fee.scaleb(k))
    M = 10 ** (places + k)
    if cash * M >= _LIMIT:
        return 0
    limit = _LIMIT // M
    cent = M * ATOMS // 10**8  # 1e-8 of the quote currency, in units of 1 / (M·10^18)
    p_all = ints.tolist()
    cost_per = [p * (10**k + fee) for p in p_all[:m]]
    gain_per = [x * (10**k - fee) for x in p_all[m:]]
    fee_per = [2 * (p + x) * fee for p, x in zip(p_all, p_all[m:], strict=False)]  # doubled
    quantities: list[int] = []
    cash_after: list[int] = []
    pnls: list[int] = []  # in 1e-8
    pcts: list[int] = []  # in 1e-4 %
    fees: list[int] = []  # in 1e-8
    negative_zero: list[tuple[int, str, Decimal]] = []  # losses that round to −0
    # x / d rounded half-even is ⌊(2x + d) / 2d⌋, one less on an exact tie with an odd result
    # (floor division makes this hold for negative x too); cash c + y/M rounds as c + ⌊…⌋
    M2, cent2 = 2 * M, 2 * cent
    add_q, add_cash, add_pnl, add_pct, add_fee = (
        quantities.append,
        cash_after.append,
        pnls.append,
        pcts.append,
        fees.append,
    )
    stop = n
    for j in range(m):
        per = cost_per[j]
        if cash >= limit:  # amounts this large: the Decimal step takes over from the signal
            stop = int(entries[j]) - 1
            break
        q = (cash if cap_atoms is None or cash < cap_atoms else cap_atoms) * M // per
        if q <= 0:  # nothing bought: the Decimal step goes on from here (it buys nothing either)
            stop = int(entries[j])
            break
        cost = q * per
        v, r = divmod(M - cost - cost, M2)
        cash += v
        if not r and cash & 1:
            cash -= 1
        add_q(q)
        add_cash(cash)
        if j == closes:
            break  # the last entry, still open at the end
        proceeds = q * gain_per[j]
        v, r = divmod(proceeds + proceeds + M, M2)
        cash += v
        if not r and cash & 1:
            cash -= 1
        add_cash(cash)
        pnl = proceeds - cost
        v, r = divmod(2 * pnl + cent, cent2)
        if not r and v & 1:
            v -= 1
        add_pnl(v)
        if not v and pnl < 0:
            negative_zero.append((j, "pnl", _NEG_ZERO_8))
        v, r = divmod(2_000_000 * pnl + cost, 2 * cost)
        if not r and v & 1:
            v -= 1
        add_pct(v)
        if not v and pnl < 0:
            negative_zero.append((j, "pnl_pct", _NEG_ZERO_4))
        v, r = divmod(q * fee_per[j] + cent, cent2)
        if not r and v & 1:
            v -= 1
        add_fee(v)
        if not j & 1023:
            report(int(entries[j]))
    done = len(quantities)
    if done == 0:
        return stop
    closed = len(pnls)
    prices = price_decimals(ints, places)
    stamps = sim.c.ts[np.concatenate([entries[:done], exits[:closed]])].tolist()
    _record(sim, entries[:done], exits[:closed], quantities, cash_after)
    account.cash = Decimal(cash) * _E18
    if closed:
        _trades(sim, quantities[:closed], prices, stamps, m, done, pnls, pcts, fees)
        for j, name, zero in negative_zero:  # Decimal keeps the sign of a rounded-away loss
            trade = sim.account.trades[j]
            sim.account.trades[j] = (
                trade._replace(pnl=zero) if name == "pnl" else trade._replace(pnl_pct=zero)
            )
    if done > closed:  # still holding the last entry
        q, p = quantities[-1], p_all[done - 1]
        unit = Decimal(f"1E-{18 + places + k}")
        account.held = Decimal(q) * _E18
        account.trade = Lot(
            stamps[done - 1],
            prices[done - 1],
            account.held,
            Decimal(q * cost_per[done - 1]) * unit,
            Decimal(q * p * fee) * unit,
            Decimal(q * p) * Decimal(f"1E-{18 + places}"),
        )
    return stop


def _record(sim, entries, exits, quantities, cash_after) -> None:
    """The equity events of the replayed fills: entry, exit, entry, exit… (the last entry may
    have no exit)."""
    bars = np.empty(len(cash_after), dtype=np.int64)
    bars[0::2], bars[1::2] = entries, exits
    held = [0] * len(cash_after)
    held[0::2] = quantities
    sim.events.bars.extend(bars.tolist())
    sim.events.cash.extend(cash_after)
    sim.events.held.extend(held)


def _trades(sim, quantities, prices, stamps, m, done, pnls, pcts, fees) -> None:
    """The replayed round trips as reported trades, and their totals."""
    c = len(pnls)
    percents = {v: Decimal(v) * _E4 for v in set(pcts)}  # few distinct values: convert once
    trades = list(
        map(
            tuple.__new__,
            repeat(Trade),
            zip(
                stamps[:c],
                prices[:c],
                _decimals(quantities, _E18),
                stamps[done : done + c],
                prices[m : m + c],
                _decimals(pnls, _E8),
                [percents[v] for v in pcts],
                _decimals(fees, _E8),
                repeat(str(ExitReason.SIGNAL)),
                repeat(1),
                repeat(1),
                strict=False,
            ),
        )
    )
    sim.account.trades.extend(trades)
    try:  # in 1e-8 of the quote currency these nearly always fit 64 bits: sum them in numpy
        values, paid = np.array(pnls, dtype=np.int64), np.array(fees, dtype=np.int64)
        largest = max(int(values.max()), -int(values.min()), int(paid.max()))
        if largest * c >= 2**63:  # a sum could wrap around
            raise OverflowError
        won = values > 0
        wins, gains, total = int(won.sum()), int(values[won].sum()), int(values.sum())
        fees_paid = int(paid.sum())
    except OverflowError:
        wins, gains = sum(1 for v in pnls if v > 0), sum(v for v in pnls if v > 0)
        total, fees_paid = sum(pnls), sum(fees)
    sim.replayed = (
        c,
        TradeTotals(
            c, wins, Decimal(gains) * _E8, Decimal(gains - total) * _E8, Decimal(fees_paid) * _E8
        ),
    )
