"""``blockbotx db``: migrations, backup, restore."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from core.db import migrate
from core.db.engine import Database
from tui.cli.output import emit_json, out
from tui.cli.runtime import console, fail, run_with_db, setup_logging


@click.group("db")
def db_group() -> None:
    """Database: schema migrations, backup and restore."""
    setup_logging()


@db_group.command("upgrade")
@click.argument("revision", default="heads")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""

    async def _go(db: Database) -> None:
        before = await migrate.current_revisions(db)
        await migrate.upgrade(db, revision)
        after = await migrate.current_revisions(db)
        if before == after:
            console.print(f"Already at {', '.join(sorted(after)) or 'base'}.", highlight=False)
        else:
            console.print(
                f"Upgraded {', '.join(sorted(before)) or 'base'} → {', '.join(sorted(after))}.",
                highlight=False,
            )

    run_with_db(_go, apply_migrations=False)


@db_group.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def downgrade(revision: str, yes: bool) -> None:
    """Undo migrations down to REVISION (`base` removes every table and all data)."""
    if revision == "base" and not yes:
        click.confirm("This drops every BlockbotX table and its data. Continue?", abort=True)

    async def _go(db: Database) -> None:
        await migrate.downgrade(db, revision)
        now = await migrate.current_revisions(db)
        console.print(f"Now at {', '.join(sorted(now)) or 'base'}.", highlight=False)

    run_with_db(_go, apply_migrations=False)


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def current(as_json: bool) -> None:
    """Show the applied revision and whether migrations are pending (on stdout)."""

    async def _go(db: Database) -> None:
        version = await db.check()
        now = await migrate.current_revisions(db)
        heads = migrate.head_revisions()
        if as_json:
            emit_json(
                {
                    "postgresql": version,
                    "revisions": sorted(now),
                    "heads": sorted(heads),
                    "up_to_date": now == heads,
                }
            )
            return
        state = "up to date" if now == heads else f"pending (head {', '.join(sorted(heads))})"
        out.print(f"PostgreSQL {version}; revision {', '.join(sorted(now)) or 'base'}: {state}")

    run_with_db(_go, apply_migrations=False)


def _progress_bar():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    )


@db_group.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
def backup_cmd(file: Path | None) -> None:
    """Dump the whole database to FILE (default: a timestamped file in the data dir)."""
    from core import paths
    from core.db import backup

    target = file or paths.data_dir() / "backups" / f"blockbotx-{datetime.now():%Y%m%d-%H%M%S}.dump"

    async def _go(db: Database) -> None:
        with _progress_bar() as bar:
            task = bar.add_task("Backing up", total=None)

            def step(done: int, total: int, what: str) -> None:
                bar.update(task, completed=done, total=total, description=f"Backing up {what}")

            try:
                result = await backup.backup(db, target, step)
            except backup.BackupError as exc:
                fail(str(exc))
        console.print(
            f"Backed up {result.tables} tables to {result.path} ({result.bytes:,} bytes).",
            highlight=False,
        )

    run_with_db(_go, apply_migrations=False)


@db_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite a database that already holds data.")
def restore_cmd(file: Path, force: bool) -> None:
    """Restore FILE (made by `db backup`) in one transaction."""
    from core.db import backup

    async def _go(db: Database) -> None:
        with _progress_bar() as bar:
            task = bar.add_task("Restoring", total=None)

            def step(done: int, total: int, what: str) -> None:
                bar.update(task, completed=done, total=total, description=f"Restoring {what}")

            try:
                tables = await backup.restore(db, file, force=force, progress=step)
            except backup.BackupError as exc:
                fail(str(exc))
        console.print(f"Restored {tables} tables from {file}.", highlight=False)

    run_with_db(_go, apply_migrations=False)
