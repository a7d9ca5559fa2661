"""``blockbotx engine``: the headless bot engine (``--once`` runs one pass)."""

from __future__ import annotations

import asyncio
import os
import signal

import click

from core.db.engine import Database
from tui.cli.output import emit_json, out
from tui.cli.runtime import console, headless_logging, log_format_option, run_with_db


def take_priority(nice: int) -> None:
    """Set this process's nice value (before any thread starts: Linux keeps it per thread and
    new threads inherit it)."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except PermissionError:
        console.print(
            f"[bold red]error:[/] BLOCKBOTX_ENGINE_NICE={nice}: raising a process's priority "
            "(a value below its current one) needs root or CAP_SYS_NICE.",
            highlight=False,
        )
        raise SystemExit(1) from None


@click.command("engine")
@click.option(
    "--once",
    is_flag=True,
    help="Run every due bot's cycle once, check exits and housekeeping (with the periodic "
    "jobs that are due), print a summary on stdout, and exit.",
)
@click.option("--json", "as_json", is_flag=True, help="With --once: the summary as JSON.")
@click.option(
    "--exits-only",
    is_flag=True,
    help="Only close positions whose stop, target or deadline a price update reaches: lease no "
    "bots, run no cycles (BLOCKBOTX_ENGINE_EXITS_ONLY). Run one next to the cycling engines.",
)
@log_format_option
def engine(once: bool, log_format: str, as_json: bool, exits_only: bool) -> None:
    """Run the bots: lease due bots, run their cycles, watch exits on every price update.

    Run as many as you like, on any machines, against one database; SIGTERM or Ctrl+C finishes
    the cycle in flight and stops. Tuning: BLOCKBOTX_ENGINE_* (see docs/engine.md).
    """
    if as_json and not once:
        raise click.UsageError("--json goes with --once (a running engine has no summary).")
    headless_logging(log_format)
    from core.engine.runner import EngineRunner, settle_heap
    from core.engine.settings import EngineSettings
    from core.services.periodic import engine_jobs

    try:
        settings = EngineSettings()
    except Exception as exc:  # a bad BLOCKBOTX_ENGINE_* value
        console.print(f"[bold red]error:[/] bad engine setting: {exc}", highlight=False)
        raise SystemExit(1) from None
    if exits_only:
        settings = settings.model_copy(update={"exits_only": True})
    if once and settings.exits_only:
        raise click.UsageError("--once runs cycles; an exits-only process runs until stopped.")
    if settings.nice:
        take_priority(settings.nice)

    async def _go(db: Database) -> None:
        runner = EngineRunner(db, settings=settings, jobs=engine_jobs(db))
        if once:
            report = await runner.run_once()
            if as_json:
                emit_json(report)
            else:
                out.print(
                    f"{report.cycles} cycle(s) run, {report.acted} acted, "
                    f"{report.errors} failed, {report.exits} exit check(s)."
                )
            return
        settle_heap()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # SIGHUP too: a closed SSH session must stop the engine as cleanly as Ctrl+C does
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(signum, stop.set)
        await runner.start()
        doing = "exits only" if settings.exits_only else f"cycle every {settings.cycle_seconds:g} s"
        console.print(
            f"Engine {runner.process_id} running ({doing}); Ctrl+C to stop.", highlight=False
        )
        await stop.wait()
        await runner.stop()
        console.print("Engine stopped.", highlight=False)

    run_with_db(_go)
