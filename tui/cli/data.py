"""``blockbotx data``: historical candles for backtests."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from core.db.engine import Database
from core.errors import ServiceError
from core.services.actor import SYSTEM
from tui.cli.output import emit_json
from tui.cli.runtime import console, fail, run_with_db, setup_logging


@click.group("data")
def data_group() -> None:
    """Historical datasets: import a CSV, fetch from an exchange, simulate, list."""
    setup_logging()


@data_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--symbol", required=True, help="The pair the candles belong to, like BTC/USDT.")
@click.option("--timeframe", required=True, help="Candle timeframe: 1m, 15m, 1h, 4h, 1d…")
def import_csv(file: str, symbol: str, timeframe: str) -> None:
    """Import an OHLCV CSV FILE (date, open, high, low, close, volume) as a dataset."""
    from core.backtest.csv_data import read_csv
    from core.backtest.datasets import check_symbol
    from core.services import backtests as service

    try:  # the file is checked before the database is started
        symbol = check_symbol(symbol)
        with console.status(f"Reading {file}…"):
            candles = read_csv(file, timeframe)
    except ServiceError as exc:
        fail(str(exc))

    async def _go(db: Database):
        async with db.session() as session:
            return await service.import_dataset(session, SYSTEM, symbol, timeframe, candles)

    try:
        info = run_with_db(_go)
    except ServiceError as exc:
        fail(str(exc))
    _report(info)


def _report(info) -> None:
    verb = "Replaced" if info.replaced else "Imported"
    console.print(
        f"{verb} {info.candle_count:,} {info.symbol} {info.timeframe} candles "
        f"({info.start_date:%Y-%m-%d %H:%M} → {info.end_date:%Y-%m-%d %H:%M} UTC) "
        f"as dataset {info.id}.",
        highlight=False,
    )
    click.echo(info.id)


@data_group.command("simulate")
@click.option("--symbol", required=True, help="A simulated pair, like BTC/USDT or PEPE/USDT.")
@click.option("--timeframe", required=True, help="1m, 5m, 15m, 1h, 4h or 1d.")
@click.option(
    "--start", required=True, type=click.DateTime(), help="First candle (UTC), e.g. 2024-01-01."
)
@click.option("--end", required=True, type=click.DateTime(), help="End, exclusive (UTC).")
@click.option("--seed", type=int, default=None, help="Market seed (default: the demo market's).")
def simulate(symbol: str, timeframe: str, start, end, seed: int | None) -> None:
    """Store candles of the deterministic simulated market as a dataset."""
    from core.backtest.datasets import check_symbol
    from core.backtest.sources import simulated_candles
    from core.market.simulated import DEFAULT_SEED
    from core.services import backtests as service

    try:
        symbol = check_symbol(symbol)
        with console.status("Simulating the market…"):
            candles = simulated_candles(
                symbol, timeframe, start, end, seed=DEFAULT_SEED if seed is None else seed
            )
    except ServiceError as exc:
        fail(str(exc))

    async def _go(db: Database):
        async with db.session() as session:
            return await service.import_dataset(session, SYSTEM, symbol, timeframe, candles)

    try:
        info = run_with_db(_go)
    except ServiceError as exc:
        fail(str(exc))
    _report(info)


@data_group.command("fetch")
@click.option(
    "--exchange",
    type=click.Choice(["binance", "okx"]),
    default="binance",
    show_default=True,
    help="The exchange to read the history from (public data: no keys needed).",
)
@click.option("--symbol", required=True, help="The pair, like BTC/USDT.")
@click.option("--timeframe", required=True, help="Candle timeframe: 1m, 15m, 1h, 4h, 1d…")
@click.option(
    "--since", required=True, type=click.DateTime(), help="First candle (UTC), e.g. 2024-01-01."
)
@click.option("--until", type=click.DateTime(), help="End, exclusive (UTC; default: now).")
@click.option("--testnet", is_flag=True, help="Read the exchange's testnet instead.")
@click.option(
    "--api-url",
    hidden=True,
    help="Send the API calls to this origin instead (a proxy, or a local test exchange).",
)
def fetch(
    exchange: str,
    symbol: str,
    timeframe: str,
    since,
    until,
    testnet: bool,
    api_url: str | None,
) -> None:
    """Fetch an exchange's candle history (ccxt fetch_ohlcv) and store it as a dataset."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from core.backtest.datasets import check_symbol
    from core.backtest.exchange_data import exchange_candles
    from core.market.ccxt_client import ExchangeFactory
    from core.services import backtests as service
    from core.strategies.candles import timeframe_seconds

    try:
        symbol = check_symbol(symbol)
        timeframe_seconds(timeframe)
    except ServiceError as exc:
        fail(str(exc))
    bar = Progress(
        TextColumn(f"Fetching {symbol} {timeframe}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("candles"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    task = bar.add_task("fetch", total=None)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    factory = ExchangeFactory(api_origin=api_url) if api_url else ExchangeFactory()

    async def _go(db: Database):  # the database first: a long fetch is not lost to it
        with bar:
            candles = await exchange_candles(
                exchange,
                symbol,
                timeframe,
                since,
                until,
                testnet=testnet,
                factory=factory,
                progress=progress,
            )
        async with db.session() as session:
            return await service.import_dataset(session, SYSTEM, symbol, timeframe, candles)

    try:
        info = run_with_db(_go)
    except ServiceError as exc:
        fail(str(exc))
    _report(info)


@data_group.command("list")
@click.option("--symbol", help="Only this pair.")
@click.option("--json", "as_json", is_flag=True, help="Print the datasets as JSON.")
def list_datasets(symbol: str | None, as_json: bool) -> None:
    """List stored datasets."""
    from core.services import backtests as service

    async def _go(db: Database):
        async with db.session() as session:
            return await service.datasets(session, SYSTEM, symbol)

    try:
        rows = run_with_db(_go)
    except ServiceError as exc:
        fail(str(exc))
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Historical datasets")
    for name in ("id", "symbol", "timeframe", "from", "to", "candles"):
        table.add_column(name, justify="right" if name == "candles" else "left")
    for info in rows:
        table.add_row(
            info.id,
            info.symbol,
            info.timeframe,
            f"{info.start_date:%Y-%m-%d %H:%M}",
            f"{info.end_date:%Y-%m-%d %H:%M}",
            f"{info.candle_count:,}",
        )
    Console(highlight=False).print(table)
