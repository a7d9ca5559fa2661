"""Optimisation runs (``blockbotx optimize``), opened from the backtests screen: the runs the
user may see, newest first; the highlighted run's best trials, parameter importance and
out-of-sample result below."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from core.services import optimizations
from tui import format as fmt
from tui.screens.base import BaseScreen
from tui.widgets.table import Column, KeyedTable

RUN_COLUMNS = (
    Column("when", "Run"),
    Column("strategy", "Strategy"),
    Column("objective", "Objective"),
    Column("tf", "TF", optional=True),
    Column("best", "Best parameters"),
    Column("value", "In-sample", right=True),
    Column("oos", "Out-of-sample", right=True),
    Column("trials", "Trials", right=True, optional=True),
)
TRIAL_COLUMNS = (
    Column("number", "#", right=True),
    Column("params", "Parameters"),
    Column("value", "Value", right=True),
    Column("trades", "Trades", right=True),
)


def _value(value: float | None) -> str:
    return fmt.DASH if value is None else f"{value:,.4f}"


def _params(params: dict[str, Any] | None) -> str:
    return fmt.DASH if not params else " ".join(f"{k}={v}" for k, v in params.items())


def describe(detail: dict[str, Any]) -> str:
    """The run's importance, out-of-sample and walk-forward lines."""
    lines = [
        f"{detail.get('strategy')} {' '.join(detail.get('space') or [])} · "
        f"{detail.get('objective')} ({detail.get('sampler')}) · study {detail.get('study')}"
    ]
    inside = detail.get("in_sample") or {}
    lines.append(
        f"In-sample {inside.get('start', '')[:10]} → {inside.get('end', '')[:10]} "
        f"({inside.get('candles', 0):,} candles)"
    )
    importance = detail.get("importance") or {}
    lines.append(
        "Importance: "
        + (", ".join(f"{k} {v:.0%}" for k, v in importance.items()) if importance else fmt.DASH)
    )
    oos = detail.get("out_of_sample")
    if oos:
        lines.append(
            f"Out-of-sample {oos.get('start', '')[:10]} → {oos.get('end', '')[:10]}: "
            f"{detail.get('objective')} {_value(oos.get('value'))}, return "
            f"{oos.get('total_return_pct') or fmt.DASH} % (buy and hold "
            f"{oos.get('buy_and_hold_return_pct') or fmt.DASH} %), {oos.get('trades')} trades"
        )
    else:
        lines.append("Out-of-sample: none (run with --oos above 0)")
    windows = detail.get("walk_forward") or []
    if len(windows) > 1:
        lines.append(
            f"Walk-forward: {len(windows)} windows, out-of-sample compounded "
            f"{detail.get('out_of_sample_return_pct') or fmt.DASH} %"
        )
    return "\n".join(lines)


class OptimizationsScreen(BaseScreen):
    CSS_PATH = "optimizations.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back", id="optimizations.back", tooltip="Back"),
    ]

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(RUN_COLUMNS, id="runs")
        yield Static(id="run-detail", classes="panel")
        yield KeyedTable(TRIAL_COLUMNS, id="best-trials")

    def on_mount(self) -> None:
        self.query_one("#runs").border_title = "Optimisations (blockbotx optimize)"
        self.query_one("#run-detail").border_title = "Run"
        self.query_one("#best-trials").border_title = "Best trials (in-sample)"
        self.query_one("#runs").focus()

    def action_back(self) -> None:
        self.dismiss()

    def load(self) -> None:
        self._load()

    @work(exclusive=True, group="optimizations")
    async def _load(self) -> None:
        runs = await self.service(optimizations.list_optimizations)
        if runs is None:
            return
        now = self.bbx.clock.now()
        self.query_one("#runs", KeyedTable).sync(
            (
                r.id,
                (
                    fmt.when(r.created_at, now),
                    r.strategy,
                    r.objective,
                    r.timeframe,
                    _params(r.best_params),
                    _value(r.best_value),
                    _value(r.oos_value),
                    str(r.trials),
                ),
            )
            for r in runs
        )
        if not runs:
            self.query_one("#run-detail", Static).update(
                "No optimisation yet. Run one with blockbotx optimize (docs/optimize.md)."
            )
        else:
            self._show(runs[0].id)

    @on(DataTable.RowHighlighted, "#runs")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value:
            self._show(event.row_key.value)

    @work(exclusive=True, group="optimization-detail")
    async def _show(self, optimization_id: str) -> None:
        record = await self.service(optimizations.get_optimization, optimization_id)
        if record is None:
            return
        detail = record.detail
        self.query_one("#run-detail", Static).update(describe(detail))
        self.query_one("#best-trials", KeyedTable).sync(
            (
                str(t["number"]),
                (
                    str(t["number"]),
                    _params(t.get("params")),
                    _value(t.get("value")),
                    fmt.DASH if t.get("trades") is None else str(t["trades"]),
                ),
            )
            for t in detail.get("trials") or []
            if t.get("value") is not None and t.get("duplicate_of") is None
        )
