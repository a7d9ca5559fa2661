"""A bad ``config.toml``, setting or ``DATABASE_URL``: one line naming the file (or variable) and
the field, exit status 1, no traceback; and the log file only its owner can read."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # real subprocesses


def blockbotx(
    tmp_path: Path, *args: str, config: bytes | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``blockbotx ARGS`` with its own config and state dirs (and ``config.toml`` if given)."""
    config_dir, state_dir = tmp_path / "config", tmp_path / "state"
    config_dir.mkdir(exist_ok=True)
    if config is not None:
        (config_dir / "config.toml").write_bytes(config)
    base = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKBOTX_")}
    base.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env={
            **base,
            "BLOCKBOTX_CONFIG_DIR": str(config_dir),
            "BLOCKBOTX_STATE_DIR": str(state_dir),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (b'log_level = "LOUD"\n', "log_level: must be one of DEBUG, INFO, WARNING"),
        (
            b'log_levle = "DEBUG"\n',
            "unknown setting 'log_levle' (did you mean 'log_level'?)",
        ),
        (b"smtp_prot = 25\n", "unknown setting 'smtp_prot' (did you mean 'smtp_port'?)"),
        (b"frobnicate = 1\n", "unknown setting 'frobnicate'"),
        ('theme = "caf\u00e9"\n'.encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 12)"),
        (b"db_pool_size = 0\n", "db_pool_size: Input should be greater than or equal to 1"),
        (b"log_level = \n", "Invalid value"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_the_file_and_field(
    tmp_path: Path, config: bytes, expected: str
) -> None:
    line = one_line_error(blockbotx(tmp_path, "db", "current", config=config))
    assert str(tmp_path / "config" / "config.toml") in line
    assert expected in line


def test_a_bad_setting_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    line = one_line_error(
        blockbotx(
            tmp_path, "db", "current", config=b'log_level = "debug"\n', BLOCKBOTX_LOG_LEVEL="LOUD"
        )
    )
    assert "environment variable BLOCKBOTX_LOG_LEVEL: log_level: must be one of" in line
    assert "config.toml" not in line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "DATABASE_URL is not a database URL; write it as postgresql://"),
        ("postgresql://u:hunter22@db.example:port/x", "DATABASE_URL is not a database URL"),
        ("mysql://u@localhost/x", "DATABASE_URL must be a PostgreSQL URL, not mysql"),
    ],
)
def test_a_bad_database_url_gets_a_message_about_that_url(
    tmp_path: Path, url: str, expected: str
) -> None:
    line = one_line_error(blockbotx(tmp_path, "db", "current", DATABASE_URL=url))
    assert expected in line
    assert "embedded" not in line and "hunter22" not in line


def test_the_log_file_is_private(tmp_path: Path, migrated_url: str) -> None:
    result = blockbotx(
        tmp_path, "db", "current", config=b'log_level = "info"\n', DATABASE_URL=migrated_url
    )
    assert result.returncode == 0, result.stderr
    log = tmp_path / "state" / "blockbotx.log"
    assert log.is_file()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_a_log_file_left_readable_is_closed_up(tmp_path: Path) -> None:
    import logging

    from core import logs

    old = tmp_path / "blockbotx.log"
    old.write_text("an older line\n")
    old.chmod(0o644)
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        logs.setup("INFO", path=old)
        logging.getLogger("test").info("a new line")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert old.read_text().startswith("an older line\n") and "a new line" in old.read_text()
