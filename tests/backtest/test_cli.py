"""``blockbotx backtest`` and ``blockbotx data import`` as a user runs them: in subprocesses,
but for the dataset test, which runs its commands in-process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models.bots import Backtest
from tests.backtest.test_hand_checked import CSV
from tests.backtest.test_service import add_bot, add_user
from tests.cli_runner import invoke
from tui.cli.main import cli as cli_group

pytestmark = pytest.mark.slow  # real subprocesses

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "postgresql://nobody:pw@127.0.0.1:1/nothing"


def cli(*args: str, database_url: str = NOWHERE) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_csv_backtest_json_without_a_database(tmp_path: Path) -> None:
    path = tmp_path / "hand.csv"
    path.write_text(CSV)
    args = [
        "backtest",
        "--csv",
        str(path),
        "--timeframe",
        "1h",
        "--strategy",
        "sma_cross",
        "--set",
        "fast=2",
        "--set",
        "slow=3",
        "--cash",
        "1000",
        "--fee",
        "0.001",
    ]
    done = cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["backtest_id"] is None
    assert report["trades"] == 1 and report["trade_list"][0]["pnl"] == "-241.51848152"
    assert report["open_trade"]["entry_price"] == "12"
    for key in (
        "final_equity",
        "total_return_pct",
        "win_rate_pct",
        "max_drawdown_pct",
        "sharpe",
        "profit_factor",
    ):
        assert key in report
    table = CliRunner().invoke(cli_group, args)
    assert table.exit_code == 0, table.output
    assert "Final equity" in table.stdout and "820.87" in table.stdout
    assert "Not stored" in table.stderr


def test_csv_backtest_loads_no_database_layer(tmp_path: Path) -> None:
    """A bare strategy on a CSV file needs no database: the process never imports SQLAlchemy,
    the ORM models, the migrations or the services (their import was most of its start-up)."""
    path = tmp_path / "hand.csv"
    path.write_text(CSV)
    script = (
        "import sys\n"
        "from tui.cli.main import cli\n"
        "try:\n"
        "    cli(sys.argv[1:])\n"
        "finally:\n"
        "    print(','.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    args = ["backtest", "--csv", str(path), "--timeframe", "1h", "--strategy", "sma_cross"]
    args += ["--set", "fast=2", "--set", "slow=3", "--cash", "1000", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": NOWHERE},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(done.stdout)["trades"] == 1, done.stderr
    loaded = set(done.stderr.strip().splitlines()[-1].split(","))
    assert "core.backtest.runner" in loaded  # the list is the finished run's
    database = {
        m
        for m in loaded
        if m.split(".")[0] in ("sqlalchemy", "asyncpg", "alembic")
        or m.split(".")[:2] in (["core", "db"], ["core", "services"])
    }
    assert not database, sorted(database)


def test_a_grid_bot_by_name_on_a_csv(tmp_path: Path) -> None:
    from tests.backtest.test_dca_grid import GRID_CSV

    path = tmp_path / "grid.csv"
    path.write_text(GRID_CSV)
    args = ["backtest", "--csv", str(path), "--timeframe", "1h", "--strategy", "grid"]
    args += ["--set", "lower_price=90", "--set", "upper_price=110", "--set", "grid_count=3"]
    args += ["--set", "quote_per_grid=100", "--cash", "1000", "--fee", "0", "--json"]
    done = CliRunner().invoke(cli_group, args, env={"DATABASE_URL": NOWHERE})
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["strategy"] == "grid" and report["final_equity"] == "1026.11111111"
    assert [t["exit_reason"] for t in report["trade_list"]] == ["GRID_SELL", "GRID_SELL"]


def test_cli_errors_are_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        CSV.replace("2024-01-01 05:00,13,13,10,10,1", "2024-01-01 05:00,13,oops,10,10,1")
    )
    cases = [
        (
            ["--csv", str(bad), "--timeframe", "1h", "--strategy", "sma_cross"],
            "line 7: high 'oops' is not a number",
        ),
        (["--csv", str(bad), "--strategy", "sma_cross"], "--csv needs --timeframe"),
        (["--csv", str(bad), "--timeframe", "1h"], "choose --strategy NAME or --bot ID"),
        (
            ["--csv", str(tmp_path / "none.csv"), "--timeframe", "1h", "--strategy", "sma_cross"],
            "Can't read",
        ),
    ]
    good = tmp_path / "good.csv"
    good.write_text(CSV)
    cases += [
        (
            [
                "--csv",
                str(good),
                "--timeframe",
                "1h",
                "--strategy",
                "sma_cross",
                "--set",
                "fast=30",
            ],
            "Fast (30) must be smaller than slow (20)",
        ),
        (
            ["--csv", str(good), "--timeframe", "1h", "--strategy", "sma_cross", "--set", "fats=3"],
            "Fats is an unknown setting",
        ),
        (
            ["--csv", str(good), "--timeframe", "1h", "--strategy", "sma_cross", "--fee", "abc"],
            "fee 'abc' is not a number",
        ),
        (
            ["--csv", str(good), "--timeframe", "1h", "--strategy", "sma_cross", "--risk", "{bad"],
            "--risk is not valid JSON",
        ),
        (
            [
                "--csv",
                str(good),
                "--timeframe",
                "1h",
                "--strategy",
                "sma_cross",
                "--risk",
                '{"stop_loss_percent": 200}',
            ],
            "Stop loss percent must be less than 100",
        ),
    ]
    # the first case as a real process; the rest in-process (same code path, much faster)
    first = cli("backtest", *cases[0][0])
    assert first.returncode == 1 and cases[0][1] in first.stderr and "Traceback" not in first.stderr
    runner = CliRunner()
    for args, message in cases[1:]:
        done = runner.invoke(cli_group, ["backtest", *args], env={"DATABASE_URL": NOWHERE})
        assert done.exit_code == 1, (args, done.output)
        assert message in done.stderr, (args, done.stderr)
        assert done.exception is None or isinstance(done.exception, SystemExit)


async def test_import_then_backtest_a_bot_on_the_dataset(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    alice = await add_user(db, "alice@example.com")
    bot_id = await add_bot(
        db, alice, config={"indicator": {"name": "sma_cross", "fast": 2, "slow": 3}}, risk={}
    )
    path = tmp_path / "hand.csv"
    path.write_text(CSV)
    # the commands run in this process (tests/cli_runner.py): what they do to the database is
    # the point here; the tests above keep the real processes
    imported = await invoke(
        migrated_url, "data", "import", str(path), "--symbol", "SOL/USDT", "--timeframe", "1h"
    )
    assert imported.exit_code == 0, imported.stderr
    assert "Imported 11 SOL/USDT 1h candles" in imported.stderr
    dataset_id = imported.stdout.strip()

    bad = CliRunner().invoke(
        cli_group,
        ["data", "import", str(path), "--symbol", "SOL/USDT", "--timeframe", "4h"],
        env={"DATABASE_URL": NOWHERE},
    )
    assert bad.exit_code == 1 and "the timeframe is 4h" in bad.stderr  # checked before connecting

    done = await invoke(
        migrated_url, "backtest", "--dataset", dataset_id, "--bot", bot_id,
        "--cash", "1000", "--fee", "0.001", "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    assert (
        report["backtest_id"]
        and report["trades"] == 1
        and report["trade_list"][0]["pnl"] == "-241.51848152"
    )
    async with db.session() as session:
        row = await session.get(Backtest, report["backtest_id"])
        assert row.user_id == alice.user_id and row.bot_id == bot_id
        assert row.config["source"].startswith(f"dataset {dataset_id}")
        assert await session.scalar(select(func.count()).select_from(Backtest)) == 1

    missing = await invoke(migrated_url, "backtest", "--dataset", "nope", "--strategy", "sma_cross")
    assert missing.exit_code == 1 and "No historical dataset 'nope'" in missing.stderr
