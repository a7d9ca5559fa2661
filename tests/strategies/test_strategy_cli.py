"""``blockbotx strategy new|list|check`` and ``--strategy-path``: in-process through click, and
one whole process (a backtest of an installed strategy)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.strategies import catalog
from tests.strategies.installed import NEXT_CLOSE, docs_example
from tui.cli.main import cli as cli_group

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # real subprocesses


def cli(tmp_path: Path, *args: str) -> Result:
    """The command in this process, with its own config dir and no strategy path inherited."""
    catalog.reload()
    env = {
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "BLOCKBOTX_CONFIG_DIR": str(tmp_path / "config"),
        catalog.PATH_ENV: "",  # restored after the run (--strategy-path sets it)
    }
    try:
        return CliRunner().invoke(cli_group, list(args), env=env, catch_exceptions=False)
    finally:
        catalog.reload()


def process(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "BLOCKBOTX_CONFIG_DIR": str(tmp_path / "config"),
        "DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:1/nothing",  # none of these need one
    }
    env.pop("BLOCKBOTX_STRATEGY_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_new_writes_a_template_that_lists_checks_backtests_and_passes_its_own_test(
    tmp_path: Path,
) -> None:
    made = cli(tmp_path, "strategy", "new", "my_trend")
    assert made.exit_code == 0, made.stderr
    folder = tmp_path / "config" / "strategies"  # the user strategies directory by default
    assert made.stdout.split() == [str(folder / "my_trend.py"), str(folder / "test_my_trend.py")]

    listed = cli(tmp_path, "strategy", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    by_name = {s["name"]: s for s in json.loads(listed.stdout)["strategies"]}
    assert by_name["my_trend"]["source"] == str(folder / "my_trend.py")
    assert by_name["my_trend"]["params"]["fast"] == {
        "type": "int",
        "default": 12,
        "help": "Fast EMA period, in candles.",
        "min": 2,
        "max": 500,
    }
    assert by_name["sma_cross"]["source"] == "built-in"

    checked = cli(tmp_path, "strategy", "check", "my_trend")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "look-ahead: no divergence" in checked.stdout
    assert "warm-up: no divergence" in checked.stdout

    # the test written beside it passes (its functions, called as pytest would)
    spec = importlib.util.spec_from_file_location("written_test", folder / "test_my_trend.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.test_signals_have_one_value_per_candle_and_fire()
    module.test_no_look_ahead_and_warmup_is_long_enough()

    again = cli(tmp_path, "strategy", "new", "my_trend")
    assert again.exit_code == 1 and "already exists; nothing was written" in again.stderr
    bad = cli(tmp_path, "strategy", "new", "My-Trend", "--dir", str(tmp_path / "elsewhere"))
    assert bad.exit_code == 1 and "is not a strategy name" in bad.stderr
    assert not (tmp_path / "elsewhere").exists()


def test_check_flags_look_ahead_with_the_bar_and_strategy_path_loads_a_directory(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "peeker.py").write_text(NEXT_CLOSE, encoding="utf-8")
    (folder / "donchian.py").write_text(docs_example(), encoding="utf-8")
    (folder / "broken.py").write_text("import not_a_module_anywhere\n", encoding="utf-8")

    flagged = cli(tmp_path, "--strategy-path", str(folder), "strategy", "check", "peeker")
    assert flagged.exit_code == 1
    assert "✗ look-ahead: first diverged at bar 1 (2025-01-01 01:00 UTC)" in flagged.stdout

    fine = cli(tmp_path, "--strategy-path", str(folder), "strategy", "check", "donchian_breakout")
    assert fine.exit_code == 0, fine.stdout + fine.stderr

    listed = cli(tmp_path, "--strategy-path", str(folder), "strategy", "list")
    assert listed.exit_code == 0
    assert "donchian_breakout" in listed.stdout and "peeker" in listed.stdout
    assert "not loaded:" in listed.stderr and "ModuleNotFoundError" in listed.stderr

    unknown = cli(tmp_path, "strategy", "check", "peeker")  # not on the path this time
    assert unknown.exit_code == 1 and "Unknown strategy 'peeker'" in unknown.stderr
    bad_value = cli(
        tmp_path, "--strategy-path", str(folder), "strategy", "check", "donchian_breakout",
        "--set", "entry=x",
    )  # fmt: skip
    assert bad_value.exit_code == 1 and "Entry must be a whole number" in bad_value.stderr


def test_backtest_runs_an_installed_strategy_from_the_command_line(tmp_path: Path) -> None:
    from tests.backtest.test_service import write_csv

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "donchian.py").write_text(docs_example(), encoding="utf-8")
    csv_path = write_csv(tmp_path / "candles.csv", 600)
    args = ["backtest", "--csv", str(csv_path), "--timeframe", "1h", "--json"]
    args += ["--strategy", "donchian_breakout", "--set", "entry=15", "--set", "exit=5"]
    done = process(tmp_path, "--strategy-path", str(folder), *args)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["strategy"] == "donchian_breakout" and report["trades"] >= 1
