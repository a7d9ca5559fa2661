"""``blockbotx serve``: the dashboard in a browser through textual-serve.

Every browser tab runs its own dashboard process (``blockbotx --served``, with the same
options), so sign-in is required exactly as in a terminal; nothing is shared between tabs but
the database. A served dashboard never remembers a session: each tab's process runs as the
server's OS user, so a remembered token would sign every browser in as one person.

The tab's process imports the very ``tui``/``core`` this server runs: Python starts it with
``-P`` (the working directory is not put on ``sys.path``, so a ``core/`` folder there can't
shadow the package) and with this package's directory first on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

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
    os.environ["PYTHONPATH"] = child_pythonpath(os.environ.get("PYTHONPATH"))  # tabs inherit it
    command = shlex.join(child_command(no_engine=no_engine))
    click.echo(f"Serving BlockbotX on http://{host}:{port} (Ctrl+C stops).")
    DashboardServer(command, host=host, port=port, title="BlockbotX", public_url=public_url).serve()


def package_root() -> Path:
    """The directory holding the ``tui`` and ``core`` packages this process runs."""
    import tui

    return Path(tui.__file__).resolve().parent.parent


def child_pythonpath(current: str | None) -> str:
    return os.pathsep.join([str(package_root()), *([current] if current else [])])


def child_command(*, no_engine: bool) -> list[str]:
    """A browser tab's dashboard process (run in the server's working directory)."""
    return [
        sys.executable,
        "-P",
        "-m",
        "tui.cli",
        "--served",
        *(["--no-engine"] if no_engine else []),
    ]
