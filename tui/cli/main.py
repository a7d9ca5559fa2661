"""The root ``blockbotx`` command.

Subcommands are imported only when they are run: between them they load the indicators,
pandas, the signal server and HTTP clients, which opening the dashboard doesn't need and
shouldn't wait for. ``blockbotx --help`` lists them from ``SUMMARIES`` and imports none of
them (nor the database layer), so it answers at once; a test holds every subcommand to a
summary line.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.db.engine import Database
    from tui.app import BlockbotXApp, Opened

SUBCOMMANDS = {
    "api": "tui.cli.api:api_group",
    "api-key": "tui.cli.api_key:api_key_group",
    "backtest": "tui.cli.backtest:backtest",
    "data": "tui.cli.data:data_group",
    "db": "tui.cli.db:db_group",
    "demo": "tui.cli.demo:demo",
    "doctor": "tui.cli.doctor:doctor",
    "engine": "tui.cli.engine:engine",
    "exchanges": "tui.cli.exchanges:exchanges_group",
    "fees": "tui.cli.fees:fees_group",
    "optimize": "tui.cli.optimize:optimize",
    "serve": "tui.cli.serve:serve",
    "signals": "tui.cli.signals:signals_group",
    "strategy": "tui.cli.strategy:strategy_group",
    "telegram": "tui.cli.telegram:telegram_group",
    "user": "tui.cli.user:user_group",
    "vault": "tui.cli.vault:vault_group",
}

# Each subcommand's line in ``blockbotx --help`` (its help's first sentence).
SUMMARIES = {
    "api": "The REST API for scripts and remote control, authenticated by API keys.",
    "api-key": "API keys for the REST API: create, list, revoke.",
    "backtest": "Backtest a strategy or a bot over historical candles.",
    "data": "Historical datasets: import a CSV, fetch from an exchange, simulate, list.",
    "db": "Database: schema migrations, backup and restore.",
    "demo": "Create a demo account with paper bots of every type on the simulated market.",
    "doctor": "Check the database, master key, clock, channels and exchanges.",
    "engine": "Run the bots: lease due bots, run their cycles, watch exits.",
    "exchanges": "The exchanges BlockbotX trades on (every qualifying ccxt spot exchange).",
    "fees": "A user's fee tier per exchange: the fees their paper fills there pay.",
    "optimize": "Search a strategy's parameters: each trial is a backtest, scored by --objective.",
    "serve": "Serve the dashboard to web browsers (login still required).",
    "signals": "Trading signals: run the webhook receiver, manage signal providers.",
    "strategy": "Strategies: write one from a template, list the installed ones, check one.",
    "telegram": "Telegram control: paired chats drive their accounts (/status, /profit …).",
    "user": "Accounts: create one, or issue a password reset token.",
    "vault": "The secret vault (exchange keys, TOTP secrets, wallet and provider keys).",
}


class LazyGroup(click.Group):
    """A group whose subcommands live in ``SUBCOMMANDS`` ("module:attribute")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from ``SUMMARIES``: nothing is imported to write it."""
        rows = [
            (name, self.commands[name].get_short_help_str() if name in self.commands else "")
            if name not in SUMMARIES
            else (name, SUMMARIES[name])
            for name in self.list_commands(ctx)
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

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
@click.option(
    "--strategy-path",
    "strategy_paths",
    multiple=True,
    type=click.Path(file_okay=False, exists=True),
    help="Also load the strategies in this directory (repeatable; see docs/strategies.md).",
)
@click.option(
    "--served",
    is_flag=True,
    hidden=True,
    help="A browser's dashboard under `blockbotx serve`: sign-ins are never remembered.",
)
@click.pass_context
def cli(ctx: click.Context, no_engine: bool, strategy_paths: tuple[str, ...], served: bool) -> None:
    """BlockbotX: run and watch crypto trading bots from the terminal.

    With no command, opens the dashboard.
    """
    if strategy_paths:  # through the environment: engine processes started from here see it too
        from core.strategies.catalog import PATH_ENV, reload

        extra = [str(Path(p).resolve()) for p in strategy_paths]
        os.environ[PATH_ENV] = os.pathsep.join([*extra, os.environ.get(PATH_ENV, "")]).strip(
            os.pathsep
        )
        reload()
    if ctx.invoked_subcommand is None:
        open_dashboard(engine=not no_engine, served=served)


def open_dashboard(*, engine: bool = True, served: bool = False) -> None:
    app = dashboard(engine=engine, served=served)
    app.run()
    if app.return_code:  # the database could not be opened (the reason is printed)
        raise SystemExit(app.return_code)


def in_a_browser(served: bool = False) -> bool:
    """Serve mode: asked for, or the app is driven by a web driver (``textual serve``)."""
    return served or "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def dashboard(*, engine: bool = True, served: bool = False) -> BlockbotXApp:
    """The app ``blockbotx`` runs (bench/ runs it too). Its settings and database load behind
    the sign-in screen (``open_database``): the database checked and migrated, as every
    command's is. Served to a browser, it never remembers a session: the OS user is the
    server's."""
    from core.services.remembered import NotRemembered
    from tui.app import BlockbotXApp

    return BlockbotXApp(
        open_database=open_database,
        remembered=NotRemembered() if in_a_browser(served) else None,
        engine=engine,
    )


async def open_database(say: Callable[[str], None]) -> Opened:
    """The settings (logging set up, the ``[keymap]``) and the configured database (the
    embedded server started if needed), reachable and migrated; off the event loop where they
    block (pydantic-settings' and SQLAlchemy's imports, the embedded server's start)."""
    import asyncio

    from tui.app import Opened

    def _open() -> tuple[Database, dict[str, object]]:
        # Every import here, in the thread: on the event loop they would stall the sign-in
        # screen as long as they take.
        from core import logs
        from core.config import ConfigError, get_settings
        from core.db import migrate  # noqa: F401 - for ``ready`` below, loaded here
        from core.db.engine import DatabaseUnavailable
        from core.db.engine import open_database as open_configured
        from tui.cli import runtime  # noqa: F401 - likewise

        settings = get_settings()
        logs.setup(settings.log_level)
        try:
            return open_configured(settings), dict(settings.keymap)
        except (ConfigError, DatabaseUnavailable):
            raise
        except Exception as exc:  # pgserver start-up failures arrive as assorted exceptions
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DatabaseUnavailable(f"cannot start the embedded PostgreSQL: {reason}") from None

    say("Opening the database…")
    db, keymap = await asyncio.to_thread(_open)
    from tui.cli.runtime import ready

    seeded = await ready(db, seed=False, say=say)  # the app refreshes it behind the login screen
    return Opened(db, refresh_reference_data=not seeded, keymap_overrides=keymap)


def main() -> None:
    cli()
