"""Stored optimisation runs: who sees which (service), and the backtests screen's view of a run
stored by a real ``blockbotx optimize --user`` (Pilot)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.db.engine import Database
from core.errors import NotFound
from core.services import optimizations
from core.services.actor import Role
from tests.cli_runner import invoke
from tests.optimize.series import sine_candles, write_csv
from tests.service_users import add_user
from tests.tui.auth_helpers import settle
from tests.tui.dash_helpers import signed_in, trader
from tui.screens.backtests import BacktestsScreen
from tui.screens.optimizations import OptimizationsScreen
from tui.widgets.table import KeyedTable


def report(study: str, value: float) -> dict:
    return {
        "study": study,
        "strategy": "sma_cross",
        "objective": "total_return",
        "sampler": "grid",
        "space": ["fast=2:4:2"],
        "timeframe": "1h",
        "best": {"params": {"fast": 2}, "value": value, "trial": 0},
        "trials": [{"number": 0, "params": {"fast": 2}, "value": value, "trades": 3}],
        "importance": {},
        "in_sample": {"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z", "candles": 745},
        "out_of_sample": None,
        "walk_forward": [],
    }  # fmt: skip


async def test_a_user_sees_only_their_runs_and_admins_the_operators(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    bob = await add_user(db, "bob@example.com")
    admin = await add_user(db, "admin@example.com", role=Role.ADMIN)
    async with db.session() as s:
        mine = await optimizations.record_optimization(s, alice, report("a", 1.5), "csv a.csv")
        theirs = await optimizations.record_optimization(s, bob, report("b", 2.5), "csv b.csv")
        operator = await optimizations.record_optimization(s, None, report("o", 3.5), "csv o.csv")
    async with db.session() as s:
        assert [r.id for r in await optimizations.list_optimizations(s, alice)] == [mine]
        assert [r.id for r in await optimizations.list_optimizations(s, bob)] == [theirs]
        seen = {r.id for r in await optimizations.list_optimizations(s, admin)}
        assert seen == {operator}  # the owner-less run; never a user's
        record = await optimizations.get_optimization(s, alice, mine)
        assert record.summary.best_params == {"fast": 2} and record.summary.best_value == 1.5
        for actor, other in ((alice, theirs), (alice, operator), (admin, mine)):
            with pytest.raises(NotFound):
                await optimizations.get_optimization(s, actor, other)
        with pytest.raises(NotFound, match="No account"):
            await optimizations.owner_id(s, "nobody@example.com")


async def test_the_backtests_screen_shows_a_stored_run(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    series = write_csv(sine_candles(), tmp_path / "sine.csv")
    # one job: the trials run in this process (tests/cli_runner.py)
    done = await invoke(
        migrated_url, "optimize", "--csv", str(series), "--timeframe", "1h",
        "--strategy", "sma_cross", "--space", "fast=2:6:2", "--space", "slow=12:20:8",
        "--sampler", "grid", "--jobs", "1", "--user", "Trader@Example.com", "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    data = json.loads(done.stdout)
    best = " ".join(f"{k}={v}" for k, v in data["best"]["params"].items())

    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("6")
        await settle(pilot)
        assert isinstance(app.screen, BacktestsScreen)
        await pilot.press("ctrl+o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OptimizationsScreen)
        runs = screen.query_one("#runs", KeyedTable)
        assert runs.keys == [data["optimization_id"]]
        row = [str(c) for c in runs.get_row(data["optimization_id"])]
        assert best in row and f"{data['best']['value']:,.4f}" in row
        assert f"{data['out_of_sample']['value']:,.4f}" in row
        detail = str(screen.query_one("#run-detail").render())
        assert "Importance: " in detail and "Out-of-sample" in detail
        assert f"({data['in_sample']['candles']:,} candles)" in detail
        trials = screen.query_one("#best-trials", KeyedTable)
        assert trials.row_count == 6  # the whole 3 × 2 grid, best first
        assert str(trials.get_row(str(data["best"]["trial"]))[1]) == best
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BacktestsScreen)


async def test_optimize_a_stored_dataset(db: Database, migrated_url: str) -> None:
    from core.services import backtests
    from core.services.actor import SYSTEM

    candles = sine_candles()
    async with db.session() as s:  # datasets are shared: the operator imports them
        info = await backtests.import_dataset(s, SYSTEM, "BTC/USDT", "1h", candles)
    done = await invoke(
        migrated_url, "optimize", "--dataset", info.id, "--strategy", "sma_cross",
        "--space", "fast=2:6:2", "--space", "slow=12:12", "--sampler", "grid", "--oos", "0",
        "--jobs", "1", "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["timeframe"] == "1h" and data["in_sample"]["candles"] == 600
    assert len(data["trials"]) == 3
    admin = await add_user(db, "admin@example.com", role=Role.ADMIN)
    async with db.session() as s:  # kept for administrators: no owner
        (run,) = await optimizations.list_optimizations(s, admin)
    assert run.id == data["optimization_id"] and run.source == f"dataset {info.id}"
    missing = await invoke(
        migrated_url, "optimize", "--dataset", "nope", "--strategy", "sma_cross",
        "--space", "fast=2:6",
    )  # fmt: skip
    assert missing.exit_code == 1 and "No historical dataset 'nope'" in missing.stderr


async def test_the_optimisations_screen_at_80x24(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    stored = report("small", 12.5)
    stored["importance"] = {"fast": 0.8, "slow": 0.2}
    stored["out_of_sample"] = {
        "start": "2024-02-01T01:00:00Z", "end": "2024-02-10T00:00:00Z", "candles": 216,
        "value": -1.25, "total_return_pct": "-1.2500", "trades": 4,
        "buy_and_hold_return_pct": "3.0000",
    }  # fmt: skip
    async with db.session() as s:
        run_id = await optimizations.record_optimization(s, seeded.actor, stored, "csv s.csv")
    async with signed_in(migrated_url, tmp_path, seeded, size=(80, 24)) as (app, pilot):
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OptimizationsScreen)
        assert screen.query_one("#runs", KeyedTable).keys == [run_id]
        detail = str(screen.query_one("#run-detail").render())
        assert "Importance: fast 80%, slow 20%" in detail
        assert "return -1.2500 % (buy and hold 3.0000 %), 4 trades" in detail
        trials = screen.query_one("#best-trials", KeyedTable)
        assert trials.row_count == 1 and trials.region.height >= 3  # visible at 80×24
