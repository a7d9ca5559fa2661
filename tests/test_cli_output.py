"""Commands a script can use: results (tables, credentials, ``--json``) on stdout, messages
on stderr; ``blockbotx --help`` imports no subcommand (in-process through click's runner,
against the real test database)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from core.db import migrate
from core.db.engine import Database
from tests.backtest.test_hand_checked import CSV
from tui.cli.main import SUBCOMMANDS, SUMMARIES, cli

ROOT = Path(__file__).resolve().parents[1]

Run = Callable[..., Result]


@pytest.fixture
def run(db: Database, migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    from core.config import get_settings

    get_settings.cache_clear()

    def _run(*args: str, stdin: str = "") -> Result:
        return CliRunner().invoke(cli, list(args), input=stdin)

    yield _run
    get_settings.cache_clear()


def test_help_lists_every_command_without_importing_any() -> None:
    assert set(SUMMARIES) == set(SUBCOMMANDS), "every subcommand needs its --help line"
    script = (
        "import sys\n"
        "from tui.cli.main import cli\n"
        "try:\n"
        "    cli(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(','.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    loaded = set(done.stderr.strip().splitlines()[-1].split(","))
    for name, summary in SUMMARIES.items():
        assert f"  {name} " in done.stdout and " ".join(summary.split()[:3]) in done.stdout
    heavy = {"sqlalchemy", "textual", "core.db.engine", "asyncpg", "rich"}
    assert not heavy & loaded, heavy & loaded
    assert not {m for m in loaded if m.startswith("tui.cli.")} - {"tui.cli.main"}


def test_doctor_table_on_stdout_verdict_on_stderr_and_json(run: Run) -> None:
    table = run("doctor")
    assert "BlockbotX doctor" in table.stdout and "database" in table.stdout
    assert "BlockbotX doctor" not in table.stderr
    assert "All good." in table.stderr or "problem(s) to fix" in table.stderr
    as_json = run("doctor", "--json")
    report = json.loads(as_json.stdout)
    assert as_json.exit_code == (0 if report["ok"] else 1)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["database"]["status"] == "ok"
    assert {"name", "status", "detail", "fix"} <= set(checks["database"])


def test_db_current_on_stdout_and_as_json(run: Run) -> None:
    text = run("db", "current")
    assert text.exit_code == 0, text.stderr
    assert "PostgreSQL" in text.stdout and "up to date" in text.stdout
    report = json.loads(run("db", "current", "--json").stdout)
    assert report["up_to_date"] is True
    assert report["revisions"] == report["heads"] == sorted(migrate.head_revisions())
    assert report["postgresql"]


def test_data_list_as_json(run: Run, tmp_path: Path) -> None:
    assert json.loads(run("data", "list", "--json").stdout) == []
    path = tmp_path / "sol.csv"
    path.write_text(CSV)
    imported = run("data", "import", str(path), "--symbol", "SOL/USDT", "--timeframe", "1h")
    assert imported.exit_code == 0, imported.stderr
    [dataset] = json.loads(run("data", "list", "--json").stdout)
    assert dataset["id"] == imported.stdout.strip()
    assert (dataset["symbol"], dataset["timeframe"]) == ("SOL/USDT", "1h")
    assert dataset["candle_count"] == len(CSV.strip().splitlines()) - 1
    assert dataset["start_date"] < dataset["end_date"]  # ISO 8601 sorts as time


def test_signal_provider_list_as_json_holds_no_key(run: Run) -> None:
    added = run("signals", "provider", "add", "alerts")
    key = added.stdout.strip()
    assert added.exit_code == 0 and key, added.stderr
    listed = run("signals", "provider", "list", "--json")
    [provider] = json.loads(listed.stdout)
    assert provider["name"] == "alerts" and provider["system"] is True
    assert provider["has_key"] is True and key not in listed.stdout
    assert provider["reliability"] == str(provider["reliability"])  # a decimal string


def test_engine_once_summary_on_stdout_and_as_json(run: Run) -> None:
    text = run("engine", "--once")
    assert text.exit_code == 0, text.stderr
    assert "0 cycle(s) run, 0 acted, 0 failed" in text.stdout
    report = json.loads(run("engine", "--once", "--json").stdout)
    assert report == {"cycles": 0, "acted": 0, "errors": 0, "exits": 0}
    bad = run("engine", "--json")
    assert bad.exit_code == 2 and "--json goes with --once" in bad.stderr
    assert bad.stdout == ""


@pytest.mark.slow  # builds the demo's history
def test_demo_prints_the_credentials_on_stdout(run: Run) -> None:
    done = run("demo", "--days", "0.1", "--email", "demo@example.com")
    assert done.exit_code == 0, done.stderr
    assert "demo@example.com" in done.stdout and "password" in done.stdout
    assert "demo@example.com" not in done.stderr
