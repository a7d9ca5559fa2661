"""Run a ``blockbotx`` command in the test's own process, through click's runner.

A subprocess pays the command line's whole import (a second or more each, several on a loaded
machine); a test about what a command does — its exit code, what it prints where, what it
writes to the database — doesn't need one. The tests about the process itself (a server
stopped by SIGTERM, ``--help`` importing nothing) keep their subprocesses.

From an async test, ``invoke`` runs the command in a worker thread: the command's own
``asyncio.run`` can't nest in the test's event loop. Commands run one at a time (the runner
swaps ``sys.stdout`` for the whole process), so don't ``gather`` them.
"""

from __future__ import annotations

import asyncio

from click.testing import CliRunner, Result

from core.config import get_settings
from tui.cli.main import cli


def run(url: str | None, *args: str, stdin: str = "", **env: str | None) -> Result:
    """``blockbotx *args`` against the database at ``url`` (``env``: variables to set, or to
    unset with None); an unexpected exception (what a user would see as a traceback) is
    raised, not hidden in the result."""
    environment: dict[str, str | None] = {"NO_COLOR": "1", "COLUMNS": "200", **env}
    if url is not None:
        environment["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        result = CliRunner(env=environment).invoke(cli, list(args), input=stdin)
    finally:
        get_settings.cache_clear()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


async def invoke(url: str | None, *args: str, stdin: str = "", **env: str | None) -> Result:
    """``run`` from an async test."""
    return await asyncio.to_thread(run, url, *args, stdin=stdin, **env)


async def outcome(url: str | None, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``invoke``."""
    result = await invoke(url, *args, stdin=stdin)
    return result.exit_code, result.stdout, result.stderr
