"""What every subcommand does first: settings, logging, the database, one-line errors.

The database layer (SQLAlchemy, the ORM models, the migrations) is imported only by the
functions that open it: a command that needs no database, like ``backtest --csv``, never pays
for loading it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click
from rich.console import Console

from core import logs
from core.config import ConfigError, get_settings

if TYPE_CHECKING:
    from core.db.engine import Database

T = TypeVar("T")

console = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """A clear one-line error and exit status 1: never a traceback."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(1)


def setup_logging(json_format: bool = False) -> None:
    try:
        settings = get_settings()
    except ConfigError as exc:
        fail(str(exc))
    logs.setup(settings.log_level, json_format=json_format)


log_format_option = click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text or one JSON object per line.",
)
"""The servers' and the engine's ``--log-format``."""


def headless_logging(log_format: str) -> None:
    """A server's logs: to the log file and to stderr too (systemd's journal, a log shipper),
    as text or one JSON object per line."""
    setup_logging(json_format=log_format == "json")
    logs.add_stderr_handler(json_format=log_format == "json")


def connect() -> Database:
    """Open the configured database (starting the embedded one if needed)."""
    from core.db.engine import DatabaseUnavailable, open_database

    try:
        settings = get_settings()
        with console.status("Starting the database…", spinner="dots"):
            return open_database(settings)
    except (ConfigError, DatabaseUnavailable) as exc:
        fail(str(exc))
    except Exception as exc:  # pgserver start-up failures arrive as assorted exceptions
        fail(f"cannot start the embedded PostgreSQL: {str(exc).splitlines()[0]}")
    raise AssertionError("unreachable")


def _print(message: str) -> None:
    console.print(message, highlight=False)


async def ready(
    db: Database,
    *,
    apply_migrations: bool = True,
    seed: bool = True,
    say: Callable[[str], None] = _print,
) -> bool:
    """Check the database is reachable and (by default) migrated, and refresh the reference
    data (help center, DeFi registry, system templates: idempotent). With ``seed=False`` that
    refresh happens only when migrations were applied (a new or upgraded database needs it at
    once); True when the reference data was refreshed. ``say`` tells the user what is done
    (the dashboard shows it on its sign-in screen)."""
    from core.db import migrate

    await db.check()
    migrated = False
    if apply_migrations and await migrate.pending(db):
        say("Applying database migrations…")
        await migrate.upgrade(db)
        say("[green]Database schema is up to date.[/]")
        migrated = True
    if apply_migrations and (seed or migrated):
        from core.seed import seed_reference_data

        await seed_reference_data(db)
        return True
    return False


def run_with_db(fn: Callable[[Database], Awaitable[T]], *, apply_migrations: bool = True) -> T:
    """Run ``fn(db)`` in an event loop with a ready database, disposing it afterwards."""
    from core.db.engine import DatabaseUnavailable

    db = connect()

    async def _main() -> T:
        try:
            await ready(db, apply_migrations=apply_migrations)
            return await fn(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(_main())
    except DatabaseUnavailable as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
    raise AssertionError("unreachable")


def echo(message: str) -> None:
    click.echo(message)
