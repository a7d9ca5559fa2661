"""A backtest's report: its metrics, the closed-trade equity curve and every trade.

Opened with a stored backtest's id (loaded through the service) or with a fresh result (a run
of a bare strategy, which isn't stored)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Static

from core.services import backtest_runs, backtests
from tui import format as fmt
from tui.screens.base import BaseScreen
from tui.widgets.candles import CandleChart
from tui.widgets.chart import LineChart
from tui.widgets.pnl import pnl_markup, pnl_text
from tui.widgets.table import Column, KeyedTable

TRADE_COLUMNS = (
    Column("entry", "Entry time"),
    Column("entry_price", "Entry", right=True),
    Column("exit", "Exit time", optional=True),
    Column("exit_price", "Exit", right=True),
    Column("qty", "Qty", right=True, optional=True),
    Column("pnl", "P&L", right=True),
    Column("pct", "%", right=True),
    Column("fees", "Fees", right=True, optional=True),
    Column("reason", "Exit reason"),
)


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _time(text: str | None) -> str:
    return fmt.DASH if not text else text.replace("T", " ")[:16]


class BacktestReportScreen(BaseScreen):
    CSS_PATH = "backtest_report.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back", id="report.back", tooltip="Back"),
    ]

    def __init__(
        self,
        backtest_id: str | None,
        *,
        result: dict[str, Any] | None = None,
        title: str = "",
    ) -> None:
        super().__init__()
        self.backtest_id, self.result, self.title_text = backtest_id, result, title
        self.config: dict[str, Any] = {}

    def compose_body(self) -> ComposeResult:
        yield Static(id="report-title")
        with Horizontal(id="figures"):
            yield Static(id="metrics", classes="panel")
            yield Static(id="ratios", classes="panel")
            yield Static(id="run", classes="panel")
        with Horizontal(id="charts"):
            yield CandleChart(id="candles", empty="This report was stored without its candles.")
            yield LineChart(id="curve", empty="No closed trades: the equity never moved.")
        yield KeyedTable(TRADE_COLUMNS, id="trade-list")

    def on_mount(self) -> None:
        self.query_one("#curve").border_title = "Equity after each closed trade"
        self.query_one("#candles").border_title = "Price · ▲ entry  ▼ exit"
        self.query_one("#metrics").border_title = "Metrics"
        self.query_one("#ratios").border_title = "Against the market · trades"
        self.query_one("#run").border_title = "Run"

    def action_back(self) -> None:
        self.dismiss()

    def load(self) -> None:
        if self.result is not None:
            self._show(self.result)
        elif self.backtest_id is not None:
            self._load()

    @work(exclusive=True, group="backtest-report")
    async def _load(self) -> None:
        record = await self.service(backtests.get_backtest, self.backtest_id)
        if record is not None:
            self.config = record.config
            self.title_text = record.summary.strategy or ""
            self._show(record.result)

    def _show_ratios(self, r: dict[str, Any]) -> None:
        """The richer figures (absent from results stored before they existed: shown as —)."""

        def ratio(key: str) -> str:
            value = _d(r.get(key))
            return fmt.money(value) if value is not None else fmt.DASH

        best, worst = _d(r.get("best_trade_pct")), _d(r.get("worst_trade_pct"))
        expectancy = _d(r.get("expectancy"))
        self.query_one("#ratios", Static).update(
            f"Buy and hold  {fmt.percent(_d(r.get('buy_and_hold_return_pct')))}\n"
            f"CAGR          {fmt.percent(_d(r.get('cagr_pct')))}\n"
            f"Exposure      {fmt.percent(_d(r.get('exposure_pct')), sign=False)} of the time\n"
            f"Sortino       {ratio('sortino')} · Calmar {ratio('calmar')}\n"
            f"Expectancy    {fmt.money(expectancy, sign=True)} per trade\n"
            f"Best / worst  {fmt.percent(best)} / {fmt.percent(worst)}\n"
            f"Held          {fmt.duration(r.get('avg_trade_duration_s'))} on average, "
            f"{fmt.duration(r.get('max_trade_duration_s'))} at most"
        )

    def _show(self, r: dict[str, Any]) -> None:
        app = self.app
        stored = "stored" if self.backtest_id else "not stored: a run without a bot"
        self.query_one("#report-title", Static).update(
            f"[b]Backtest · {self.title_text or r.get('strategy', '')}[/]  [dim]{stored}[/]"
        )
        rate = _d(r.get("win_rate_pct"))
        sharpe, factor = _d(r.get("sharpe")), _d(r.get("profit_factor"))
        self.query_one("#metrics", Static).update(
            f"Return        {pnl_markup(_d(r.get('total_return_pct')), percent=True)}\n"
            f"Final equity  {fmt.money(_d(r.get('final_equity')))} "
            f"(from {fmt.money(_d(r.get('initial_cash')))})\n"
            f"Trades        {r.get('trades', 0)} · win rate "
            f"{fmt.percent(rate, sign=False, places=1) if rate is not None else fmt.DASH}\n"
            f"Max drawdown  {fmt.percent(_d(r.get('max_drawdown_pct')), sign=False)}\n"
            f"Sharpe        {fmt.money(sharpe) if sharpe is not None else fmt.DASH} · "
            f"profit factor {fmt.money(factor) if factor is not None else fmt.DASH}\n"
            f"Fees paid     {fmt.money(_d(r.get('fees_paid')))}"
        )
        self._show_ratios(r)
        open_trade = r.get("open_trade")
        source = self.config.get("source")
        self.query_one("#run", Static).update(
            f"{r.get('timeframe', '')} · {r.get('candles', 0):,} candles · {r.get('mode', '')} mode\n"
            f"{_time(r.get('start'))} → {_time(r.get('end'))}\n"
            f"fee {r.get('fee')} · took {r.get('execution_time_ms', 0):,} ms"
            + (f"\n{source}" if source else "")
            + (
                f"\nstill open: {fmt.amount(_d(open_trade['quantity']))} at "
                f"{fmt.price(_d(open_trade['entry_price']))} "
                f"({pnl_markup(_d(open_trade['unrealized_pnl']))})"
                if open_trade
                else ""
            )
        )
        self.query_one("#curve", LineChart).set_points(backtest_runs.equity_curve(r))
        self.query_one("#candles", CandleChart).set_data(*backtest_runs.chart(r))
        self.query_one("#trade-list", KeyedTable).sync(
            (
                str(i),
                (
                    _time(t.get("entry_time")),
                    fmt.price(_d(t.get("entry_price"))),
                    _time(t.get("exit_time")),
                    fmt.price(_d(t.get("exit_price"))),
                    fmt.amount(_d(t.get("quantity"))),
                    pnl_text(app, _d(t.get("pnl"))),
                    pnl_text(app, _d(t.get("pnl_pct")), percent=True),
                    fmt.money(_d(t.get("fees"))),
                    (t.get("exit_reason") or "").replace("_", " ").lower(),
                ),
            )
            for i, t in enumerate(r.get("trade_list") or [])
        )
        self.query_one("#trade-list").border_title = f"Trades ({len(r.get('trade_list') or [])})"
