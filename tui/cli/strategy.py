"""``blockbotx strategy new|list|check``: write, list and check strategies (docs/strategies.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from core.errors import ServiceError
from tui.cli.backtest import _params
from tui.cli.runtime import console, fail, setup_logging

CHECK_CANDLES = 2000


@click.group("strategy")
def strategy_group() -> None:
    """Strategies: write one from a template, list the installed ones, check one."""
    setup_logging()


@strategy_group.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    help="Where to write it (default: strategies/ in the config dir).",
)
def new(name: str, directory: str | None) -> None:
    """Write a runnable, commented strategy NAME and a pytest file for it."""
    from core.strategies.catalog import strategy_dirs
    from core.strategies.template import write_template

    target = Path(directory) if directory else strategy_dirs()[0]
    try:
        written = write_template(name, target)
    except ServiceError as exc:
        fail(str(exc))
    for path in written:
        click.echo(str(path))
    console.print(
        f"Check it with: blockbotx{'' if directory is None else f' --strategy-path {target}'} "
        f"strategy check {name}",
        highlight=False,
    )


@strategy_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_command(as_json: bool) -> None:
    """The strategies bots and backtests can use, and files that failed to load."""
    from core.strategies import catalog

    infos = catalog.list_strategies()
    problems = catalog.problems()
    if as_json:
        payload = {
            "strategies": [
                {
                    "name": i.name,
                    "description": i.description,
                    "source": i.source,
                    "api_version": i.api_version,
                    "params": {key: _param_json(p) for key, p in i.params.items()},
                }
                for i in infos
            ],
            "problems": [{"source": p.source, "message": p.message} for p in problems],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    table = Table("name", "parameters", "source", "description")
    for info in infos:
        params = ", ".join(f"{k}={p.default}" for k, p in info.params.items())
        table.add_row(info.name, params, info.source, info.description)
    Console(highlight=False).print(table)
    for problem in problems:
        console.print(f"[yellow]not loaded:[/] {problem.source}: {problem.message}")


def _param_json(p: Any) -> dict[str, Any]:
    out = {"type": p.type.__name__, "default": p.default, "help": p.help}
    for key in ("min", "max", "above", "below"):
        if getattr(p, key) is not None:
            out[key] = getattr(p, key)
    if p.choices:
        out["choices"] = list(p.choices)
    return out


@strategy_group.command("check")
@click.argument("name")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="Candles to check on.")
@click.option("--timeframe", help="Timeframe of the CSV's candles.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="A parameter.")
def check_command(name: str, csv_file: str | None, timeframe: str | None, settings: tuple) -> None:
    """Validate strategy NAME, and run the look-ahead and warm-up checks.

    Without --csv it runs over 2,000 hourly candles of the simulated market. Exit status 1 when
    a check fails.
    """
    from core.backtest.csv_data import read_csv
    from core.backtest.sources import simulated_candles
    from core.strategies import catalog
    from core.strategies.checks import check

    if (csv_file is None) != (timeframe is None):
        fail("--csv and --timeframe go together")
    try:
        cls = catalog.get(name)
        catalog.build(name, _params(settings))  # bad --set values: a clear message first
        if csv_file:
            candles = read_csv(csv_file, timeframe or "")
        else:
            start = datetime(2025, 1, 1, tzinfo=UTC)
            candles = simulated_candles(
                "BTC/USDT", "1h", start, start + timedelta(hours=CHECK_CANDLES)
            )
    except ServiceError as exc:
        for problem in catalog.problems():
            console.print(f"[yellow]not loaded:[/] {problem.source}: {problem.message}")
        fail(str(exc))
    report = check(cls, candles, _params(settings))
    out = Console(highlight=False)
    out.print(f"Checking {name} on {len(candles):,} candles")
    if report.problems:
        for message in report.problems:
            out.print(f"[red]✗ invalid:[/] {message}")
        raise SystemExit(1)
    out.print("[green]✓[/] the class is valid")
    for label, found in (("look-ahead", report.lookahead), ("warm-up", report.warmup)):
        if found is None:
            out.print(f"[green]✓[/] {label}: no divergence")
        else:
            when = datetime.fromtimestamp(found.time_ms / 1000, tz=UTC)
            out.print(
                f"[red]✗ {label}:[/] first diverged at bar {found.bar} ({when:%Y-%m-%d %H:%M} "
                f"UTC): {found.detail}"
            )
    if not report.ok:
        raise SystemExit(1)
