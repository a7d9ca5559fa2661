"""``blockbotx db``: migrations."""

from __future__ import annotations

import click

from core.db import migrate
from core.db.engine import Database
from tui.cli.runtime import console, run_with_db, setup_logging


@click.group("db")
def db_group() -> None:
    """Database schema: upgrade, downgrade, current."""
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
def current() -> None:
    """Show the applied revision and whether migrations are pending."""

    async def _go(db: Database) -> None:
        version = await db.check()
        now = await migrate.current_revisions(db)
        heads = migrate.head_revisions()
        state = "up to date" if now == heads else f"pending (head {', '.join(sorted(heads))})"
        console.print(
            f"PostgreSQL {version}; revision {', '.join(sorted(now)) or 'base'}: {state}",
            highlight=False,
        )

    run_with_db(_go, apply_migrations=False)
