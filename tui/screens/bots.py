"""Bots: every bot with type, status, symbol, P&L, win rate and last execution; filter by name
(``/``) and type, sort (server-side), create (a form per type, or from a template), open, and
the lifecycle keys. Bot and trade events refresh it."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from core.events import Event
from core.services import bots, exchanges, templates
from core.services.bot_views import BotSummary
from core.strategies.registry import BOT_CONFIGS
from tui import format as fmt
from tui.modals.choice import ChoiceModal
from tui.screens.bot_actions import LIFECYCLE_BINDINGS, BotLifecycle, Target
from tui.widgets.filter_bar import FilterBar
from tui.widgets.pnl import pnl_text
from tui.widgets.table import Column, KeyedTable

COLUMNS = (
    Column("name", "Bot"),
    Column("type", "Type"),
    Column("status", "Status"),
    Column("symbol", "Symbol"),
    Column("mode", "Mode", optional=True),
    Column("pnl", "P&L", right=True),
    Column("pct", "%", right=True, optional=True),
    Column("win", "Win rate", right=True),
    Column("open", "Open", right=True, optional=True),
    Column("last", "Last run"),
)
SORTS = ("created", "name", "pnl", "pnl_percent", "win_rate", "last_execution", "status", "type")
TYPES = (None, *BOT_CONFIGS)


def next_steps(nav_keys: dict[str, str], *, bots: bool, connections: bool, here: str) -> str:
    """What a new account does next, in keys: one line for each thing it has none of yet
    (empty when it has bots and an exchange). ``here`` is the screen showing it, whose own
    key needs no pressing. Each line fits 80 columns inside a box."""

    def go(screen: str, default: str) -> str:
        return "" if screen == here else f"[b]{nav_keys.get(screen, default)}[/] then "

    lines = []
    if not bots:
        lines.append(
            f"No bots yet. Create a paper bot (no exchange needed): press {go('bots', '2')}[b]n[/]."
        )
    if not connections:
        lines.append(
            f"No exchange connected. To trade for real, connect one: press "
            f"{go('exchanges', '7')}[b]n[/]."
        )
    return "\n".join(lines)


def status_text(status: str) -> str:
    """Status with a mark that survives NO_COLOR."""
    return {"active": "● active", "paused": "‖ paused", "error": "✖ error"}.get(status, "○ stopped")


class BotsScreen(BotLifecycle):
    CSS_PATH = "lists.tcss"
    LIVE_KINDS = frozenset({"bot", "trade", "position"})
    LIVE_INTERVAL = 1.0
    BINDINGS = [  # noqa: RUF012
        Binding("n", "new_bot", "New", id="bots.new", tooltip="Create a bot: a form for its type"),
        Binding("T", "from_template", "From template", id="bots.template",
                tooltip="Create a bot from a template"),
        Binding("slash", "filter", "Filter", id="bots.filter", tooltip="Filter by name"),
        Binding("t", "cycle_type", "Type", id="bots.type", tooltip="Show one bot type, then all"),
        Binding("s", "sort", "Sort", id="bots.sort", tooltip="Sort by created, name, P&L, win rate…"),
        *LIFECYCLE_BINDINGS,
        Binding("S", "signal_providers", "Providers", id="bots.providers",
                tooltip="Your TradingView and webhook signal providers, their addresses"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, BotSummary] = {}
        self.search = ""
        self.type_filter: str | None = None
        self.sort_by = "created"

    def compose_body(self) -> ComposeResult:
        yield FilterBar("filter by name…", id="filter")
        yield Static(id="summary", classes="summary")
        yield Static(id="next-steps", classes="hint")
        yield KeyedTable(COLUMNS, id="bots")

    def on_mount(self) -> None:
        self.query_one("#bots").focus()

    def load(self) -> None:
        self._load()

    def live(self, events: list[Event]) -> None:
        self._load()

    @work(exclusive=True, group="bots-list")
    async def _load(self) -> None:
        found = await self.service(
            bots.list_bots,
            type=self.type_filter,
            search=self.search or None,
            sort=self.sort_by,
            descending=self.sort_by not in ("name", "type", "status"),
            limit=500,
            write=True,
        )
        if found is None:
            return
        if not found and self.type_filter is None and not self.search:
            self._show_next_steps()  # no bot at all
        else:
            self.query_one("#next-steps", Static).display = False
        self.rows = {b.id: b for b in found}
        app, now = self.app, self.bbx.clock.now()
        self.query_one("#bots", KeyedTable).sync(
            (
                b.id,
                (
                    b.name,
                    b.type,
                    status_text(b.status),
                    b.symbol,
                    "paper" if b.paper_trading else "live",
                    pnl_text(app, b.pnl),
                    pnl_text(app, b.pnl_percent, percent=True),
                    fmt.percent(b.win_rate, sign=False, places=1)
                    if b.win_rate is not None
                    else fmt.DASH,
                    str(b.open_positions),
                    fmt.ago(b.last_execution_at, now) if b.last_execution_at else "never",
                ),
            )
            for b in found
        )
        active = sum(1 for b in found if b.status == "active")
        shown = f"{len(found)} bot{'s' if len(found) != 1 else ''}"
        extra = " · ".join(
            x
            for x in (
                f"type {self.type_filter}" if self.type_filter else "",
                f"name “{self.search}”" if self.search else "",
            )
            if x
        )
        self.query_one("#summary", Static).update(
            f"{shown} · {active} active · sorted by {self.sort_by.replace('_', ' ')}"
            + (f" · {extra}" if extra else "")
        )

    @work(exclusive=True, group="bots-next-steps")
    async def _show_next_steps(self) -> None:
        """A new account (no bot at all) is told how to make its first one."""
        found = await self.call(exchanges.list_connections(self.bbx.db, self.actor))
        hint = self.query_one("#next-steps", Static)
        hint.update(
            next_steps(
                getattr(self.app, "nav_keys", {}),
                bots=False,
                connections=bool(found),
                here="bots",
            )
        )
        hint.display = True

    # -- selection -------------------------------------------------------------------------------

    def target(self) -> Target | None:
        key = self.query_one("#bots", KeyedTable).selected_key
        bot = self.rows.get(key or "")
        if bot is None:
            return None
        return Target(bot.id, bot.name, bot.status, bot.paper_trading, bot.open_positions)

    @on(DataTable.RowSelected, "#bots")
    def _open(self, event: DataTable.RowSelected) -> None:
        from tui.screens.bot_detail import BotDetailScreen

        if event.row_key.value:
            self.app.push_screen(BotDetailScreen(event.row_key.value))

    # -- filters and order -----------------------------------------------------------------------

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    @on(FilterBar.Filter)
    def _filtered(self, event: FilterBar.Filter) -> None:
        self.search = event.text.strip()
        self._load()

    def action_cycle_type(self) -> None:
        self.type_filter = TYPES[(TYPES.index(self.type_filter) + 1) % len(TYPES)]
        self._load()

    def action_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        self._load()

    # -- creating --------------------------------------------------------------------------------

    def action_signal_providers(self) -> None:
        from tui.screens.signal_providers import SignalProvidersScreen

        self.app.push_screen(SignalProvidersScreen())

    @work(exclusive=True, group="bots-new")
    async def action_new_bot(self) -> None:
        from tui.screens.bot_form import BotFormScreen

        created = await self.app.push_screen_wait(BotFormScreen())
        if created:
            self._load()

    @work(exclusive=True, group="bots-new")
    async def action_from_template(self) -> None:
        from tui.screens.bot_form import BotFormScreen, FormSource

        found = await self.service(templates.list_templates, limit=100, write=True)
        if not found:
            if found is not None:
                self.notify("No templates yet.")
            return
        chosen = await self.app.push_screen_wait(
            ChoiceModal(
                "Create a bot from a template",
                [(f"{t.name} · {t.type} · {t.complexity}", t.id) for t in found],
            )
        )
        template = next((t for t in found if t.id == chosen), None)
        if template is None:
            return
        if await self.app.push_screen_wait(BotFormScreen(FormSource(template=template))):
            self._load()
