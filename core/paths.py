"""Where BlockbotX keeps its files: one place that knows the user directories."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

_DIRS = PlatformDirs("blockbotx", appauthor=False)


def _dir(env: str, default: str, *, private: bool = False) -> Path:
    """The directory (made if missing). ``private``: made 0700, and our default one kept 0700;
    a directory the operator chose keeps the mode they gave it."""
    chosen = os.environ.get(env)
    path = Path(chosen or default)
    path.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    if private and not chosen and path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def data_dir() -> Path:
    """Embedded database, exports, backups. ``BLOCKBOTX_DATA_DIR`` overrides."""
    return _dir("BLOCKBOTX_DATA_DIR", _DIRS.user_data_dir)


def config_dir() -> Path:
    """``config.toml`` and the master key file. ``BLOCKBOTX_CONFIG_DIR`` overrides."""
    return _dir("BLOCKBOTX_CONFIG_DIR", _DIRS.user_config_dir)


def state_dir() -> Path:
    """Logs (0700: they name accounts and addresses). ``BLOCKBOTX_STATE_DIR`` overrides."""
    return _dir("BLOCKBOTX_STATE_DIR", _DIRS.user_state_dir, private=True)
