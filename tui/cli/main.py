"""The root ``blockbotx`` command.

Subcommands are imported when they are run (or listed by ``--help``): between them they load
the indicators, pandas, the signal server and HTTP clients, which opening the dashboard
doesn't need and shouldn't wait for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import click

from tui.cli.runtime import connect, fail, ready, setup_logging

if TYPE_CHECKING:
    from tui.app import BlockbotXApp

SUBCOMMANDS = {
    "backtest": "tui.cli.backtest:backtest",
    "data": "tui.cli.data:data_group",
    "db": "tui.cli.db:db_group",
    "demo": "tui.cli.demo:demo",
    "doctor": "tui.cli.doctor:doctor",
    "engine": "tui.cli.engine:engine",
    "exchanges": "tui.cli.exchanges:exchanges_group",
    "serve": "tui.cli.serve:serve",
    "signals": "tui.cli.signals:signals_group",
    "user": "tui.cli.user:user_group",
    "vault": "tui.cli.vault:vault_group",
}


class LazyGroup(click.Group):
    """A group whose subcommands live in ``SUBCOMMANDS`` ("module:attribute")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
    dashboard(engine=engine).run()


def dashboard(*, engine: bool = True) -> BlockbotXApp:
    """The app ``blockbotx`` runs, on a database checked and migrated (bench/ runs it too)."""
    import asyncio

    from core.db.engine import DatabaseUnavailable

    setup_logging()
    db = connect()

    async def _prepare() -> bool:
        seeded = await ready(db, seed=False)  # the app refreshes it behind the login screen
        await db.engine.dispose()  # the app runs its own event loop; drop this loop's connections
        return seeded

    try:
        seeded = asyncio.run(_prepare())
    except DatabaseUnavailable as exc:
        fail(str(exc))
    from core.config import get_settings
    from tui.app import BlockbotXApp

    return BlockbotXApp(
        db,
        engine=engine,
        keymap_overrides=dict(get_settings().keymap),
        refresh_reference_data=not seeded,
    )


def main() -> None:
    cli()
