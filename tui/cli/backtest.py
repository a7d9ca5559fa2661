"""``blockbotx backtest``: replay a strategy or a bot over a CSV file or a stored dataset."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

import click
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from core.errors import ServiceError

if TYPE_CHECKING:
    from core.backtest.requests import BacktestRun
    from core.backtest.runner import BacktestResult
    from core.db.engine import Database
from tui.cli.runtime import console, fail, run_with_db, setup_logging

PROGRESS_FROM = 200_000  # candles (fast mode); the bar-by-bar mode always shows progress


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--set takes NAME=VALUE, not {pair!r}")
        params[key.strip()] = value.strip()
    return params


class _Bar:
    """A rich progress bar on stderr, fed from the backtest's thread."""

    def __init__(self, total: int, show: bool) -> None:
        self.progress = Progress(
            TextColumn("Backtesting"),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not show or not console.is_terminal,
            transient=True,
        )
        self.task = self.progress.add_task("backtest", total=total)

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)


@click.command("backtest")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), help="OHLCV CSV file.")
@click.option("--dataset", "dataset_id", help="A stored historical dataset id.")
@click.option("--timeframe", help="Candle timeframe of the CSV (1m, 15m, 1h, 4h, 1d).")
@click.option(
    "--strategy",
    help="A strategy (built-in: sma_cross, ema_cross, rsi_reversal, macd_cross, "
    "bollinger_breakout; or installed: blockbotx strategy list) or a dca / grid bot, with its "
    "settings as --set NAME=VALUE.",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="A strategy parameter or bot setting (repeatable); a list as JSON, e.g. "
    'levels=\'[{"drop_percent": 5, "buy_percent": 50}]\'.',
)
@click.option(
    "--bot", "bot_id", help="Run this bot's strategy and risk settings, and store the result."
)
@click.option(
    "--risk",
    "risk_json",
    help="Risk settings as JSON without --bot, e.g. '{\"stop_loss_percent\": 2}'.",
)
@click.option("--cash", default="10000", show_default=True, help="Starting cash (quote currency).")
@click.option(
    "--fee", default="0.001", show_default=True, help="Fee per fill as a fraction (0.001 = 0.1 %)."
)
@click.option(
    "--mode",
    type=click.Choice(["fast", "bar"]),
    default="fast",
    show_default=True,
    help="bar: decide candle by candle exactly as live (slower).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--equity-csv",
    "equity_csv",
    type=click.Path(dir_okay=False),
    help="Also write the equity after every candle (time, close, cash, quantity, equity) here.",
)
def backtest(
    csv_file,
    dataset_id,
    timeframe,
    strategy,
    settings,
    bot_id,
    risk_json,
    cash,
    fee,
    mode,
    as_json,
    equity_csv,
) -> None:
    """Backtest a strategy or a bot over historical candles.

    Fills happen at the next candle's open; see docs/backtest.md for the exact rules. With
    --bot the result is stored in the bot's backtests; without a bot nothing is stored.
    """
    # The database layer is imported only on the paths that use it (a dataset, a bot): a bare
    # strategy on a CSV file runs without loading SQLAlchemy or the ORM models.
    from core.backtest.csv_data import read_csv
    from core.backtest.requests import BacktestRequest, parse_decimal, run_on_candles

    setup_logging()
    if (csv_file is None) == (dataset_id is None):
        fail("give the candles with --csv FILE or --dataset ID (one of them)")
    if csv_file is not None and not timeframe:
        fail("--csv needs --timeframe (for example --timeframe 1h)")
    if bot_id is None and strategy is None:
        fail("choose --strategy NAME or --bot ID")
    risk = None
    if risk_json is not None:
        try:
            risk = json.loads(risk_json)
        except json.JSONDecodeError as exc:
            fail(f"--risk is not valid JSON: {exc.msg} (column {exc.colno})")
    try:
        request = BacktestRequest(
            cash=parse_decimal(cash, "cash"),
            fee=parse_decimal(fee, "fee"),
            timeframe=timeframe,
            dataset_id=dataset_id,
            bot_id=bot_id,
            strategy=strategy,
            params=_params(settings),
            risk_settings=risk,
            mode=mode,
            source=f"csv {csv_file}" if csv_file else None,
        )
        if equity_csv is not None:
            from core.backtest.equity_export import check_target

            check_target(equity_csv)
        candles = read_csv(csv_file, timeframe) if csv_file else None
    except ServiceError as exc:
        fail(str(exc))

    def bar_for(total: int) -> _Bar:
        return _Bar(total, mode == "bar" or total >= PROGRESS_FROM)

    if candles is not None and bot_id is None:
        # A bare strategy on a file needs no database at all.
        bar = bar_for(len(candles))
        try:
            with bar.progress:
                outcome = run_on_candles(request, candles, bar)
        except ServiceError as exc:
            fail(str(exc))
    else:
        from core.services import backtests as service

        async def _go(db: Database):
            async with db.session() as session:
                actor = await service.bot_owner(session, bot_id) if bot_id else None
                total = len(candles) if candles is not None else 0
                bar = bar_for(total or PROGRESS_FROM)
                with bar.progress:
                    return await _run(session, actor, request, candles, bar)

        try:
            outcome = run_with_db(_go)
        except ServiceError as exc:
            fail(str(exc))
    if equity_csv is not None:
        from core.backtest.equity_export import write_equity_csv

        assert outcome.result.equity is not None
        try:
            rows = write_equity_csv(equity_csv, outcome.result.equity)
        except ServiceError as exc:
            fail(str(exc))
        console.print(f"Equity curve: {rows:,} candles written to {equity_csv}.", highlight=False)
    _print(outcome, as_json)


async def _run(session, actor, request, candles, bar):
    from core.services import backtests as service
    from core.services.actor import Actor

    return await service.run_backtest(
        session, actor or Actor("cli"), request, candles=candles, progress=bar
    )


def _print(outcome: BacktestRun, as_json: bool) -> None:
    result = outcome.result
    if as_json:
        from core.backtest.trade_json import trade_lines

        payload = {"backtest_id": outcome.backtest_id, **result.as_json(trade_list=False)}
        click.echo(_indented(payload, trade_lines(result.trade_list)))
        return
    out = Console(highlight=False)
    out.print(_summary_table(result))
    if result.trade_list:
        out.print(_trades_table(result))
    if outcome.backtest_id:
        console.print(f"Stored as backtest {outcome.backtest_id}.", highlight=False)
    else:
        console.print(
            "Not stored: pass --bot ID to keep results in the bot's backtests.", highlight=False
        )


def _indented(payload: dict, trades: list[str]) -> str:
    """``json.dumps(payload, indent=2)`` with ``trades`` (JSON text, one trade each) as its
    ``trade_list``, a trade per line: an indented dump runs Python's pure-Python encoder, which
    took seconds for a million candles' 27,000 trades."""
    if not trades:
        return json.dumps(payload, indent=2)
    marker = "\u0000trades\u0000"
    text = json.dumps({**payload, "trade_list": marker}, indent=2)
    lines = ",\n".join("    " + line for line in trades)
    return text.replace(json.dumps(marker), "[\n" + lines + "\n  ]", 1)


def _money(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{places}f}"


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{_money(value)} %"


def _duration(seconds: int | None) -> str:
    from tui.format import duration

    return "n/a" if seconds is None else duration(seconds)


def _summary_table(result: BacktestResult) -> Table:
    data = result.as_json(trade_list=False)
    stats = result.trade_stats
    table = Table(
        title=f"Backtest: {result.strategy} on {result.candles:,} × {result.timeframe} candles",
        show_header=False,
    )
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    rows = [
        ("Period", f"{data['start']} → {data['end']}"),
        ("Starting cash", _money(result.initial_cash)),
        ("Final equity", _money(result.final_equity)),
        ("Total return", f"{_money(result.total_return_pct)} %"),
        ("Closed trades", str(result.trades)),
        ("Win rate", "n/a" if result.win_rate_pct is None else f"{_money(result.win_rate_pct)} %"),
        ("Max drawdown", f"{_money(result.max_drawdown_pct)} %"),
        ("Buy and hold", f"{_money(result.buy_and_hold_return_pct)} %"),
        ("CAGR", _pct(result.cagr_pct)),
        ("Exposure (time in market)", f"{_money(result.exposure_pct)} %"),
        ("Sharpe (annualised)", _money(result.sharpe)),
        ("Sortino (annualised)", _money(result.sortino)),
        ("Calmar", _money(result.calmar)),
        ("Profit factor", _money(result.profit_factor)),
        ("Expectancy (per trade)", _money(stats.expectancy)),
        ("Best / worst trade", f"{_pct(stats.best_trade_pct)} / {_pct(stats.worst_trade_pct)}"),
        (
            "Trade duration (avg / max)",
            f"{_duration(stats.avg_duration_s)} / {_duration(stats.max_duration_s)}",
        ),
        ("Fees paid", _money(result.fees_paid)),
        (
            "Open position",
            "none"
            if result.open_trade is None
            else (
                f"{result.open_trade.quantity.normalize()} @ {result.open_trade.entry_price}, "
                f"unrealised {_money(result.open_trade.unrealized_pnl)}"
            ),
        ),
        ("Run time", f"{result.elapsed_ms:,} ms ({result.mode} mode)"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _price(value: Decimal) -> str:
    """At most 8 significant digits: the table is for reading, --json has every digit."""
    return f"{value:.8g}" if abs(value) < Decimal("1e8") else f"{value:,.0f}"


def _short_time(ms: int) -> str:
    from core.strategies.candles import ms_to_datetime

    return f"{ms_to_datetime(ms):%m-%d %H:%M}"


def _trades_table(result: BacktestResult, limit: int = 20) -> Table:
    trades = result.trade_list
    shown = trades[-limit:]
    title = (
        "Trades"
        if len(trades) <= limit
        else f"Last {limit} of {len(trades):,} trades (--json for all)"
    )
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for name in ("entry (UTC)", "price", "exit", "price", "P&L", "P&L %", "reason"):
        left = name in ("entry (UTC)", "exit", "reason")
        table.add_column(name, justify="left" if left else "right", no_wrap=True)
    for trade in shown:
        style = "green" if trade.pnl > 0 else "red" if trade.pnl < 0 else None
        table.add_row(
            _short_time(trade.entry_ms),
            _price(trade.entry_price),
            _short_time(trade.exit_ms),
            _price(trade.exit_price),
            _money(trade.pnl),
            _money(trade.pnl_pct),
            trade.exit_reason,
            style=style,
        )
    return table
