"""``blockbotx optimize`` as a user runs it: subprocesses on the test PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.backtest import BacktestSettings, run
from core.optimize import search
from core.optimize.search import windows
from core.optimize.storage import open_storage
from core.strategies import technical_strategy
from tests.cli_runner import run as in_process
from tests.optimize.series import GRID, OPTIMUM, ROOT, cli, sine_candles, write_csv
from tui.cli.main import cli as cli_group

SETTINGS = BacktestSettings(Decimal(10000), Decimal("0.001"), "1h")
pytestmark = pytest.mark.slow  # real subprocesses, and optimize forks worker processes


@pytest.fixture
def series(tmp_path: Path) -> Path:
    return write_csv(sine_candles(), tmp_path / "sine.csv")


def optimize(csv: Path, url: str, *args: str) -> dict:
    """The search's JSON report; with ``--jobs 1`` run in this process (no worker is forked,
    tests/cli_runner.py), else in a process of its own, which forks its workers."""
    command = ("optimize", "--csv", str(csv), "--timeframe", "1h", "--strategy", "sma_cross",
               "--fee", "0.001", *args, "--json")  # fmt: skip
    if args[args.index("--jobs") + 1] == "1":
        result = in_process(url, *command)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)
    done = cli(*command, database_url=url)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_grid_finds_the_known_optimum_and_its_value_backtests_exactly(
    series: Path, migrated_url: str
) -> None:
    candles = sine_candles()
    brute = {
        (f, s): run(technical_strategy("sma_cross", {"fast": f, "slow": s}), candles, SETTINGS)
        for f in range(2, 11, 2)
        for s in range(12, 41, 4)
    }
    top = max(brute, key=lambda k: brute[k].total_return_pct)
    assert dict(zip(("fast", "slow"), top, strict=True)) == OPTIMUM  # the series' design

    data = optimize(series, migrated_url, *GRID, "--sampler", "grid", "--oos", "0", "--jobs", "2")
    assert data["best"]["params"] == OPTIMUM
    assert len(data["trials"]) == len(brute) == 40
    assert {(t["params"]["fast"], t["params"]["slow"]) for t in data["trials"]} == set(brute)
    for trial in data["trials"]:  # every trial is the backtest's own figure
        key = (trial["params"]["fast"], trial["params"]["slow"])
        assert Decimal(str(trial["value"])) == brute[key].total_return_pct
    assert data["in_sample"]["candles"] == 600 and data["out_of_sample"] is None

    # The best parameters, backtested alone by the user, give exactly the reported value.
    done = cli(
        "backtest", "--csv", str(series), "--timeframe", "1h", "--strategy", "sma_cross",
        "--set", "fast=4", "--set", "slow=12", "--fee", "0.001", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    alone = json.loads(done.stdout)["total_return_pct"]
    assert alone == "337.9924" and Decimal(str(data["best"]["value"])) == Decimal(alone)
    assert data["importance"] and set(data["importance"]) == {"fast", "slow"}


def test_two_processes_sharing_a_study_run_no_trial_twice(series: Path, migrated_url: str) -> None:
    import optuna

    for sampler, space in (
        ("grid", GRID),
        # a 12-point space with 15 trials each: both samplers keep proposing taken points
        ("tpe", ("--space", "fast=2:5", "--space", "slow=12:14")),
    ):
        study = f"shared-{sampler}-{uuid.uuid4().hex[:8]}"
        args = ["--sampler", sampler, *space, "--oos", "0", "--jobs", "2", "--study", study]
        if sampler == "tpe":
            args += ["--trials", "15"]
        procs = [
            subprocess.Popen(
                [
                    *_cli_command(),
                    "optimize",
                    "--csv",
                    str(series),
                    "--timeframe",
                    "1h",
                    "--strategy",
                    "sma_cross",
                    *args,
                    "--json",
                ],
                cwd=ROOT,
                env=_env(migrated_url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=900) for p in procs]
        for proc, (_, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err
        storage = open_storage(migrated_url)
        try:
            trials = optuna.load_study(study_name=study, storage=storage).get_trials()
        finally:
            storage.engine.dispose()
        evaluated = [t for t in trials if "result" in t.user_attrs]  # backtested by a worker
        keys = [tuple(sorted(t.params.items())) for t in evaluated]
        assert len(keys) == len(set(keys)), f"{sampler}: a parameter set was backtested twice"
        if sampler == "grid":
            assert len(keys) == 40  # the whole grid, once
        else:
            assert len(trials) == 30  # 15 trials each
            for t in trials:  # a repeated proposal took the first one's value
                if "duplicate_of" in t.user_attrs and t.value is not None:
                    (original,) = [o for o in trials if o.number == t.user_attrs["duplicate_of"]]
                    assert original.params == t.params and original.value == t.value
        assert json.loads(outputs[0][0])["study"] == study


def _cli_command() -> list[str]:
    import sys

    return [sys.executable, "-m", "tui.cli"]


def _env(url: str) -> dict[str, str]:
    import os

    return {**os.environ, "DATABASE_URL": url, "NO_COLOR": "1"}


def test_walk_forward_windows_backtest_their_out_of_sample_alone(
    series: Path, migrated_url: str
) -> None:
    data = optimize(
        series, migrated_url, "--space", "fast=2:6:2", "--space", "slow=12:20:8",
        "--sampler", "grid", "--oos", "0.4", "--walk-forward", "2", "--jobs", "1",
    )  # fmt: skip
    candles = sine_candles()
    parts = windows(600, 0.4, 2)
    assert [(p.in_sample.start, p.in_sample.stop) for p in parts] == [(0, 360), (120, 480)]
    assert [(p.out_of_sample.start, p.out_of_sample.stop) for p in parts] == [
        (360, 480),
        (480, 600),
    ]
    growth = Decimal(1)
    for part, window in zip(parts, data["walk_forward"], strict=True):
        assert window["in_sample"]["candles"] == 360
        alone = run(
            technical_strategy("sma_cross", window["best"]["params"]),
            candles[part.out_of_sample],
            SETTINGS,
        )
        assert window["out_of_sample"]["total_return_pct"] == str(alone.total_return_pct)
        growth *= 1 + alone.total_return_pct / 100
    assert data["out_of_sample_return_pct"] == str(((growth - 1) * 100).quantize(Decimal("0.0001")))
    assert data["best"] == data["walk_forward"][-1]["best"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--space", "fast=5-30"), "--space takes NAME=LOW:HIGH"),
        (("--space", "fast=a:9"), "'a' is not a number"),
        (("--space", "fast=30:5"), "the high bound is below the low one"),
        (("--space", "speed=5:30"), "the strategy has no parameter 'speed'"),
        (("--space", "fast=5:30", "--sampler", "random"), "Unknown sampler 'random'"),
        (("--space", "fast=5:30", "--objective", "luck"), "Unknown objective 'luck'"),
        (("--space", "fast=5:30", "--oos", "1"), "--oos is a fraction"),
        ((), "Give at least one --space"),
    ],
)
def test_bad_input_gets_one_clear_line(series: Path, args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(
        cli_group,
        ["optimize", "--csv", str(series), "--timeframe", "1h", "--strategy", "sma_cross", *args],
    )
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") <= 2
    assert "Traceback" not in result.output


def test_an_unknown_strategy_is_named(series: Path) -> None:
    result = CliRunner().invoke(
        cli_group,
        ["optimize", "--csv", str(series), "--timeframe", "1h", "--strategy", "moon",
         "--space", "fast=5:30"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Unknown strategy 'moon'" in result.stderr and "sma_cross" in result.stderr


def test_a_study_searching_something_else_is_refused(
    series: Path, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork(*_: object) -> None:
        raise AssertionError("one job started a worker process")

    study = f"other-{uuid.uuid4().hex[:8]}"
    with monkeypatch.context() as patched:  # one job runs its trials in this process
        patched.setattr(search.mp, "get_context", no_fork)
        first = optimize(series, migrated_url, "--space", "fast=2:3", "--space", "slow=12:12",
                         "--sampler", "grid", "--oos", "0", "--jobs", "1", "--study", study)  # fmt: skip
    assert len(first["trials"]) == 2
    # refused before any worker is forked: in this process (tests/cli_runner.py)
    done = in_process(
        migrated_url, "optimize", "--csv", str(series), "--timeframe", "1h",
        "--strategy", "ema_cross", "--space", "fast=2:3", "--study", study,
    )  # fmt: skip
    assert done.exit_code == 1
    assert f"Study '{study}' already searches sma_cross" in done.stderr
