"""One bot: its settings and risk rules, wallets, open positions, recent executions (signal,
confidence, reason), the latest performance snapshot, its equity chart and its backtests —
with the lifecycle keys. Its own events refresh it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from core.events import Event
from core.services import bots, charts
from core.services.bot_views import (
    MIN_SHARPE_RETURNS,
    BotDetail,
    BotView,
    ExecutionView,
    PerformanceView,
)
from tui import format as fmt
from tui.screens.bot_actions import LIFECYCLE_BINDINGS, BotLifecycle, Target
from tui.screens.bots import status_text
from tui.widgets.candles import CandleChart
from tui.widgets.chart import LineChart
from tui.widgets.pnl import pnl_markup, pnl_text
from tui.widgets.table import Column, KeyedTable

EQUITY_SPAN = timedelta(days=30)
CHART_CANDLES = 300  # one a column on the widest terminals; fewer show on narrower ones
REFRESH_SECONDS = 10.0
POSITION_COLUMNS = (
    Column("symbol", "Symbol"),
    Column("qty", "Qty", right=True),
    Column("entry", "Entry", right=True),
    Column("price", "Price", right=True),
    Column("pnl", "P&L", right=True),
    Column("pct", "%", right=True),
    Column("stop", "Stop", right=True, optional=True),
    Column("target", "Target", right=True, optional=True),
)
EXECUTION_COLUMNS = (
    Column("time", "Time"),
    Column("signal", "Signal"),
    Column("confidence", "Conf.", right=True),
    Column("price", "Price", right=True, optional=True),
    Column("status", "Status", optional=True),
    Column("reason", "Reason"),
)
BACKTEST_COLUMNS = (
    Column("when", "Run"),
    Column("strategy", "Strategy"),
    Column("tf", "TF"),
    Column("trades", "Trades", right=True),
    Column("return", "Return", right=True),
    Column("equity", "Final equity", right=True),
)


# What an empty list means for the keys where it means something other than "none".
EMPTY_MEANS = {"allowed_symbols": "any pair", "allowed_actions": "none"}


def _words(key: str) -> str:
    return key.replace("_", " ")


def _plain(value: Any) -> str:
    """One value as a person reads it: yes/no, lists joined, rules as ``key value`` pairs."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return " · ".join(f"{_words(k)} {_plain(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def settings_text(values: dict[str, Any]) -> str:
    """``key  value`` lines a person can read: settings that are not set are left out, an
    empty list says what it means, nested rules are ``key value`` pairs and a list of rules
    (DCA levels, trailing steps) is one numbered line each."""
    if not values:
        return "[dim]defaults[/]"
    lines = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, list) and not value:
            shown = EMPTY_MEANS.get(key, "none")
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            rows = [f"  {i}. {_plain(v)}" for i, v in enumerate(value, start=1)]
            lines.append(f"[b]{_words(key)}[/]\n" + "\n".join(rows))
            continue
        else:
            shown = _plain(value)
        lines.append(f"[b]{_words(key)}[/]  {shown}")
    return "\n".join(lines) or "[dim]defaults[/]"


def last_run(b: BotView, executions: tuple[ExecutionView, ...], now: datetime) -> str:
    """When the bot last ran: its slot, or its latest execution (a resume clears the slot so
    the engine runs it at once; the run before is still its last one)."""
    runs = [t for t in (b.last_execution_at, *(e.timestamp for e in executions[:1])) if t]
    if runs:
        return f"last run {fmt.ago(max(runs), now)}"
    return "first run due" if b.status == "active" else "never run"


def ratio_lines(p: PerformanceView) -> str:
    """Sharpe and profit factor only where they mean something (the snapshot's metrics keep
    None where the engine had too little to go on; the columns hold 0 there)."""
    m = p.metrics
    if m.get("sharpe") is not None:
        sharpe = f"{Decimal(m['sharpe']):.2f}"
    else:
        returns = max(0, int(m.get("equity_points", 1)) - 1)
        sharpe = f"{fmt.DASH} ({returns} of {MIN_SHARPE_RETURNS} hourly returns)"
    if m.get("profit_factor") is not None:
        factor = f"{Decimal(m['profit_factor']):.2f}"
    elif Decimal(m.get("gross_profit") or 0) > 0:
        factor = "∞ (no losing trade)"
    else:
        factor = fmt.DASH
    return f"Sharpe {sharpe}\nProfit factor {factor} · risk {p.risk_score:.0f} · {p.rating}"


def span_text(first: datetime, last: datetime) -> str:
    """``45 min``, ``23 h``, ``30 days``: what a chart's points really cover."""
    minutes = int((last - first) / timedelta(minutes=1))
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


class BotDetailScreen(BotLifecycle):
    CSS_PATH = "bot_detail.tcss"
    LIVE_KINDS = frozenset({"bot", "trade", "position"})
    LIVE_INTERVAL = 1.0
    BINDINGS = [  # noqa: RUF012
        *LIFECYCLE_BINDINGS,
        Binding("b", "backtest", "Backtest", id="bot.backtest", tooltip="Backtest this bot"),
        Binding("escape", "back", "Back", id="bot.back", tooltip="Back to the bot list"),
    ]

    def __init__(self, bot_id: str, *, then: str | None = None) -> None:
        """``then``: an action to run once the bot is loaded (the palette's "stop bot …")."""
        super().__init__()
        self.bot_id = bot_id
        self.detail: BotDetail | None = None
        self.then = then

    def compose_body(self) -> ComposeResult:
        yield Static(id="headline")
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="tab-overview"):
                with Horizontal(id="top"):
                    yield Static(id="performance", classes="panel")
                    yield Static(id="wallets", classes="panel")
                yield LineChart(
                    id="equity", empty="No wallet snapshots yet (taken hourly while it runs)."
                )
                yield KeyedTable(POSITION_COLUMNS, id="positions")
            with TabPane("Chart", id="tab-chart"):
                yield CandleChart(id="candles", empty="Loading the market's candles…", recent=True)
            with TabPane("Executions", id="tab-executions"):
                yield KeyedTable(EXECUTION_COLUMNS, id="executions")
            with (
                TabPane("Settings", id="tab-settings"),
                VerticalScroll(),
                Horizontal(id="settings"),
            ):
                yield Static(id="config", classes="panel")
                yield Static(id="risk", classes="panel")
            with TabPane("Backtests", id="tab-backtests"):
                yield KeyedTable(BACKTEST_COLUMNS, id="backtests")

    def on_mount(self) -> None:
        self.query_one("#equity").border_title = "Equity"
        # A running bot's cycles publish nothing when it holds: look again now and then so
        # "last run" and the performance panel stay current.
        self.set_interval(REFRESH_SECONDS, self._refresh_running)
        self.query_one("#positions").border_title = "Open positions"
        for panel, title in (("#performance", "Performance"), ("#wallets", "Wallets"),
                             ("#config", "Settings"), ("#risk", "Risk and exits")):  # fmt: skip
            self.query_one(panel).border_title = title

    def _refresh_running(self) -> None:
        if self.is_current and self.detail is not None and self.detail.bot.status == "active":
            self._load()

    def live(self, events: list[Event]) -> None:
        if any(e.data.get("bot_id") in (self.bot_id, None) for e in events):
            self.load()

    def load(self) -> None:
        self._load()
        self._load_equity()
        self._load_candles()

    def target(self) -> Target | None:
        if self.detail is None:
            return None
        b = self.detail.bot
        return Target(b.id, b.name, b.status, b.paper_trading, len(self.detail.open_positions))

    def bot_deleted(self, bot: Target) -> None:
        self.dismiss()

    def action_back(self) -> None:
        self.dismiss()

    @work(exclusive=True, group="bot-detail")
    async def _load(self) -> None:
        detail = await self.service(bots.get_bot, self.bot_id, executions=50, write=True)
        if detail is None:
            return
        self.detail = detail
        self._show(detail)
        if self.then is not None:
            then, self.then = self.then, None
            await self.run_action(then)

    @work(exclusive=True, group="bot-equity")
    async def _load_equity(self) -> None:
        now = self.bbx.clock.now()
        points = await self.call(
            charts.bot_equity(
                self.bbx.db, self.actor, self.bot_id, since=now - EQUITY_SPAN, until=now
            )
        )
        if points is not None:
            chart = self.query_one("#equity", LineChart)
            chart.set_points([(p.timestamp, p.total_value) for p in points])
            chart.border_title = (
                f"Equity · {span_text(points[0].timestamp, points[-1].timestamp)}"
                if len(points) > 1
                else "Equity"
            )

    @work(exclusive=True, group="bot-candles")
    async def _load_candles(self) -> None:
        widget = self.query_one("#candles", CandleChart)
        chart = await self.call(
            charts.bot_chart(
                self.bbx.db, self.actor, self.bot_id, self.bbx.markets, candles=CHART_CANDLES
            ),
            refusal=lambda exc: widget.set_data([], empty=str(exc)),
        )
        if chart is None:
            return
        widget.border_title = f"{chart.symbol} · {chart.timeframe} · ▲ entry  ▼ exit"
        widget.set_data(chart.candles, chart.marks)

    def _show(self, d: BotDetail) -> None:
        app, now, b = self.app, self.bbx.clock.now(), d.bot
        mode = "paper" if b.paper_trading else "[b $warning]LIVE[/]"
        error = f"\n[$error]last error: {b.last_error}[/]" if b.last_error else ""
        self.query_one("#headline", Static).update(
            f"[b]{b.name}[/]  {b.type} · {status_text(b.status)} · {b.symbol} · {mode} · "
            f"{last_run(b, d.recent_executions, now)}"
            + (f"\n[dim]{b.description}[/]" if b.description else "")
            + error
        )
        p = d.performance
        self.query_one("#performance", Static).update(
            "No performance snapshot yet."
            if p is None
            else (
                f"Return   {pnl_markup(p.total_return)} ({pnl_markup(p.total_return_percent, percent=True)})\n"
                f"Trades   {p.total_trades} · win rate {fmt.percent(p.win_rate, sign=False, places=1)}\n"
                f"Drawdown {fmt.percent(p.max_drawdown_percent, sign=False)}\n"
                f"{ratio_lines(p)}\n"
                f"[dim]as of {fmt.when(p.timestamp, now)}[/]"
            )
        )
        self.query_one("#wallets", Static).update(
            "\n".join(
                f"[b]{w.wallet_type}[/] {fmt.money(w.cash)} {w.quote} cash "
                f"(started {fmt.money(w.initial_balance)})"
                for w in d.wallets
            )
            or "No wallet."
        )
        self.query_one("#config", Static).update(settings_text(b.config))
        self.query_one("#risk", Static).update(settings_text(b.risk_settings))
        self.query_one("#positions", KeyedTable).sync(
            (
                pos.id,
                (
                    pos.symbol,
                    fmt.quantity(pos.remaining_quantity),
                    fmt.price(pos.entry_price),
                    fmt.price(pos.current_price),
                    pnl_text(app, pos.unrealized_pnl),
                    pnl_text(app, pos.unrealized_pnl_percent, percent=True),
                    fmt.price(pos.stop_loss) if pos.stop_loss else fmt.DASH,
                    fmt.price(pos.take_profit) if pos.take_profit else fmt.DASH,
                ),
            )
            for pos in d.open_positions
        )
        self.query_one("#executions", KeyedTable).sync(
            (
                e.id,
                (
                    fmt.when(e.timestamp, now),
                    e.signal,
                    f"{e.confidence:.0f}",
                    fmt.price(e.price),
                    e.status,
                    e.error or e.reason,
                ),
            )
            for e in d.recent_executions
        )
        self.query_one("#backtests", KeyedTable).sync(
            (
                t.id,
                (
                    fmt.when(t.created_at, now),
                    t.strategy or fmt.DASH,
                    t.timeframe or fmt.DASH,
                    str(t.trades) if t.trades is not None else fmt.DASH,
                    pnl_text(app, t.total_return_pct, percent=True),
                    fmt.money(t.final_equity),
                ),
            )
            for t in d.backtests
        )

    @on(DataTable.RowSelected, "#backtests")
    def _open_backtest(self, event: DataTable.RowSelected) -> None:
        from tui.screens.backtest_report import BacktestReportScreen

        if event.row_key.value:
            self.app.push_screen(BacktestReportScreen(event.row_key.value))

    def action_backtest(self) -> None:
        from tui.screens.backtests import BacktestsScreen

        self.app.push_screen(BacktestsScreen(bot_id=self.bot_id))
