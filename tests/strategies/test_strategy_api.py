"""The strategy API: a strategy written from docs/strategies.md alone, strategies found in
directories and through an entry point, load problems, and the look-ahead and warm-up checks."""

from __future__ import annotations

import sys
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidInput
from core.services import backtests as service
from core.services.actor import Actor
from core.strategies import catalog, validate_bot_config
from core.strategies.checks import check
from tests.strategies.helpers import random_walk
from tests.strategies.installed import NEXT_CLOSE, Installer, docs_example, installed

__all__ = ["installed"]


def _request(strategy: str, params: dict, mode: str = "fast") -> service.BacktestRequest:
    return service.BacktestRequest(
        cash=D("10000"),
        fee=D("0.001"),
        timeframe="1h",
        strategy=strategy,
        params=params,
        mode=mode,  # type: ignore[arg-type]
    )


async def test_the_docs_example_runs_in_a_backtest_like_a_built_in(installed: Installer) -> None:
    installed.add("donchian.py", docs_example())
    assert "donchian_breakout" in catalog.names()
    candles = random_walk(3000)
    fast = await service.run_backtest(
        None, Actor("x"), _request("donchian_breakout", {"entry": "30"}), candles=candles
    )
    bar = await service.run_backtest(
        None, Actor("x"), _request("donchian_breakout", {"entry": 30}, "bar"), candles=candles
    )
    assert fast.result.strategy == "donchian_breakout"
    assert len(fast.result.trade_list) > 5
    # one code path: the bar-by-bar replay (as live) and the vectorised one agree trade for trade
    assert fast.result.trade_list == bar.result.trade_list
    assert fast.result.final_equity == bar.result.final_equity


async def test_bad_parameters_of_an_installed_strategy_are_clear_and_run_nothing(
    installed: Installer,
) -> None:
    installed.add("donchian.py", docs_example())
    candles = random_walk(300)
    with pytest.raises(InvalidInput, match=r"^Entry must be at least 2\.$"):
        await service.run_backtest(
            None, Actor("x"), _request("donchian_breakout", {"entry": 1}), candles=candles
        )
    with pytest.raises(InvalidInput, match=r"(?i)exit \(40\) can't be longer than entry \(20\)"):
        await service.run_backtest(
            None, Actor("x"), _request("donchian_breakout", {"exit": 40}), candles=candles
        )
    with pytest.raises(InvalidInput, match="unknown setting"):
        await service.run_backtest(
            None, Actor("x"), _request("donchian_breakout", {"entyr": 5}), candles=candles
        )
    with pytest.raises(InvalidInput, match=r"Unknown strategy 'nope'.*donchian_breakout"):
        await service.run_backtest(None, Actor("x"), _request("nope", {}), candles=candles)


def test_a_signal_bot_config_takes_an_installed_strategy(installed: Installer) -> None:
    installed.add("donchian.py", docs_example())
    config = validate_bot_config("signal", {"indicator": {"name": "donchian_breakout"}})
    assert config.model_dump(mode="json")["indicator"] == {
        "name": "donchian_breakout",
        "entry": 20,
        "exit": 10,
    }
    with pytest.raises(InvalidInput, match=r"^Exit must be at least 2\.$") as caught:
        validate_bot_config("signal", {"indicator": {"name": "donchian_breakout", "exit": 0}})
    assert caught.value.field == "config.indicator.installed.donchian_breakout.exit"
    with pytest.raises(InvalidInput, match="Unknown strategy 'gone'"):
        validate_bot_config("signal", {"indicator": {"name": "gone"}})


def test_a_strategy_pack_is_found_through_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "bbx_pack").mkdir(parents=True)
    (site / "bbx_pack" / "__init__.py").write_text(
        "from core.strategies.technical import SmaCross\n\n\n"
        "class Momentum(SmaCross):\n"
        "    '''SMA cross under another name, shipped in a pip package.'''\n\n"
        "    name = 'pack_momentum'\n"
        "    builtin = False\n",
        encoding="utf-8",
    )
    dist = site / "bbx_pack-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: bbx-pack\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[blockbotx.strategies]\nmomentum = bbx_pack:Momentum\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("BLOCKBOTX_CONFIG_DIR", str(tmp_path / "config"))
    catalog.reload()
    try:
        info = {i.name: i for i in catalog.list_strategies()}["pack_momentum"]
        assert info.source == "entry point momentum (bbx-pack)"
        assert catalog.get("pack_momentum").__module__ == "bbx_pack"
        candles = random_walk(500)
        mine = catalog.build("pack_momentum", {"fast": 5, "slow": 30}).signals(candles)
        same = catalog.build("sma_cross", {"fast": 5, "slow": 30}).signals(candles)
        assert np.array_equal(mine.entry, same.entry) and mine.entry.any()
    finally:
        monkeypatch.undo()
        sys.modules.pop("bbx_pack", None)
        catalog.reload()


def test_broken_files_are_reported_and_skipped(installed: Installer) -> None:
    installed.add("donchian.py", docs_example())
    installed.add("syntax.py", "def oops(:\n")
    installed.add("nothing.py", "X = 1\n")
    installed.add(
        "clash.py",
        "from core.strategies.technical import SmaCross\n\n"
        "class Mine(SmaCross):\n    builtin = False\n",  # keeps the name sma_cross
    )
    installed.add(
        "badname.py",
        "from core.strategies.api import CandleStrategy, Param, Signals\n\n"
        "class Bad(CandleStrategy):\n    name = 'Bad Name'\n"
        "    params = {'n': Param(int, 1, min=2)}\n"
        "    def signals(self, candles):\n        return Signals(candles.close > 0, candles.close < 0)\n",
    )
    installed.add("_helper.py", "raise RuntimeError('helpers are not loaded')\n")
    problems = {Path(p.source).name: p.message for p in catalog.problems()}
    assert "SyntaxError" in problems["syntax.py"]
    assert "defines no CandleStrategy subclass" in problems["nothing.py"]
    assert "'sma_cross' is already taken by built-in" in problems["clash.py"]
    assert "name 'Bad Name' must be" in problems["badname.py"]
    assert "_helper.py" not in problems
    assert catalog.get("sma_cross").builtin and "donchian_breakout" in catalog.names()


@pytest.mark.parametrize("name", catalog.BUILTIN_NAMES)
def test_every_built_in_passes_the_checks(name: str) -> None:
    report = check(catalog.get(name), random_walk(2000))
    assert report.ok, report


def test_a_strategy_using_the_next_close_is_flagged_at_the_first_bar(
    installed: Installer,
) -> None:
    installed.add("peeker.py", NEXT_CLOSE)
    candles = random_walk(400)
    report = check(catalog.get("peeker"), candles)
    assert report.problems == []
    found = report.lookahead
    assert found is not None
    # the shortest history tried ends at bar warmup() + 1 = 1: its last bar can't see bar 2
    assert found.bar == 1 and found.time_ms == int(candles.ts[1])
    assert found.what in {"entry", "exit"}
    assert "when the history ends at bar 1" in found.detail


def test_a_warm_up_shorter_than_the_indicators_is_flagged(installed: Installer) -> None:
    installed.add(
        "short.py",
        "from core.strategies.technical import SmaCross\n\n"
        "class Short(SmaCross):\n    name = 'short_warmup'\n    builtin = False\n\n"
        "    def warmup(self):\n        return 3\n",
    )
    report = check(catalog.get("short_warmup"), random_walk(140), {"fast": 4, "slow": 12})
    assert report.lookahead is None  # it is causal; it just needs more history than it says
    assert report.warmup is not None and "warmup() returns 3, which is too short" in (
        report.warmup.detail
    )
