"""``blockbotx doctor``: a table of what is fine and what to fix."""

from __future__ import annotations

import asyncio

import click
from rich.table import Table

from core.config import ConfigError, get_settings
from core.db.engine import Database, DatabaseUnavailable, open_database
from core.doctor import Check, DoctorContext, Status, run_checks
from tui.cli.output import emit_json, out
from tui.cli.runtime import console, setup_logging

STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def render(checks: list[Check]) -> Table:
    table = Table(title="BlockbotX doctor", expand=False)
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    table.add_column("what to do", overflow="fold")
    for c in checks:
        table.add_row(c.name, f"[{STYLE[c.status]}]{c.status}[/]", c.detail, c.fix)
    return table


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def doctor(as_json: bool) -> None:
    """Check the database, master key, clock, channels and exchanges; exit 1 if any fails.

    The table (or --json) goes to stdout, the verdict to stderr."""
    setup_logging()
    try:
        settings = get_settings()
    except ConfigError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(1) from None

    async def _main() -> list[Check]:
        db: Database | None
        try:
            db = open_database(settings)
        except DatabaseUnavailable as exc:
            return [Check("database", Status.FAIL, str(exc), "fix DATABASE_URL")]
        except Exception as exc:  # the embedded server failing to start
            return [Check("database", Status.FAIL, f"embedded PostgreSQL: {exc}")]
        try:
            return await run_checks(DoctorContext(settings=settings, db=db))
        finally:
            await db.dispose()

    checks = asyncio.run(_main())
    failed = [c for c in checks if c.status is Status.FAIL]
    if as_json:
        emit_json({"ok": not failed, "checks": checks})
    else:
        out.print(render(checks))
    console.print(
        f"[bold red]{len(failed)} problem(s) to fix.[/]" if failed else "[green]All good.[/]"
    )
    raise SystemExit(1 if failed else 0)
