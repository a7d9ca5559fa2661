"""The embedded PostgreSQL 16 (``pgserver``) used when ``DATABASE_URL`` is not set.

Its data lives in the user data dir and survives between runs. pgserver counts the processes
using a data dir (their pids, in ``.handle_pids.json``) and stops the server when the last of
them exits, so a dashboard and an engine started side by side share one server.

A process that dies without saying so would stay in that list and keep the server up for
ever, so: SIGTERM and SIGHUP (a closed SSH session) release this process's place before the
process ends, and the pids of processes that are gone (kill -9) are dropped when a process
joins and again when one leaves.

Running as root, pgserver runs PostgreSQL as a system user ``pgserver`` (PostgreSQL refuses to
run as root) and creates that user on the first start; that is said on stderr when it happens.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from core import paths

log = logging.getLogger(__name__)

DATABASE_NAME = "blockbotx"
SYSTEM_USER = "pgserver"  # pgserver's own choice when run as root
PIDS_FILE = ".handle_pids.json"
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

            _say_if_adding_the_system_user()
            prune_dead_pids(pgdata)
            log.info("starting embedded PostgreSQL in %s", pgdata)
            _servers[pgdata] = pgserver.get_server(pgdata, cleanup_mode="stop")
            # atexit runs last-registered first: this prune runs before pgserver's own exit
            # hook, so a dead pid left in the list can't stop the last process stopping it
            atexit.register(prune_dead_pids, pgdata)
            _release_on_signals()
    return _servers[pgdata]


def prune_dead_pids(pgdata: Path) -> list[int]:
    """Drop the pids of processes that are gone from the list of the server's users (under
    pgserver's lock); returns the pids dropped."""
    import json

    import psutil
    from pgserver.postgres_server import PostgresServer

    listing = Path(pgdata) / PIDS_FILE
    with PostgresServer._lock:
        if not listing.exists():
            return []
        pids = [int(p) for p in json.loads(listing.read_text() or "[]")]
        alive = [p for p in pids if p == os.getpid() or psutil.pid_exists(p)]
        if alive != pids:
            listing.write_text(json.dumps(alive))
    dead = [p for p in pids if p not in alive]
    if dead:
        log.info("embedded PostgreSQL: dropped pids %s of processes that are gone", dead)
    return dead


def _release(signum: int, _frame: FrameType | None) -> None:
    """Give up this process's place in every embedded server (stopping it if this was the last
    user), then die of the signal as if it had not been caught."""
    for pgdata in list(_servers):
        stop(pgdata)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _release_on_signals() -> None:
    """SIGTERM and SIGHUP end the process without running exit hooks: release first. Handlers
    someone installed already (an asyncio loop's stops the engine cleanly) are left alone."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _release)


def _say_if_adding_the_system_user() -> None:
    if os.name != "posix" or os.geteuid() != 0:
        return
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        message = (
            f"Running as root: the embedded PostgreSQL won't run as root, so a system user "
            f"{SYSTEM_USER!r} is being created (useradd) to run it."
        )
        log.warning(message)
        sys.stderr.write(f"BlockbotX: {message}\n")


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
    """Give up this process's use of the embedded server now (backups/tests, a signal): it
    stops if no live process uses it any more; the next ``server()`` starts it again."""
    pgdata = Path(pgdata or pgdata_dir())
    srv = _servers.pop(pgdata, None)
    if srv is not None:
        prune_dead_pids(pgdata)
        srv.cleanup()
