"""Positions: every open position marked to market live, closed ones paged from PostgreSQL.

Paper positions are priced from the in-process simulated market twice a second and the table
changes by keyed diff: only the price and P&L cells that moved are repainted. A tick starts only
when the previous one has finished, so a slow tick never piles up. Positions opening or
closing (engine events) reload the list; closing one by hand asks first.
"""

from __future__ import annotations

from decimal import Decimal

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from core.events import Event
from core.services import position_board, trading
from core.services.position_board import OpenPosition
from core.services.trading_views import PositionView
from tui import format as fmt
from tui.modals.confirm import ConfirmModal
from tui.screens.base import BaseScreen
from tui.widgets.filter_bar import FilterBar, matches
from tui.widgets.pnl import pnl_text
from tui.widgets.table import Cell, Column, KeyedTable

TICK_SECONDS = 0.5  # 2 Hz: plenty for a human, light on a slow link
PAPER_FEED = "simulated"
CLOSED_PAGE = 100
OPEN_COLUMNS = (
    Column("symbol", "Symbol"),
    Column("bot", "Bot"),
    Column("side", "Side", optional=True),
    Column("qty", "Qty", right=True),
    Column("entry", "Entry", right=True),
    Column("price", "Price", right=True),
    Column("pnl", "P&L", right=True),
    Column("pct", "%", right=True),
    Column("stop", "Stop", right=True),
    Column("target", "Target", right=True),
    Column("exit", "Exit state"),
)
CLOSED_COLUMNS = (
    Column("closed", "Closed"),
    Column("symbol", "Symbol"),
    Column("bot", "Bot"),
    Column("qty", "Qty", right=True),
    Column("entry", "Entry", right=True),
    Column("exit", "Exit", right=True),
    Column("pnl", "P&L", right=True),
    Column("pct", "%", right=True),
    Column("reason", "Reason"),
)
SORTS = ("newest", "symbol", "pnl", "pct")

Marked = tuple[OpenPosition, Decimal, tuple[Cell, ...], Decimal, Decimal]
"""A position marked at a price: (position, price, its row's cells, P&L, %)."""


def exit_state(p: OpenPosition) -> str:
    """What the exit rules have done: the peak since entry, a stop raised into profit,
    take-profit levels taken, the moon bag kept."""
    parts = []
    if p.peak_price is not None and p.entry_price and p.peak_price > p.entry_price:
        parts.append(f"peak {fmt.percent((p.peak_price / p.entry_price - 1) * 100)}")
    if p.stop_loss and p.stop_loss > p.entry_price:
        parts.append("stop in profit")
    if p.take_profit_levels_hit:
        parts.append(f"TP×{p.take_profit_levels_hit}")
    if p.moon_bag:
        parts.append("moon bag")
    return " · ".join(parts)


class PositionsScreen(BaseScreen):
    CSS_PATH = "lists.tcss"
    LIVE_KINDS = frozenset({"position", "trade"})
    LOAD_AFTER_FIRST_FRAME = True  # the rows follow the first frame
    BINDINGS = [  # noqa: RUF012
        Binding("c", "close_position", "Close", id="positions.close",
                tooltip="Sell the selected position at market (asks first)"),
        Binding("s", "sort", "Sort", id="positions.sort", tooltip="Sort by newest, symbol, P&L, %"),
        Binding("slash", "filter", "Filter", id="positions.filter", tooltip="Filter by symbol or bot"),
        Binding("o", "tab('open')", "Open", id="positions.open", tooltip="Open positions"),
        Binding("x", "tab('closed')", "Closed", id="positions.closed", tooltip="Closed positions"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.positions: list[OpenPosition] = []
        self.prices: dict[str, Decimal] = {}
        self.sort_by = "newest"
        self.filter = ""
        self.closed_rows: list[PositionView] = []
        self.closed_next: str | None = None
        self._tick_busy = False
        self._rows: dict[str, Marked] = {}
        self._prices: dict[Decimal, str] = {}  # formatted prices, shared by the rows
        self._pnl: dict[tuple[Decimal, bool], Text] = {}  # P&L cells, shared by equal figures
        self._theme = ""
        self._summary, self._summary_fits = "", False

    def compose_body(self) -> ComposeResult:
        yield FilterBar("filter by symbol or bot…", id="filter")
        with TabbedContent(id="tabs"):
            with TabPane("Open", id="open"):
                yield Static(id="open-summary", classes="summary")
                yield KeyedTable(OPEN_COLUMNS, id="open-table", narrow_below=130)
            with TabPane("Closed", id="closed"):
                yield KeyedTable(CLOSED_COLUMNS, id="closed-table")

    def on_mount(self) -> None:
        self.query_one("#open-table").focus()
        self.set_interval(TICK_SECONDS, self._tick_due)

    def on_unmount(self) -> None:
        self._subscribe(())

    # -- data ------------------------------------------------------------------------------------

    def load(self) -> None:
        self._load_open()
        self._load_closed(reset=True)

    def live(self, events: list[Event]) -> None:
        self._load_open()
        if any(e.kind == "position" and e.data.get("status") != "open" for e in events):
            self._load_closed(reset=True)

    @work(exclusive=True, group="positions-open")
    async def _load_open(self) -> None:
        rows = await self.call(position_board.open_positions(self.bbx.db, self.actor))
        if rows is None:
            return
        self.positions = rows
        self._subscribe({p.symbol for p in rows if p.is_paper})
        self.show_open()

    def _subscribe(self, symbols) -> None:
        """Keep the simulated hub polling exactly the symbols on this board."""
        hub = self.bbx.markets.hubs.get(PAPER_FEED)
        if hub is None:
            return
        old: set[str] = getattr(self, "_symbols", set())
        hub.unsubscribe(old - set(symbols))
        hub.subscribe(set(symbols) - old)
        self._symbols = set(symbols)

    def _tick_due(self) -> None:
        """A tick starts only when the last one is done and someone is looking."""
        if self._tick_busy or not self.is_current or not getattr(self, "_symbols", None):
            return
        self._tick_busy = True
        self._tick()

    @work(group="live-positions-tick")
    async def _tick(self) -> None:
        """Fetch the paper symbols' prices once and repaint what moved."""
        try:
            hub = self.bbx.markets.hubs.get(PAPER_FEED)
            if hub is not None and hub.symbols:
                await hub.refresh()
                self.prices = hub.prices()
                self.show_open()
        finally:
            self._tick_busy = False

    def _mark(self, p: OpenPosition) -> tuple[Decimal, Decimal, Decimal]:
        price = self.prices.get(p.symbol) if p.is_paper else None
        if price is None:
            return p.current_price, p.unrealized_pnl, p.unrealized_pnl_percent
        pnl, pct = p.marked(price)
        return price, pnl, pct

    def _marked(self, app: App, p: OpenPosition) -> Marked:
        """A position marked to its price, with its row's cells. Most of a row doesn't move
        with the price, and a tick leaves many prices as they were: both are kept, so a tick
        marks and formats only what changed."""
        cached = self._rows.get(p.id)
        live = self.prices.get(p.symbol) if p.is_paper else None
        at = p.current_price if live is None else live
        if cached is not None and cached[0] is p and cached[1] == at:
            return cached
        price = at
        pnl, pct = (p.unrealized_pnl, p.unrealized_pnl_percent) if live is None else p.marked(live)
        if cached is not None and cached[0] is p:
            fixed = cached[2]
        else:  # new, or reloaded: the fixed cells again
            fixed = (
                p.symbol, p.bot_name, p.side.upper(), fmt.quantity(p.held),
                fmt.price(p.entry_price), "", "", "",
                fmt.price(p.stop_loss) if p.stop_loss else fmt.DASH,
                fmt.price(p.take_profit) if p.take_profit else fmt.DASH,
                exit_state(p),
            )  # fmt: skip
        shown = self._prices.get(price)
        if shown is None:
            shown = self._prices[price] = fmt.price(price)
        row = (
            *fixed[:5],
            shown,
            self._pnl_cell(app, pnl),
            self._pnl_cell(app, pct, True),
            *fixed[8:],
        )
        marked = self._rows[p.id] = (p, price, row, pnl, pct)
        return marked

    def _pnl_cell(self, app: App, value: Decimal, percent: bool = False) -> Text:
        """One Text per figure: a row whose P&L didn't change keeps the very same cell, which
        the table's diff skips at once (rounded to cents, many positions share a figure)."""
        key = (value, percent)
        cell = self._pnl.get(key)
        if cell is None:
            cell = self._pnl[key] = pnl_text(app, value, percent=percent)
        return cell

    def show_open(self) -> None:
        app = self.app
        if len(self._prices) > 4096:
            self._prices.clear()
        if len(self._pnl) > 8192 or self._theme != app.theme:  # (a theme's own colours)
            self._pnl.clear()
            self._rows.clear()
            self._theme = app.theme
        if len(self._rows) > len(self.positions):  # (closed ones go)
            self._rows = {p.id: self._rows[p.id] for p in self.positions if p.id in self._rows}
        wanted = self._wanted
        marked = [self._marked(app, p) for p in self.positions if wanted(p.symbol, p.bot_name)]
        key = {
            "newest": None,
            "symbol": lambda r: (r[0].symbol, r[0].bot_name),
            "pnl": lambda r: -r[3],
            "pct": lambda r: -r[4],
        }[self.sort_by]
        if key is not None:
            marked.sort(key=key)
        self.query_one("#open-table", KeyedTable).sync((m[0].id, m[2]) for m in marked)
        total = sum((m[3] for m in marked), Decimal(0))
        exposure = sum((m[0].held * m[1] for m in marked), Decimal(0))
        summary = self.query_one("#open-summary", Static)
        text = (
            f"{len(marked)} open · exposure {fmt.money(exposure)} · unrealized "
            f"{fmt.money(total, sign=True)} · sorted by {self.sort_by}"
            + (f" · filter “{self.filter}”" if self.filter else "")
        )
        if text != self._summary:
            # A line that fits, as the last one did, needs no layout of the screen.
            fits = 0 < cell_len(text) <= summary.content_size.width
            summary.update(text, layout=not (fits and self._summary_fits))
            self._summary, self._summary_fits = text, fits

    @work(exclusive=True, group="positions-closed")
    async def _load_closed(self, reset: bool = False) -> None:
        after = None if reset else self.closed_next
        if not reset and after is None:
            return
        page = await self.call(
            trading.list_positions(
                self.bbx.db,
                self.actor,
                status="closed",
                search=self.filter,
                limit=CLOSED_PAGE,
                after=after,
            )
        )
        if page is None:
            return
        self.closed_rows = list(page.items) if reset else [*self.closed_rows, *page.items]
        self.closed_next = page.next_cursor
        self.show_closed()

    def show_closed(self) -> None:
        app, now = self.app, self.bbx.clock.now()
        self.query_one("#closed-table", KeyedTable).sync(
            (
                p.id,
                (
                    fmt.when(p.closed_at, now),
                    p.symbol,
                    p.bot_name,
                    fmt.quantity(p.quantity),
                    fmt.price(p.entry_price),
                    fmt.price(p.exit_price),
                    pnl_text(app, p.profit_loss),
                    pnl_text(app, p.profit_loss_percent, percent=True),
                    (p.close_reason or "").replace("_", " ").lower(),
                ),
            )
            for p in self.closed_rows  # filtered by the service: every page, not just these
        )

    @on(DataTable.RowHighlighted, "#closed-table")
    def _more(self, event: DataTable.RowHighlighted) -> None:
        """Keyset paging: reaching the last loaded row fetches the next page."""
        if event.cursor_row >= event.data_table.row_count - 1 and self.closed_next:
            self._load_closed()

    def _wanted(self, *fields: object) -> bool:
        return not self.filter or matches(self.filter, *fields)

    # -- actions ---------------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab
        self.query_one(f"#{tab}-table").focus()

    def action_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        self.show_open()

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    @on(FilterBar.Filter)
    def _filtered(self, event: FilterBar.Filter) -> None:
        self.filter = event.text
        self.show_open()
        self._load_closed(reset=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_position":
            return self.query_one("#tabs", TabbedContent).active == "open"
        return True

    def action_close_position(self) -> None:
        key = self.query_one("#open-table", KeyedTable).selected_key
        if key is not None:
            self.close_position(key)

    @work(exclusive=True, group="positions-close")
    async def close_position(self, position_id: str) -> None:
        """Sell the position at market, after asking (the key ``c`` and the palette)."""
        position = next((p for p in self.positions if p.id == position_id), None)
        if position is None:
            return
        price, pnl, _ = self._mark(position)
        question = (
            f"Sell {fmt.quantity(position.held)} {position.symbol} of {position.bot_name} at "
            f"market (about {fmt.price(price)}, unrealized {fmt.money(pnl, sign=True)})?"
        )
        if not await self.app.push_screen_wait(
            ConfirmModal("Close position", question, yes="Sell")
        ):
            return
        order = await self.call(
            trading.close_position(self.bbx.db, self.actor, position.id, ctx=self.bbx.trading)
        )
        if order is not None:
            self.notify(
                f"Closed {position.symbol}: {order.status}, sold {fmt.quantity(order.filled)}."
            )
            self.load()
