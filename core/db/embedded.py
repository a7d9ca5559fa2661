"""The embedded PostgreSQL 16 (``pgserver``) used when ``DATABASE_URL`` is not set.

Its data lives in the user data dir and survives between runs. pgserver counts the processes
using a data dir and stops the server when the last of them exits, so a dashboard and an engine
started side by side share one server.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from core import paths

log = logging.getLogger(__name__)

DATABASE_NAME = "blockbotx"
_servers: dict[Path, Any] = {}


def pgdata_dir() -> Path:
    return paths.data_dir() / "pgdata"


def server(pgdata: Path | None = None) -> Any:
    """Start (or join) the embedded server for ``pgdata``; kept alive for this process."""
    import warnings

    pgdata = Path(pgdata or pgdata_dir())
    if pgdata not in _servers:
        os.environ.setdefault("XDG_RUNTIME_DIR", str(paths.state_dir()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            log.info("starting embedded PostgreSQL in %s", pgdata)
            _servers[pgdata] = pgserver.get_server(pgdata, cleanup_mode="stop")
    return _servers[pgdata]


def socket_dir(pgdata: Path | None = None) -> str:
    uri = server(pgdata).get_uri()
    return uri.split("host=", 1)[1].split("&", 1)[0]


def ensure_database(name: str = DATABASE_NAME, pgdata: Path | None = None) -> str:
    """Create database ``name`` if missing and return its async SQLAlchemy URL."""
    srv = server(pgdata)
    exists = srv.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
    if "(1 row)" not in exists:
        srv.psql(f'CREATE DATABASE "{name}";')
    return url_for(name, pgdata)


def url_for(name: str, pgdata: Path | None = None) -> str:
    return f"postgresql+asyncpg://postgres@/{name}?host={socket_dir(pgdata)}"


def stop(pgdata: Path | None = None) -> None:
    """Stop the embedded server now (backups/tests); the next ``server()`` starts it again."""
    pgdata = Path(pgdata or pgdata_dir())
    srv = _servers.pop(pgdata, None)
    if srv is not None:
        srv.cleanup()
