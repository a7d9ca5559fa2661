"""Trade history: filters, server-side sort, keyset pages of 100, totals of the filtered set and
a CSV export of it with a progress bar.

The table never holds more than one page, so a million trades open as fast as a hundred; that
page is asked for as the screen composes (it arrives while the screen mounts); the
totals come from a second query, and the filter bar's fields are mounted once the first page is
shown: neither holds up the first paint (mounting four Selects and three Inputs took longer
than the page's query and its rows together). New trades (engine
events) refresh the totals, and the first page when it is showing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, date, datetime, timedelta
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.timer import Timer
from textual.widgets import DataTable, Input, ProgressBar, Select, Static

from core.events import Event
from core.services import trade_history
from core.services.trade_history import HistoryRow, TradeFilter
from core.services.trading_views import Page
from tui import format as fmt
from tui.screens.base import BaseScreen
from tui.widgets.pnl import pnl_text
from tui.widgets.table import Column, KeyedTable

PAGE = 100
COLUMNS = (
    Column("time", "Time"),
    Column("symbol", "Symbol"),
    Column("side", "Side"),
    Column("qty", "Qty", right=True),
    Column("price", "Price", right=True),
    Column("total", "Total", right=True),
    Column("fee", "Fee", right=True, optional=True),
    Column("pnl", "P&L", right=True),
    Column("mode", "Mode", optional=True),
    Column("status", "Status", optional=True),
    Column("bot", "Bot"),
)
SORTABLE = {"time": "time", "symbol": "symbol", "total": "total", "pnl": "pnl"}
SORTS = tuple(SORTABLE.values())
ANY = Select.NULL


def parse_day(text: str, field: str) -> datetime | None:
    """``YYYY-MM-DD`` as the start of that day (UTC); empty is None."""
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{field}: write the date as YYYY-MM-DD") from None


class TradesScreen(BaseScreen):
    CSS_PATH = "trades.tcss"
    LIVE_KINDS = frozenset({"trade"})
    LIVE_INTERVAL = 1.0
    BINDINGS = [  # noqa: RUF012
        Binding("slash", "filter", "Filter", id="trades.filter", tooltip="Go to the filters (symbol first)"),
        Binding("s", "sort", "Sort", id="trades.sort", tooltip="Sort by time, symbol, total or P&L"),
        Binding("r", "reverse", "Reverse", id="trades.reverse", tooltip="Reverse the order"),
        Binding("right_square_bracket", "page(1)", "Next page", id="trades.next", tooltip="Next page"),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="trades.prev", tooltip="Previous page"),
        Binding("e", "export", "Export CSV", id="trades.export", tooltip="Export the filtered trades to a CSV file"),
        Binding("c", "clear", "Clear", id="trades.clear", tooltip="Clear every filter"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.filter = TradeFilter()
        self.sort_by = "time"
        self.descending = True
        self.cursors: list[str | None] = [None]  # the cursor that starts each page seen
        self.next_cursor: str | None = None
        self.total_count: int | None = None
        self.rows: dict[str, HistoryRow] = {}
        # Set when the next page is another list (sort, page, filter): its first row is shown
        # with the cursor on it; a live refresh of the same list keeps the cursor's row.
        self._new_list = False
        # Asked for with the page and fetched once it is shown: queries sharing the event loop
        # with the page's would hold up the first paint.
        self._totals_due = False
        self._bots_due = True
        self._filters: asyncio.Task[None] | None = None  # the filter bar's fields' mounting
        self._ahead: asyncio.Future[Page[HistoryRow]] | None = None  # the first page, asked early

    def compose_body(self) -> ComposeResult:
        # The first page is asked for now, to arrive while the screen mounts (its rows then
        # come with the screen's first frames, not a query later).
        self._ahead = asyncio.ensure_future(self._page_query())
        yield Grid(id="filters")
        yield Static(id="totals", classes="summary")
        yield KeyedTable(COLUMNS, id="trades")

    def _filter_fields(self) -> ComposeResult:
        yield Input(placeholder="symbol", id="f-symbol", compact=True, max_length=30)
        yield Select[str]((), prompt="any bot", id="f-bot", compact=True)
        yield Select[str](
            (("buy", "BUY"), ("sell", "SELL")), prompt="any side", id="f-side", compact=True
        )
        yield Select[str](
            (("paper", "paper"), ("live", "live")),
            prompt="paper+live",
            id="f-mode",
            compact=True,
        )
        yield Select[str](
            (("filled", "FILLED"), ("partial", "PARTIALLY_FILLED")),
            prompt="any status",
            id="f-status",
            compact=True,
        )
        yield Input(placeholder="from YYYY-MM-DD", id="f-since", compact=True, max_length=10)
        yield Input(placeholder="to YYYY-MM-DD", id="f-until", compact=True, max_length=10)

    def _mount_filters(self) -> asyncio.Task[None]:
        """The filter bar's fields, mounted once (behind the first page); await it to use them."""
        if self._filters is None:
            mounting = self.query_one("#filters", Grid).mount_all(self._filter_fields())

            async def mounted() -> None:
                await mounting

            self._filters = asyncio.create_task(mounted())
        return self._filters

    def on_mount(self) -> None:
        self.query_one("#trades").focus()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 120, "-narrow")

    # -- data ------------------------------------------------------------------------------------

    def load(self) -> None:
        self._totals_due = True
        self._load_page()

    def _after_page(self) -> None:
        self.call_after_refresh(self.call_later, self._behind_rows)

    def _behind_rows(self) -> None:
        """Once the page's rows are painted (and whatever else waited for that frame has run):
        the filter bar, the totals, the bots to filter by."""
        self._mount_filters()
        if self._totals_due:
            self._totals_due = False
            self._load_totals()
        if self._bots_due:
            self._bots_due = False
            self._load_bots()

    def live(self, events: list[Event]) -> None:
        self._load_totals()
        if len(self.cursors) == 1 and self.sort_by == "time" and self.descending:
            self._load_page()

    @work(exclusive=True, group="trades-bots")
    async def _load_bots(self) -> None:
        bots = await self.call(trade_history.trade_bots(self.bbx.db, self.actor))
        await self._mount_filters()
        # (none when the app closed as the fields mounted: they come after the first frame)
        for field in self.query("#f-bot").results(Select):
            if bots is not None:
                field.set_options((name, bot_id) for bot_id, name in bots)

    def _page_query(self) -> Coroutine[Any, Any, Page[HistoryRow]]:
        return trade_history.search(
            self.bbx.db,
            self.actor,
            self.filter,
            sort=self.sort_by,
            descending=self.descending,
            limit=PAGE,
            after=self.cursors[-1],
        )

    @work(exclusive=True, group="trades-page")
    async def _load_page(self) -> None:
        ahead, self._ahead = self._ahead, None
        page = await self.call(ahead if ahead is not None else self._page_query())
        if page is not None:
            self.next_cursor = page.next_cursor
            self._show(page.items, from_top=self._new_list)
            self._new_list = False
        self._after_page()

    @work(exclusive=True, group="trades-totals")
    async def _load_totals(self) -> None:
        totals = await self.call(trade_history.totals(self.bbx.db, self.actor, self.filter))
        if totals is not None:
            self.total_count = totals.count
            self._summary(totals)

    def _show(self, rows: tuple[HistoryRow, ...], *, from_top: bool) -> None:
        app, now = self.app, self.bbx.clock.now()
        self.rows = {r.trade.id: r for r in rows}
        lines = (
            (
                r.trade.id,
                (
                    fmt.when(r.trade.executed_at, now),
                    r.trade.symbol,
                    r.trade.side.upper(),
                    fmt.quantity(r.trade.quantity),
                    fmt.price(r.trade.executed_price),
                    fmt.money(r.trade.total),
                    fmt.money(r.trade.fee, 4),
                    pnl_text(app, r.trade.profit_loss),
                    "paper" if r.trade.is_paper else "live",
                    r.status.lower(),
                    r.bot_name or "manual",
                ),
            )
            for r in rows
        )
        self.query_one("#trades", KeyedTable).sync(lines, from_top=from_top)
        self._page_line()

    def _page_line(self) -> None:
        table = self.query_one("#trades", KeyedTable)
        first = (len(self.cursors) - 1) * PAGE
        arrow = "↓" if self.descending else "↑"
        of = f" of {self.total_count:,}" if self.total_count is not None else ""
        shown = (
            f"rows {first + 1:,}–{first + table.row_count:,}" if table.row_count else "no trades"
        )
        table.border_subtitle = (
            f"page {len(self.cursors)} · {shown}{of} · by {self.sort_by} {arrow}"
        )

    def _summary(self, t: trade_history.TradeTotals) -> None:
        rate = fmt.percent(t.win_rate, sign=False, places=1) if t.win_rate is not None else fmt.DASH
        self.query_one("#totals", Static).update(
            f"{t.count:,} trades ({t.buys:,} buys, {t.sells:,} sells) · volume "
            f"{fmt.money(t.volume)} · fees {fmt.money(t.fees)} · realized "
            f"{fmt.money(t.realized_pnl, sign=True)} · wins {t.wins:,} / losses {t.losses:,} "
            f"({rate})"
        )
        self._page_line()

    # -- filters ---------------------------------------------------------------------------------

    def _read_filter(self) -> TradeFilter | None:
        def choice(selector: str) -> str | None:
            value = self.query_one(selector, Select).value
            return None if value is ANY else str(value)

        mode = choice("#f-mode")
        try:
            since = parse_day(self.query_one("#f-since", Input).value, "from")
            until = parse_day(self.query_one("#f-until", Input).value, "to")
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return None
        return TradeFilter(
            symbol=self.query_one("#f-symbol", Input).value,
            bot_id=choice("#f-bot"),
            side=choice("#f-side"),
            paper=None if mode is None else mode == "paper",
            status=choice("#f-status"),
            since=since,
            until=until + timedelta(days=1) if until else None,  # "to" includes that day
        )

    def _apply(self) -> None:
        wanted = self._read_filter()
        if wanted is None or wanted == self.filter:
            return
        self.filter = wanted
        self.cursors = [None]
        self.total_count = None
        self._new_list = True
        self.load()

    @on(Select.Changed)
    def _select_changed(self) -> None:
        self._apply()

    @on(Input.Submitted)
    def _input_submitted(self) -> None:
        self._apply()
        self.query_one("#trades").focus()

    @on(Input.Changed, "#f-symbol")
    def _symbol_typed(self) -> None:
        # as-you-type for the symbol (debounced): dates wait for Enter, half a date is no filter
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.3, self._apply)

    _debounce: Timer | None = None

    async def action_filter(self) -> None:
        await self._mount_filters()  # pressed before the first page arrived
        self.query_one("#f-symbol").focus()

    async def action_clear(self) -> None:
        await self._mount_filters()
        for field in self.query("#filters Input").results(Input):
            field.value = ""
        for select in self.query("#filters Select").results(Select):
            select.clear()
        self._apply()

    # -- order and pages -------------------------------------------------------------------------

    def action_sort(self) -> None:
        self._sort(SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)])

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.cursors = [None]
        self._new_list = True
        self._load_page()

    def _sort(self, sort: str) -> None:
        self.sort_by = sort
        self.cursors = [None]
        self._new_list = True
        self._load_page()

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        sort = SORTABLE.get(str(event.column_key.value))
        if sort is None:
            return
        if sort == self.sort_by:
            self.action_reverse()
        else:
            self._sort(sort)

    def action_page(self, step: int) -> None:
        if step > 0 and self.next_cursor is not None:
            self.cursors.append(self.next_cursor)
        elif step < 0 and len(self.cursors) > 1:
            self.cursors.pop()
        else:
            return
        self._new_list = True
        self._load_page()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        """Enter: the page of the trade's bot (manual trades have none)."""
        row = self.rows.get(event.row_key.value or "")
        if row is not None and row.trade.bot_id is not None:
            self.bbx.open_bot(row.trade.bot_id)

    # -- export ----------------------------------------------------------------------------------

    @work(exclusive=True, group="trades-export")
    async def action_export(self) -> None:
        if not self.query("#export"):  # mounted at the first export: no first paint waits for it
            await self.mount(ProgressBar(id="export", show_eta=False), after="#trades")
        bar = self.query_one("#export", ProgressBar)
        bar.update(total=None, progress=0)
        bar.add_class("-running")

        def progress(done: int, total: int) -> None:
            bar.update(total=max(total, 1), progress=done)

        try:
            export = await self.call(
                trade_history.export_csv(
                    self.bbx.db, self.actor, self.filter, clock=self.bbx.clock, progress=progress
                )
            )
        finally:
            bar.remove_class("-running")
        if export is not None:
            self.notify(f"Exported to {export.file_url} (kept 7 days).", timeout=10)
