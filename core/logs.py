"""Logging to a file in the user state dir (never to the terminal under the TUI)."""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
import os
import sys
from pathlib import Path

from core import paths

LOG_FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for headless commands run under systemd or a log shipper."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files only their owner can read (mode 0600): log lines name
    accounts, addresses and bots, and the host may have other users."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # a file left 0644 by an older version is closed up too
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def log_file() -> Path:
    return paths.state_dir() / "blockbotx.log"


def setup(level: str = "INFO", *, json_format: bool = False, path: Path | None = None) -> Path:
    """Send every log record to the rotating log file; returns its path."""
    path = path or log_file()
    handler = PrivateRotatingFileHandler(
        path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(JsonFormatter() if json_format else logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    # asyncpg/SQLAlchemy/aiohttp are chatty at DEBUG; keep them at WARNING unless asked for.
    for noisy in ("sqlalchemy.engine", "asyncio", "aiohttp.access", "alembic.runtime"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path


def add_stderr_handler(*, json_format: bool = False) -> None:
    """A headless server also logs to stderr (for systemd / a log shipper), besides the file."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_format else logging.Formatter(LOG_FORMAT))
    logging.getLogger().addHandler(handler)
