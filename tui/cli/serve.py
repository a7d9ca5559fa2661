"""``blockbotx serve``: the dashboard in a browser through textual-serve.

Every browser tab runs its own dashboard process (``blockbotx``, with the same options), so
sign-in is required exactly as in a terminal; nothing is shared between tabs but the database.
"""

from __future__ import annotations

import shlex
import sys

import click

from tui.cli.runtime import setup_logging


@click.command("serve")
@click.option("--host", default="localhost", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--public-url",
    default=None,
    help="The URL browsers reach the server at, when behind a proxy (e.g. https://bots.example.com).",
)
@click.option(
    "--no-engine",
    is_flag=True,
    help="The served dashboards only watch: bots run in `blockbotx engine` processes.",
)
def serve(host: str, port: int, public_url: str | None, no_engine: bool) -> None:
    """Serve the dashboard to web browsers (login still required)."""
    from tui.web import DashboardServer

    setup_logging()
    command = shlex.join([sys.executable, "-m", "tui.cli", *(["--no-engine"] if no_engine else [])])
    click.echo(f"Serving BlockbotX on http://{host}:{port} (Ctrl+C stops).")
    DashboardServer(command, host=host, port=port, title="BlockbotX", public_url=public_url).serve()
