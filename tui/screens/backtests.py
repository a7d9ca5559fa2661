"""Backtests: pick a bot (signal and AI bots) or a strategy (built-in or installed; one field
per parameter it declares, checked against its range), a dataset and a range,
cash and fee; run it in a worker with a progress bar; open the report. Below, the history of
past runs (stored under their bot), newest first."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static

from core.errors import InvalidInput
from core.services import backtest_runs, backtests, bots
from core.services.backtests import BacktestRequest
from core.strategies.registry import BACKTESTABLE
from tui import format as fmt
from tui.compact import compact, filled
from tui.screens.base import BaseScreen
from tui.screens.trades import parse_day
from tui.service_call import in_session
from tui.widgets.choice import Choice
from tui.widgets.pnl import pnl_text
from tui.widgets.strategy_params import StrategyParams
from tui.widgets.table import Column, KeyedTable

HISTORY_COLUMNS = (
    Column("when", "Run"),
    Column("bot", "Bot"),
    Column("strategy", "Strategy"),
    Column("tf", "TF", optional=True),
    Column("trades", "Trades", right=True),
    Column("return", "Return", right=True),
    Column("equity", "Final equity", right=True),
    Column("ms", "Took", right=True, optional=True),
)


NARROW = 110
"""Below this width the setup grid has two columns, not four."""


def _number(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(f"{field.capitalize()} must be a number.", field=field) from None
    if not value.is_finite():
        raise InvalidInput(f"{field.capitalize()} must be a number.", field=field)
    return value


class BacktestsScreen(BaseScreen):
    CSS_PATH = "backtests.tcss"
    LOAD_AFTER_FIRST_FRAME = True  # the choices and the history follow the first frame
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+r", "run", "Run", id="backtests.run", tooltip="Run the backtest"),
        Binding(
            "ctrl+o",
            "optimizations",
            "Optimisations",
            id="backtests.optimizations",
            tooltip="Optimisation runs: best trials, importance, out-of-sample",
        ),
        Binding("escape", "back", "Back", id="backtests.back", tooltip="Back", show=False),
    ]

    def __init__(self, bot_id: str | None = None) -> None:
        super().__init__()
        self.bot_id = bot_id
        self.bot_names: dict[str, str] = {}
        self._strategies_listed = False

    def compose_body(self) -> ComposeResult:
        self.set_class(self.app.size.width < NARROW, "-narrow")  # before its widgets are styled
        with Grid(id="setup"):
            yield Label("Bot")
            yield compact(Choice[str]((), prompt="none: a built-in strategy", id="bot"))
            yield Label("Strategy")
            yield compact(Choice[str]((), prompt="the bot's own", id="strategy"))
            yield Label("Dataset")
            yield compact(Choice[str]((), prompt="choose a dataset", id="dataset"))
            yield Label("From / to")
            with Horizontal(classes="pair"):
                yield compact(Input(placeholder="YYYY-MM-DD (start)", id="start", max_length=10))
                yield compact(Input(placeholder="YYYY-MM-DD (end)", id="end", max_length=10))
            yield Label("Cash / fee")
            with Horizontal(classes="pair"):
                yield filled("10000", id="cash")
                yield filled("0.001", id="fee")
        yield StrategyParams(id="params")
        with Horizontal(id="run-row"):
            yield compact(Button("Run (ctrl+r)", variant="primary", id="run"))
            yield Static("", id="run-status")  # the progress bar goes before it, on a first run
        yield KeyedTable(HISTORY_COLUMNS, id="history")

    def on_mount(self) -> None:
        self.query_one("#history").border_title = "Past runs (enter opens the report)"
        self.query_one("#history").focus()

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")
        self.query_one(StrategyParams).set_class(self.size.width < NARROW, "-narrow")

    def load(self) -> None:
        self._load_choices()  # then the history, which names the bots

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self and self.bot_id is not None:
            self.dismiss()

    @work(exclusive=True, group="backtests-choices")
    async def _load_choices(self) -> None:
        if not self._strategies_listed:  # once: the choice made stands through reloads
            # In a thread: the first lookup of the installed strategies reads entry points
            # (~50 ms).
            strategies = await asyncio.to_thread(backtest_runs.strategies)
            self.query_one("#strategy", Select).set_options((s.name, s.name) for s in strategies)
            self._strategies_listed = True
        found = await self.service(bots.list_bots, sort="name", descending=False, limit=500)
        sets = await self.service(backtests.datasets)
        if found is not None:
            usable = [b for b in found if b.type in BACKTESTABLE]
            self.bot_names = {b.id: b.name for b in found}
            bot = self.query_one("#bot", Select)
            bot.set_options((f"{b.name} · {b.type} · {b.symbol}", b.id) for b in usable)
            if self.bot_id in {b.id for b in usable}:
                bot.value = self.bot_id
        if sets is not None:
            self.query_one("#dataset", Select).set_options(
                (
                    f"{d.symbol} {d.timeframe} · {d.start_date:%Y-%m-%d} → {d.end_date:%Y-%m-%d} "
                    f"({d.candle_count:,})",
                    d.id,
                )
                for d in sets
            )
        self._load_history()

    @work(exclusive=True, group="backtests-history")
    async def _load_history(self) -> None:
        runs = await self.service(backtests.list_backtests, bot_id=self.bot_id, limit=200)
        if runs is None:
            return
        app, now = self.app, self.bbx.clock.now()
        self.query_one("#history", KeyedTable).sync(
            (
                r.id,
                (
                    fmt.when(r.created_at, now),
                    self.bot_names.get(r.bot_id, r.bot_id),
                    r.strategy or fmt.DASH,
                    r.timeframe or fmt.DASH,
                    str(r.trades) if r.trades is not None else fmt.DASH,
                    pnl_text(app, r.total_return_pct, percent=True),
                    fmt.money(r.final_equity),
                    f"{r.execution_time_ms:,} ms",
                ),
            )
            for r in runs
        )

    def _request(self) -> tuple[BacktestRequest, dict[str, Any]]:
        def choice(selector: str) -> str | None:
            value = self.query_one(selector, Select).value
            return None if value is Select.NULL else str(value)

        box = self.query_one(StrategyParams)
        params = box.values() if box.name_shown else None
        try:
            start = parse_day(self.query_one("#start", Input).value, "from")
            end = parse_day(self.query_one("#end", Input).value, "to")
        except ValueError as exc:
            raise InvalidInput(str(exc), field="start") from None
        request = BacktestRequest(
            cash=_number(self.query_one("#cash", Input).value, "cash"),
            fee=_number(self.query_one("#fee", Input).value, "fee"),
            dataset_id=choice("#dataset"),
            bot_id=choice("#bot"),
            strategy=choice("#strategy"),
            params=params,
        )
        return request, {"start": start, "end": end + timedelta(days=1) if end else None}

    @on(Select.Changed, "#strategy")
    async def _strategy_chosen(self, event: Select.Changed) -> None:
        """One field per parameter the chosen strategy declares (none: the bot's own)."""
        name = None if event.value is Select.NULL else str(event.value)
        await self.query_one(StrategyParams).show(name)

    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.action_run()

    async def _progress_bar(self) -> ProgressBar:
        """The run's progress bar, made on the first run (most visits never run one)."""
        found = self.query("#progress").results(ProgressBar)
        bar = next(found, None)
        if bar is None:
            bar = ProgressBar(id="progress", show_eta=False)
            await self.query_one("#run-row").mount(bar, before="#run-status")
        return bar

    @work(exclusive=True, group="backtests-run")
    async def action_run(self) -> None:
        status = self.query_one("#run-status", Static)
        bar = await self._progress_bar()
        try:
            request, span = self._request()
        except InvalidInput as exc:
            status.update(f"[$error]{exc}[/]")
            return
        status.update("running…")
        bar.update(total=None, progress=0)
        bar.add_class("-running")
        app = self.app

        def progress(done: int, total: int) -> None:  # called from the backtest's thread
            app.call_from_thread(bar.update, total=max(total, 1), progress=done)

        refused: list[str] = []
        run = await self.call(
            in_session(
                self.db, self.actor, backtest_runs.run_range, request, progress=progress, **span
            ),
            refusal=lambda exc: refused.append(str(exc)),
        )
        bar.remove_class("-running")
        if run is None:
            status.update(f"[$error]{refused[0]}[/]" if refused else "")
            return
        result = run.result
        stored = "stored under the bot" if run.backtest_id else "not stored (no bot)"
        status.update(
            f"{result.trades} trades · return {fmt.percent(result.total_return_pct)} · "
            f"{result.elapsed_ms:,} ms · {stored}"
        )
        self._load_history()
        from tui.screens.backtest_report import BacktestReportScreen

        self.app.push_screen(
            BacktestReportScreen(run.backtest_id, result=run.report(), title=result.strategy)
        )

    def action_optimizations(self) -> None:
        from tui.screens.optimizations import OptimizationsScreen

        self.app.push_screen(OptimizationsScreen())

    @on(DataTable.RowSelected, "#history")
    def _open(self, event: DataTable.RowSelected) -> None:
        from tui.screens.backtest_report import BacktestReportScreen

        if event.row_key.value:
            self.app.push_screen(BacktestReportScreen(event.row_key.value))
