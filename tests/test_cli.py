"""The command line as a user runs it: a real subprocess for the help, the ``db`` commands in
process (tests/cli_runner.py), a real database, no tracebacks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import pg
from tests.cli_runner import invoke, run

pytestmark = pytest.mark.slow  # real subprocesses

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_subcommands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "db" in result.stdout
    assert "opens the dashboard" in result.stdout
    db_help = run(None, "db", "--help")
    for sub in ("upgrade", "downgrade", "current"):
        assert sub in db_help.stdout


def test_unreachable_database_is_one_clear_line() -> None:
    result = run("postgresql://nobody:pw@127.0.0.1:1/nothing", "db", "current")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "cannot reach the database" in result.stderr
    assert "pw" not in result.stderr.replace("postgresql", "")  # the password is masked


def test_not_postgres_url_is_refused() -> None:
    result = run("sqlite:///x.db", "db", "current")
    assert result.exit_code == 1
    assert "must be a PostgreSQL URL" in result.stderr
    assert "Traceback" not in result.stderr


async def test_upgrade_current_downgrade_against_a_fresh_database() -> None:
    url = await pg.create_database("bbx_cli")
    try:
        before = await invoke(url, "db", "current")
        assert before.exit_code == 0, before.stderr
        assert "pending" in before.stdout  # the result, on stdout

        up = await invoke(url, "db", "upgrade")
        assert up.exit_code == 0, up.stderr
        assert "Upgraded base" in up.stderr

        now = await invoke(url, "db", "current")
        assert "up to date" in now.stdout

        down = await invoke(url, "db", "downgrade", "base", "--yes")
        assert down.exit_code == 0, down.stderr
        assert "Now at base" in down.stderr
    finally:
        await pg.drop_database(url)
