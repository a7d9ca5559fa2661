"""Home: portfolio value now and over 24h / 7d / 30d, today's P&L, exposure, the period's
analytics (return, trading, best bot, DeFi), active bots, latest trades, unread notifications
and the engine's state. A new account (no bot, no trade) sees the keys to its first bot and
exchange in place of its empty chart. Refreshed by events, not polling; the analytics come from their cache
(``core.services.analytics``: at most 5 minutes old), so the box says when they were computed."""

from __future__ import annotations

from datetime import datetime, timedelta

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from core.services import analytics, bots, charts, exchanges, overview, trading
from tui import format as fmt
from tui.screens.base import BaseScreen
from tui.screens.bots import next_steps, status_text
from tui.widgets.chart import LineChart
from tui.widgets.pnl import pnl_markup, pnl_text
from tui.widgets.table import Column, KeyedTable

SPANS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
TRADE_COLUMNS = (
    Column("time", "Time"),
    Column("symbol", "Symbol"),
    Column("side", "Side"),
    Column("qty", "Qty", right=True, optional=True),
    Column("price", "Price", right=True, optional=True),
    Column("pnl", "P&L", right=True),
)
BOT_COLUMNS = (
    Column("name", "Bot"),
    Column("status", "Status"),
    Column("symbol", "Symbol", optional=True),
    Column("pnl", "P&L", right=True),
)


def short_symbols(symbols: str) -> str:
    """A screener's pair list as its first pair and how many more."""
    first, *rest = [s.strip() for s in symbols.split(",")]
    return f"{first} +{len(rest)}" if rest else first


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def analytics_text(found: dict[str, analytics.AnalyticsView], *, narrow: bool = False) -> str:
    """Two lines: the portfolio over the period and the best bot; trading and DeFi. Narrow
    terminals get the essentials, so each stays one line at 80 columns."""
    p, t = found["portfolio"].data, found["trading"].data
    b, d = found["bot_performance"].data, found["defi"].data
    if p["change"] is None:
        change = "no snapshot before this period"
    else:
        change = f"{pnl_markup(p['change_percent'], percent=True)} ({pnl_markup(p['change'])})"
    best = b["best_bot"] or fmt.DASH
    rate = fmt.percent(t["win_rate"], sign=False) if t["wins"] + t["losses"] else fmt.DASH
    net = pnl_markup(t["net_pnl"])
    if narrow:
        return (
            f"Time-weighted return {change} · best {best}\n"
            f"{t['trades']} trades · win {rate} · net {net} · fees {fmt.money(t['fees'])}"
        )
    first = (
        f"Time-weighted return {change} · high {fmt.money(p['high'])}"
        f" · low {fmt.money(p['low'])}"
        f" · best bot {best}"
    )
    second = (
        f"{t['trades']} trades · win rate {rate} · net {net}"
        f" · volume {fmt.money(t['volume'])} · fees {fmt.money(t['fees'])}"
    )
    if d["total_value"]:
        second += f" · DeFi {fmt.money(d['total_value'])} (earned {fmt.money(d['earned'])})"
    return f"{first}\n{second}"


class OverviewScreen(BaseScreen):
    CSS_PATH = "overview.tcss"
    LIVE_KINDS = frozenset({"trade", "position", "bot", "notification", "engine"})
    LIVE_INTERVAL = 1.0
    BINDINGS = [  # noqa: RUF012
        Binding("d", "span('24h')", "24h", id="overview.day", tooltip="Chart the last 24 hours"),
        Binding("w", "span('7d')", "7d", id="overview.week", tooltip="Chart the last 7 days"),
        Binding("m", "span('30d')", "30d", id="overview.month", tooltip="Chart the last 30 days"),
        Binding(
            "r", "refresh", "Refresh", id="overview.refresh", tooltip="Load every figure again"
        ),
    ]

    span = "24h"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="cards"):
            yield Static(id="portfolio", classes="card")
            yield Static(id="today", classes="card")
            yield Static(id="status", classes="card")
        yield LineChart(id="chart", empty="No portfolio snapshots in this period yet.")
        yield Static(id="next-steps")
        yield Static(id="period", classes="box")
        with Horizontal(id="lists"):
            with Vertical(id="bots-box", classes="box"):
                yield KeyedTable(BOT_COLUMNS, id="bots", narrow_below=45)
            with Vertical(id="trades-box", classes="box"):
                yield KeyedTable(TRADE_COLUMNS, id="trades", narrow_below=60)

    def on_mount(self) -> None:
        self.query_one("#chart").border_title = "Portfolio value · 24h"
        self.query_one("#bots-box").border_title = "Active bots"
        self.query_one("#trades-box").border_title = "Latest trades"
        self.query_one("#next-steps").border_title = "Get started"
        for card, title in (
            ("#portfolio", "Portfolio"),
            ("#today", "Today"),
            ("#status", "Status"),
        ):
            self.query_one(card).border_title = title

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100, "-narrow")
        self._show_analytics()

    def load(self) -> None:
        self._load_figures()
        self._load_chart()
        self._load_analytics()

    def action_refresh(self) -> None:
        self.load()

    def action_span(self, span: str) -> None:
        self.span = span
        self.query_one("#chart").border_title = f"Portfolio value · {span}"
        self._load_chart()
        self._load_analytics()

    @work(exclusive=True, group="overview-figures")
    async def _load_figures(self) -> None:
        bbx, actor = self.bbx, self.actor
        now = bbx.clock.now()
        figures = await self.call(overview.overview(bbx.db, actor, day_start=day_start(now)))
        trades = await self.call(trading.list_trades(bbx.db, actor, limit=10))
        found = await self.service(bots.list_bots, sort="status", descending=False, write=True)
        engine = await bbx.engine_status()
        if found is not None and trades is not None:
            self._next_steps(new=not found and not trades.items)
        if figures is not None:
            self._show_figures(figures, engine)
        if found is not None:
            running = [b for b in found if b.status != "inactive"]  # running, paused or in error
            self.query_one("#bots-box").border_title = f"Active bots · {len(running)}"
            self.query_one("#bots", KeyedTable).sync(
                (
                    b.id,
                    (
                        b.name,
                        status_text(b.status),
                        short_symbols(b.symbol),
                        pnl_text(self.app, b.pnl),
                    ),
                )
                for b in running
            )
        if trades is not None:
            self.query_one("#trades", KeyedTable).sync(
                (
                    t.id,
                    (
                        fmt.when(t.executed_at, now),
                        t.symbol,
                        t.side.upper(),
                        fmt.quantity(t.quantity),
                        fmt.price(t.executed_price),
                        pnl_text(self.app, t.profit_loss),
                    ),
                )
                for t in trades.items
            )

    @work(exclusive=True, group="overview-next-steps")
    async def _next_steps(self, *, new: bool) -> None:
        """A new account (no bot, no trade) sees what to do next where its empty chart would
        be: make a paper bot, connect an exchange."""
        if not new:
            self.remove_class("-new")
            return
        connections = await self.call(exchanges.list_connections(self.bbx.db, self.actor))
        hints = list(self.query("#next-steps").results(Static))
        if connections is None or not hints:
            return
        steps = next_steps(
            getattr(self.app, "nav_keys", {}),
            bots=False,
            connections=bool(connections),
            here="overview",
        )
        hints[0].update(steps)
        self.set_class(bool(steps), "-new")

    def _show_figures(self, f: overview.Overview, engine: str) -> None:
        # Short lines: three cards side by side must fit 80 columns.
        self.query_one("#portfolio", Static).update(
            f"[b]{fmt.money(f.value)} USDT[/]\n"
            f"paper {fmt.money(f.paper_value)}\n"
            f"live  {fmt.money(f.live_value)}\n"
            f"cash  {fmt.money(f.cash)}"
        )
        self.query_one("#today", Static).update(
            f"Realized   {pnl_markup(f.realized_today)}\n"
            f"Unrealized {pnl_markup(f.unrealized_pnl)}\n"
            f"Exposure   {fmt.money(f.exposure)}\n"
            f"{f.open_positions} open · {f.trades_today} trade{'' if f.trades_today == 1 else 's'}"
        )
        unread = f.unread_notifications
        inbox = f"[b $warning]{unread} unread[/]" if unread else "0 unread"
        self.query_one("#status", Static).update(f"Engine {engine}\nInbox  {inbox}")

    @work(exclusive=True, group="overview-chart")
    async def _load_chart(self) -> None:
        bbx = self.bbx
        now = bbx.clock.now()
        points = await self.call(
            charts.portfolio_chart(bbx.db, self.actor, since=now - SPANS[self.span], until=now)
        )
        if points is not None:
            self.query_one("#chart", LineChart).set_points(
                [(p.timestamp, p.total_value) for p in points]
            )

    @work(exclusive=True, group="overview-analytics")
    async def _load_analytics(self) -> None:
        span, clock = self.span, self.bbx.clock
        found = await self.service(analytics.get_period, span, clock=clock, write=True)
        boxes = self.query("#period").results(Static)  # none while the app shuts down
        box = next(boxes, None)
        if found is None or box is None:
            return
        self._analytics = found
        box.border_title = f"Analytics · {span}"
        box.border_subtitle = f"as of {fmt.when(found['trading'].computed_at, clock.now())}"
        self._show_analytics()

    def _show_analytics(self) -> None:
        found = getattr(self, "_analytics", None)
        if found is not None:
            narrow = self.has_class("-narrow")
            self.query_one("#period", Static).update(analytics_text(found, narrow=narrow))

    @on(DataTable.RowSelected, "#bots")
    def _open_bot(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.bbx.open_bot(event.row_key.value)

    @on(DataTable.RowSelected, "#trades")
    def _open_trades(self) -> None:
        self.bbx.action_go("trades")
