"""The per-bar hooks of the strategy API (1.1) in the backtester: the docs' example with both
hooks trades the same in both modes, its sizes and exits come from the hooks, a strategy without
hooks keeps the integer fast path, a hook answering nonsense is refused with a message, and
``strategy check`` flags a hook that reads a later candle."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from core.backtest import BacktestSettings, run
from core.backtest.runner import simulation
from core.strategies import catalog
from core.strategies.api import OpenTrade, entry_amount, exit_reason
from core.strategies.checks import _cuts, check
from core.strategies.technical import TechnicalStrategy
from tests.strategies.helpers import random_walk
from tests.strategies.installed import Installer, docs_example, installed

__all__ = ["installed"]

PARAMS = {"period": 20, "dip": 0.5, "hold": 10, "stake": 100}


def _settings(mode: str = "fast") -> BacktestSettings:
    return BacktestSettings(D(10000), D("0.001"), "1h", mode=mode)  # type: ignore[arg-type]


def test_the_docs_hook_example_trades_alike_in_both_modes(installed: Installer) -> None:
    installed.add("dip.py", docs_example(1))
    strategy = TechnicalStrategy(catalog.build("dip_buyer", PARAMS))
    assert (strategy.has_exit_hook, strategy.has_size_hook) == (True, True)
    candles = random_walk(3000)
    fast = run(strategy, candles, _settings("fast"))
    bar = run(strategy, candles, _settings("bar"))
    assert fast.trades > 20
    assert fast.trade_list == bar.trade_list
    assert fast.final_equity == bar.final_equity
    # every exit is the hook's (the strategy has no exit signal), within `hold` candles
    assert {t.exit_reason for t in fast.trade_list} == {"CUSTOM_EXIT"}
    hour = 3_600_000
    assert max((t.exit_ms - t.entry_ms) // hour for t in fast.trade_list) <= PARAMS["hold"]
    # sizes: each entry spent the stake or twice it (fee included, rounded down to 1e-18 units)
    spent = [t.quantity * t.entry_price * D("1.001") for t in fast.trade_list]
    stakes = {round(x) for x in spent}
    assert stakes == {100, 200}
    for x in spent:
        assert D(0) <= round(x) - x < D("1e-12")


def test_a_hook_exit_before_the_hold_ends_is_the_average_rule(installed: Installer) -> None:
    installed.add("dip.py", docs_example(1))
    strategy = TechnicalStrategy(catalog.build("dip_buyer", {**PARAMS, "hold": 1000}))
    result = run(strategy, random_walk(2000, seed=3), _settings())
    assert result.trades > 5
    hour = 3_600_000
    assert all((t.exit_ms - t.entry_ms) // hour < 1000 for t in result.trade_list)


def test_without_hooks_the_integer_fast_path_stays(installed: Installer) -> None:
    installed.add("dip.py", docs_example(1))
    candles = random_walk(3000)
    plain = TechnicalStrategy(catalog.build("sma_cross", {"fast": 5, "slow": 20}))
    hooked = TechnicalStrategy(catalog.build("dip_buyer", PARAMS))
    assert (plain.has_exit_hook, plain.has_size_hook) == (False, False)
    sim = simulation(plain, candles, _settings())
    sim.run("fast", None)
    assert sim.replayed[0] == len(sim.trades) > 20  # every trade from the integer replay
    sim = simulation(hooked, candles, _settings())
    sim.run("fast", None)
    assert sim.replayed[0] == 0 and len(sim.trades) > 20


BAD_SIZE = """
import numpy as np
from core.strategies.api import CandleStrategy, Signals


class BadSize(CandleStrategy):
    name = "bad_size"

    def signals(self, candles):
        up = candles.close > candles.open
        return Signals(entry=up, exit=~up)

    def position_size(self, candles, budget):
        return "a lot"
"""


def test_a_hook_answering_nonsense_is_refused(installed: Installer) -> None:
    installed.add("bad.py", BAD_SIZE)
    strategy = TechnicalStrategy(catalog.build("bad_size", {}))
    with pytest.raises(ValueError, match="position_size must return an amount or None"):
        run(strategy, random_walk(200), _settings())


def test_hook_answers_are_read_one_way() -> None:
    budget = D("500")
    assert entry_amount(None, budget) == budget
    assert entry_amount(120.5, budget) == D("120.5")
    assert entry_amount(D("1000"), budget) == budget  # cut to the budget
    assert entry_amount(0, budget) == 0 and entry_amount(-3.0, budget) == 0
    assert entry_amount(1 / 3, budget) == D("0.33333333")  # rounded down to 1e-8
    with pytest.raises(ValueError, match="finite"):
        entry_amount(float("nan"), budget)
    with pytest.raises(ValueError, match="amount or None"):
        entry_amount(True, budget)
    assert exit_reason("x", None) is None and exit_reason("x", False) is None
    assert exit_reason("x", True) == "x: custom exit."
    assert exit_reason("x", " too long ") == "x: custom exit: too long"
    with pytest.raises(ValueError, match="custom_exit must return"):
        exit_reason("x", 1)


def test_bars_count_the_closes_since_the_fill() -> None:
    hour = 3_600_000
    # a backtest fills at a candle's open; live fills land anywhere inside the candle
    assert OpenTrade.at(D(100), 10 * hour, D(1), 10 * hour, hour).bars == 1
    assert OpenTrade.at(D(100), 10 * hour + 1234, D(1), 10 * hour, hour).bars == 1
    assert OpenTrade.at(D(100), 10 * hour + hour - 1, D(1), 12 * hour, hour).bars == 3
    assert OpenTrade.at(D(100), 10 * hour, D(1), 12 * hour, hour).gain_pct(110.0) == pytest.approx(
        10
    )


PEEKING_HOOKS = """
from core.strategies.api import CandleStrategy, Param, Signals


class PeekExit(CandleStrategy):
    '''Sells when the candle after this close will close lower: it keeps the history
    signals() saw, which in a backtest is the whole of it.'''

    name = "peek_exit"
    params = {"period": Param(int, 3, min=2, max=50, help="unused")}

    def signals(self, candles):
        self.seen = candles
        up = candles.close > candles.open
        return Signals(entry=up, exit=up & ~up)

    def custom_exit(self, candles, trade):
        after = len(candles)  # the next candle, when signals() saw it
        if after < len(self.seen) and self.seen.close[after] < candles.close[-1]:
            return "a drop is coming"
        return None


class PeekSize(CandleStrategy):
    '''Stakes more before a rise, read through the window's array: in a backtest the window
    is a view of the whole history.'''

    name = "peek_size"

    def signals(self, candles):
        up = candles.close > candles.open
        return Signals(entry=up, exit=~up)

    def position_size(self, candles, budget):
        close = candles.close if candles.close.base is None else candles.close.base
        after = len(candles)
        return 200 if after < len(close) and close[after] > candles.close[-1] else 100
"""


def _first_cut(candles, since: int, rule) -> int:
    """The first bar the look-ahead check samples where ``rule(bar)`` holds."""
    return next(k - 1 for k in _cuts(since, len(candles)) if rule(k - 1))


def test_hooks_that_read_the_next_bar_are_flagged_at_the_first_bar(installed: Installer) -> None:
    installed.add("peeking.py", PEEKING_HOOKS)
    candles = random_walk(600, seed=5)
    close = candles.close
    report = check(catalog.get("peek_exit"), candles)
    assert report.problems == [] and report.warmup is None
    found = report.lookahead
    assert found is not None and found.what == "custom_exit"
    assert found.bar == _first_cut(candles, 2, lambda j: close[j + 1] < close[j])
    assert found.time_ms == int(candles.ts[found.bar])
    assert "'peek_exit: custom exit: a drop is coming' after signals() saw the whole history" in (
        found.detail
    )
    assert f"hold when the history ends at bar {found.bar}" in found.detail

    found = check(catalog.get("peek_size"), candles).lookahead
    assert found is not None and found.what == "position_size"
    assert found.bar == _first_cut(candles, 2, lambda j: close[j + 1] > close[j])
    assert "200.00000000 after signals() saw the whole history but 100.00000000" in found.detail


def test_causal_hooks_pass_the_look_ahead_check(installed: Installer) -> None:
    installed.add("dip.py", docs_example(1))
    report = check(catalog.get("dip_buyer"), random_walk(1500), PARAMS)
    assert report.ok, report


def test_a_hook_that_fails_on_the_history_is_a_problem(installed: Installer) -> None:
    installed.add("bad.py", BAD_SIZE)
    report = check(catalog.get("bad_size"), random_walk(300))
    assert not report.ok and report.lookahead is None
    assert report.problems == [
        "position_size() raised ValueError: position_size must return an amount or None, "
        "not 'a lot' at bar 1"
    ]
