"""``blockbotx optimize``: search a strategy's parameters with Optuna over the backtester."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from core.errors import ServiceError
from tui.cli.runtime import connect, console, fail, ready, setup_logging


@click.command("optimize")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="OHLCV CSV file.")
@click.option("--dataset", "dataset_id", help="A stored historical dataset id.")
@click.option("--timeframe", help="Candle timeframe of the CSV (1m, 15m, 1h, 4h, 1d).")
@click.option("--strategy", required=True, help="The strategy whose parameters to search.")
@click.option(
    "--space",
    "space",
    multiple=True,
    metavar="NAME=LOW:HIGH[:STEP]",
    help="A parameter's range, both ends included (repeatable), e.g. --space fast=5:30.",
)
@click.option("--sampler", default="tpe", show_default=True, help="tpe or grid.")
@click.option("--trials", type=int, help="Trials to run [default: 100 for tpe, the whole grid].")
@click.option(
    "--objective",
    default="total_return",
    show_default=True,
    help="total_return, sharpe, sortino, calmar or profit_factor (maximised).",
)
@click.option(
    "--min-trades", type=int, default=0, show_default=True, help="Score only runs with this many."
)
@click.option(
    "--oos",
    type=float,
    default=0.25,
    show_default=True,
    help="Fraction of the candles (the last ones) held out as out-of-sample; 0 for none.",
)
@click.option(
    "--walk-forward",
    type=int,
    default=1,
    show_default=True,
    help="Rolling in-sample/out-of-sample windows, each searched on its own.",
)
@click.option("--jobs", type=int, help="Worker processes [default: the machine's cores].")
@click.option(
    "--study",
    help="Study name in the database: processes (on any machine) given the same name share it.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampler seed.")
@click.option(
    "--user",
    "user_email",
    help="Store the run under this account (shown in its backtests screen); without it, the "
    "run is kept for administrators.",
)
@click.option("--cash", default="10000", show_default=True, help="Starting cash (quote currency).")
@click.option(
    "--fee", default="0.001", show_default=True, help="Fee per fill as a fraction (0.001 = 0.1 %)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def optimize(
    csv_file: str | None,
    dataset_id: str | None,
    timeframe: str | None,
    strategy: str,
    space: tuple[str, ...],
    sampler: str,
    trials: int | None,
    objective: str,
    min_trades: int,
    oos: float,
    walk_forward: int,
    jobs: int | None,
    study: str | None,
    seed: int,
    user_email: str | None,
    cash: str,
    fee: str,
    as_json: bool,
) -> None:
    """Search a strategy's parameters: each trial is a backtest, scored by --objective.

    The best in-sample parameters are then backtested on the held-out candles. Trials and
    studies are kept in the project's PostgreSQL; see docs/optimize.md.
    """
    from core.backtest import BacktestSettings
    from core.backtest.csv_data import read_csv
    from core.optimize.search import SearchRequest, check_request
    from core.services.backtests import parse_decimal

    setup_logging()
    if (csv_file is None) == (dataset_id is None):
        fail("give the candles with --csv FILE or --dataset ID (one of them)")
    if csv_file is not None and not timeframe:
        fail("--csv needs --timeframe (for example --timeframe 1h)")
    try:
        request = SearchRequest(
            strategy=strategy,
            space=space,
            settings=BacktestSettings(
                parse_decimal(cash, "cash"), parse_decimal(fee, "fee"), timeframe or "1h"
            ),
            sampler=sampler,
            trials=trials,
            objective=objective,
            min_trades=min_trades,
            oos=oos,
            walk_forward=walk_forward,
            jobs=jobs,
            study=study,
            seed=seed,
        )
        check_request(request)
        candles = read_csv(csv_file, timeframe) if csv_file and timeframe else None
    except ServiceError as exc:
        fail(str(exc))
    db = connect()
    try:
        candles, request, owner = asyncio.run(
            _prepare(db, dataset_id, candles, request, user_email)
        )
    except ServiceError as exc:
        fail(str(exc))
    data = _search(db.url, request, candles).as_json()
    source = f"csv {csv_file}" if csv_file else f"dataset {dataset_id}"
    try:
        data["optimization_id"] = asyncio.run(_store(connect(), owner, data, source))
    except ServiceError as exc:
        fail(str(exc))
    _print(data, as_json)


async def _prepare(
    db: Any, dataset_id: str | None, candles: Any, request: Any, user_email: str | None
) -> Any:
    """Migrate if needed, find the owner and load a dataset's candles; the pool is closed
    before the workers fork."""
    from dataclasses import replace

    from core.backtest import BacktestSettings
    from core.backtest.datasets import load_dataset
    from core.services.actor import Actor
    from core.services.optimizations import owner_id

    owner = None
    try:
        await ready(db, seed=False)
        if user_email is not None:
            async with db.session() as session:
                owner = Actor(await owner_id(session, user_email))
        if dataset_id is not None:
            async with db.session() as session:
                info, candles = await load_dataset(session, dataset_id)
            s = request.settings
            settings = BacktestSettings(s.cash, s.fee, info.timeframe, s.risk, s.mode)
            request = replace(request, settings=settings)
    finally:
        await db.dispose()
    return candles, request, owner


async def _store(db: Any, owner: Any, data: dict[str, Any], source: str) -> str:
    from core.services.optimizations import record_optimization

    try:
        async with db.session() as session:
            return await record_optimization(session, owner, data, source)
    finally:
        await db.dispose()


def _search(url: str, request: Any, candles: Any) -> Any:
    from core.optimize.search import check_request, search

    total = check_request(request).trials * request.walk_forward
    progress = Progress(
        TextColumn("Optimising"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("trials"),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    task = progress.add_task("optimize", total=total)
    try:
        with progress:
            return search(
                request,
                candles,
                url,
                lambda done, total: progress.update(task, completed=done, total=total),
            )
    except ServiceError as exc:
        fail(str(exc))
    except RuntimeError as exc:
        fail(str(exc).splitlines()[0])


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    out = Console(highlight=False)
    best = data["best"]
    out.print(
        f"Study {data['study']}: {data['strategy']} {' '.join(data['space'])}, "
        f"{data['objective']} ({data['sampler']}), "
        f"in-sample {data['in_sample']['start']} → {data['in_sample']['end']} "
        f"({data['in_sample']['candles']:,} candles)"
    )
    if best is None:
        out.print("No trial could be scored (see --min-trades and the parameter ranges).")
        return
    table = Table(title="Best trials (in-sample)")
    for name in ("#", *data["best"]["params"], data["objective"], "trades", "note"):
        table.add_column(str(name), justify="right" if name != "note" else "left")
    shown = [t for t in data["trials"] if t["value"] is not None and t["duplicate_of"] is None]
    for trial in shown[:10]:
        table.add_row(
            str(trial["number"]),
            *(str(trial["params"].get(k)) for k in best["params"]),
            f"{trial['value']:,.4f}",
            str(trial["trades"]),
            "best" if trial["number"] == best["trial"] else "",
        )
    out.print(table)
    if data["importance"]:
        out.print(
            "Parameter importance: "
            + ", ".join(f"{k} {v:.0%}" for k, v in data["importance"].items())
        )
    oos = data["out_of_sample"]
    if oos is not None:
        value = "n/a" if oos.get("value") is None else f"{oos['value']:,.4f}"
        out.print(
            f"Out-of-sample {oos['start']} → {oos['end']} ({oos['candles']:,} candles): "
            f"{data['objective']} {value}, return {oos.get('total_return_pct', 'n/a')} % "
            f"(buy and hold {oos.get('buy_and_hold_return_pct', 'n/a')} %), "
            f"{oos.get('trades', 0)} trades"
        )
    if len(data["walk_forward"]) > 1:
        out.print(
            f"Walk-forward: {len(data['walk_forward'])} windows, out-of-sample returns "
            f"compounded {data['out_of_sample_return_pct']} %"
        )
    console.print(
        f"Took {data['elapsed_s']:,.1f} s; stored as optimisation {data['optimization_id']}.",
        highlight=False,
    )
