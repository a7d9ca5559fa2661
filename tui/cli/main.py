"""The root ``blockbotx`` command."""

from __future__ import annotations

import click

from tui.cli.backtest import backtest
from tui.cli.data import data_group
from tui.cli.db import db_group
from tui.cli.demo import demo
from tui.cli.doctor import doctor
from tui.cli.engine import engine
from tui.cli.runtime import connect, fail, ready, setup_logging
from tui.cli.serve import serve
from tui.cli.signals import signals_group
from tui.cli.user import user_group
from tui.cli.vault import vault_group


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="blockbotx")
@click.option(
    "--no-engine",
    is_flag=True,
    help="Only watch: never run the bots in this process (by default the dashboard runs them "
    "when no engine process is alive).",
)
@click.pass_context
def cli(ctx: click.Context, no_engine: bool) -> None:
    """BlockbotX: run and watch crypto trading bots from the terminal.

    With no command, opens the dashboard.
    """
    if ctx.invoked_subcommand is None:
        open_dashboard(engine=not no_engine)


def open_dashboard(*, engine: bool = True) -> None:
    import asyncio

    from core.db.engine import DatabaseUnavailable

    setup_logging()
    db = connect()

    async def _prepare() -> None:
        await ready(db)
        await db.engine.dispose()  # the app runs its own event loop; drop this loop's connections

    try:
        asyncio.run(_prepare())
    except DatabaseUnavailable as exc:
        fail(str(exc))
    from core.config import get_settings
    from tui.app import BlockbotXApp

    BlockbotXApp(db, engine=engine, keymap_overrides=dict(get_settings().keymap)).run()


cli.add_command(user_group)
cli.add_command(vault_group)
cli.add_command(db_group)
cli.add_command(backtest)
cli.add_command(data_group)
cli.add_command(doctor)
cli.add_command(demo)
cli.add_command(serve)
cli.add_command(signals_group)
cli.add_command(engine)


def main() -> None:
    cli()
