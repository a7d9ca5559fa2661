"""The integer fast path equals the Decimal account digit for digit, whatever the prices' decimal
places, the fee's digits, the cash and the position cap."""

from decimal import Decimal as D
from decimal import localcontext

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.backtest import BacktestSettings, run
from core.backtest.fast_replay import price_decimals, scaled
from core.backtest.signal_replay import SignalSimulation
from core.strategies.base import SignalSeries, Strategy
from core.strategies.candles import Candles, decimals
from core.strategies.registry import validate_risk_settings
from tests.strategies.helpers import T0_MS


class Scripted(Strategy):
    """BUY / SELL / HOLD exactly where the script says (decide() is the script's element)."""

    name = "scripted"

    def __init__(self, actions) -> None:
        self.actions = np.asarray(actions, dtype=np.int8)

    @property
    def lookback(self) -> int:
        return 1

    def series(self, candles: Candles) -> SignalSeries:
        action = self.actions[: len(candles)]
        return SignalSeries(action, np.full(len(action), 60.0), {}, lambda i: "scripted")


def candles_from_ticks(ticks: list[int], places: int) -> Candles:
    close = np.array(ticks, dtype=np.float64) / 10**places
    open_ = np.r_[close[0], close[:-1]]
    n = len(ticks)
    return Candles.from_arrays(
        T0_MS + np.arange(n) * 3_600_000,
        open_,
        np.maximum(open_, close),
        np.minimum(open_, close),
        close,
        np.ones(n),
    )


def reports(strategy, candles, cash, fee, risk=None):
    out = []
    for mode in ("fast", "bar"):
        s = BacktestSettings(cash, fee, "1h", validate_risk_settings(risk or {}), mode)
        data = run(strategy, candles, s).as_json()
        data.pop("execution_time_ms")
        data.pop("mode")
        out.append(data)
    return out


def replayed(strategy, candles, cash, fee, risk=None) -> int:
    """How many trades the integer path made (all of them when it applies)."""
    with localcontext() as ctx:
        ctx.prec = 60
        s = BacktestSettings(cash, fee, "1h", validate_risk_settings(risk or {}))
        sim = SignalSimulation(strategy, candles, s)
        sim.run("fast", None)
        return sim.replayed[0]


@settings(max_examples=100, deadline=None)
@given(
    ticks=st.lists(st.integers(1, 10**7), min_size=12, max_size=40),
    places=st.integers(0, 8),
    actions=st.lists(st.sampled_from([1, -1, 0]), min_size=40, max_size=40),
    cash=st.decimals(min_value=D("0.000001"), max_value=D(10**9), places=6),
    fee=st.sampled_from(["0", "0.001", "0.00075", "0.0000123", "0.25", "1E-12"]),
    cap=st.one_of(st.none(), st.decimals(min_value=D("0.01"), max_value=D(10**6), places=18)),
)
def test_integer_replay_equals_the_decimal_account(ticks, places, actions, cash, fee, cap):
    candles = candles_from_ticks(ticks, places)
    strategy = Scripted(actions)
    risk = {} if cap is None else {"max_position_size": str(cap)}
    fast, bar = reports(strategy, candles, cash, D(fee), risk)
    assert fast == bar


def test_a_loss_that_rounds_to_zero_keeps_its_sign_and_the_path_covers_every_trade():
    # bought and sold at the same price with a 1e-12 fee: P&L −2e-12, reported as −0.00000000
    candles = candles_from_ticks([100, 100, 100, 100, 100, 100], 0)
    strategy = Scripted([1, -1, 1, -1, 0, 0])
    fast, bar = reports(strategy, candles, D(1), D("1E-12"))
    assert fast == bar
    assert [t["pnl"] for t in fast["trade_list"]] == ["-0E-8", "-0E-8"]
    assert [t["pnl_pct"] for t in fast["trade_list"]] == ["-0.0000", "-0.0000"]
    assert replayed(strategy, candles, D(1), D("1E-12")) == 2


def test_cash_finer_than_an_atom_and_an_unbuyable_entry_use_the_decimal_step():
    candles = candles_from_ticks([50, 51, 52, 53, 52, 51, 50, 51, 52, 53], 0)
    strategy = Scripted([1, 0, -1, 1, 0, -1, 1, 0, -1, 0])
    fine = D("100.0000000000000000001")  # 19 decimals: not whole atoms
    fast, bar = reports(strategy, candles, fine, D("0.001"))
    assert fast == bar and fast["trades"] == 3
    assert replayed(strategy, candles, fine, D("0.001")) == 0
    # a cap too small to buy anything at these prices: the first entry hands over at once
    tiny = {"max_position_size": "1E-18"}
    fast, bar = reports(strategy, candles, D(100), D("0.001"), tiny)
    assert fast == bar and fast["trades"] == 0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(1, 10**12), min_size=1, max_size=30),
    st.integers(0, 12),
)
def test_prices_become_the_same_decimals_as_everywhere_else(ticks, places):
    values = np.array(ticks, dtype=np.float64) / 10**places
    found = scaled(values)
    if found is None:  # some value has no exact reading with so few places: not taken
        return
    got = [str(d) for d in price_decimals(found[1], found[0])]
    assert got == [str(d) for d in decimals(values)]


def test_amounts_beyond_the_integer_range_hand_over_and_still_agree():
    # ×1000 per round trip with a fee of 12 decimals and prices of 4: after the first trade the
    # cash is too large for the integer path, and the Decimal step makes the rest
    candles = candles_from_ticks([10001, 10001, 10000001, 10000001, 10001, 10001, 10000001, 1], 4)
    strategy = Scripted([1, 0, -1, 1, 0, -1, 0, 0])
    fast, bar = reports(strategy, candles, D(10**9), D("1E-12"))
    assert fast == bar and fast["trades"] == 2
    assert replayed(strategy, candles, D(10**9), D("1E-12")) == 1
    # P&L beyond 64 bits (in 1e-8): the totals are summed as Python integers
    candles = candles_from_ticks([1, 1, 2, 2, 1, 1, 3, 3], 0)
    fast, bar = reports(strategy, candles, D(10**12), D(0))
    assert fast == bar and fast["trade_list"][0]["pnl"] == "1000000000000.00000000"
