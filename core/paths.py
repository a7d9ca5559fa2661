"""Where BlockbotX keeps its files: one place that knows the user directories."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

_DIRS = PlatformDirs("blockbotx", appauthor=False)


def _dir(env: str, default: str) -> Path:
    path = Path(os.environ.get(env) or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Embedded database, exports, backups. ``BLOCKBOTX_DATA_DIR`` overrides."""
    return _dir("BLOCKBOTX_DATA_DIR", _DIRS.user_data_dir)


def config_dir() -> Path:
    """``config.toml`` and the master key file. ``BLOCKBOTX_CONFIG_DIR`` overrides."""
    return _dir("BLOCKBOTX_CONFIG_DIR", _DIRS.user_config_dir)


def state_dir() -> Path:
    """Logs. ``BLOCKBOTX_STATE_DIR`` overrides."""
    return _dir("BLOCKBOTX_STATE_DIR", _DIRS.user_state_dir)
