"""The notification inbox: unread first, filter by type and priority, mark read, Enter opens
one in full (and marks it read); live.

New notifications reach an open inbox through ``core.events`` ("notification" events, published
on commit by ``core.notifications``): the list reloads once per burst. ``start_toasts`` is the
app-wide hook that shows each new notification as a toast wherever the user is.
"""

from __future__ import annotations

import contextlib
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Label, Select, Static
from textual.worker import Worker

from core.db.models.notifications import NOTIFICATION_GROUPS, NotificationPriority
from core.events import Event, bus
from core.notifications.live import KIND
from core.notifications.words import type_choices, type_words
from core.services import notifications as inbox
from core.services.notifications import NotificationView
from tui.modals.notification_detail import NotificationDetailModal
from tui.screens.base import BaseScreen
from tui.widgets.late import LateRow, late_value
from tui.widgets.table import Column, KeyedTable, fill_table

PAGE = 100
GROUP_LABELS = {
    "bot_alerts": "Bot alerts",
    "trades": "Trades",
    "payments": "Payments",
    "support": "Support",
    "marketplace": "Marketplace",
    "referral": "Referrals",
    "security": "Security",
}
TYPE_OPTIONS: list[tuple[str, str]] = [
    *((f"{label} (all)", f"group:{g}") for g, label in GROUP_LABELS.items()),
    *((words, f"type:{value}") for words, value in type_choices()),
]
PRIORITY_OPTIONS = [(p.value.capitalize(), p.value) for p in NotificationPriority]
SEVERITY = {"CRITICAL": "error", "HIGH": "warning"}
PRIORITY_COLOUR = {"CRITICAL": "error", "HIGH": "warning"}
COLUMNS = (
    Column("unread", "", 1, keep=9),
    Column("when", "When", 16, keep=7),
    Column("priority", "Priority", 8, keep=5),
    Column("type", "Type", 21, keep=3),
    Column("title", "Title", keep=8, width_min=24),
)


def humane(type_: str, action: object = None) -> str:
    """A notification type in words (``Bot paused``, ``Two-factor authentication enabled``)."""
    return type_words(type_, action)


def _action(row: NotificationView) -> object:
    return (row.metadata or {}).get("action")


def types_for(choice: object) -> list[str] | None:
    """The notification types a type-filter choice stands for (None: all)."""
    if not isinstance(choice, str):
        return None
    kind, _, name = choice.partition(":")
    if kind == "group":
        return sorted(t.value for t in NOTIFICATION_GROUPS[name])
    return [name]


class NotificationsScreen(BaseScreen):
    CSS_PATH = "notifications.tcss"
    AUTO_FOCUS = "#inbox"  # focused as the screen first shows: not another control first
    LOAD_AFTER_FIRST_FRAME = True
    LIVE_KINDS = frozenset({KIND})
    BINDINGS = [  # noqa: RUF012
        Binding("enter", "open", "Open", id="notifications.open", show=True,
                tooltip="The whole notification (marks it read)"),
        Binding("m", "mark_read", "Mark read", id="notifications.mark-read",
                tooltip="Mark the selected notification read"),
        Binding("A", "mark_all_read", "All read", id="notifications.mark-all-read",
                tooltip="Mark every notification read"),
        Binding("u", "toggle_unread", "Unread only", id="notifications.unread-only",
                tooltip="Show only unread notifications, or everything"),
        Binding("slash", "filter", "Filter", id="notifications.filter",
                tooltip="Filter by type and priority"),
        Binding("right_square_bracket", "page(1)", "Older", id="notifications.next-page",
                tooltip="The next page of older notifications", key_display="]"),
        Binding("left_square_bracket", "page(-1)", "Newer", id="notifications.prev-page",
                tooltip="The previous page", show=False, key_display="["),
        Binding("P", "preferences", "Preferences", id="notifications.preferences",
                tooltip="Channels, quiet hours, digests"),
        Binding("r", "reload", "Refresh", id="notifications.refresh", show=False),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._unread_only = False
        self._offset = 0
        self._rows: dict[str, NotificationView] = {}
        self._unread: int | None = None

    def compose_body(self) -> ComposeResult:
        # The filters are made after the first frame; the counts, filled by the first load,
        # now.
        yield LateRow(self._filter_fields, Static("", id="counts"), id="filters")
        yield KeyedTable((), id="inbox")
        with Vertical(id="detail"):
            yield Static("", id="detail-title")
            yield Static("", id="detail-message")

    @staticmethod
    def _filter_fields() -> ComposeResult:
        yield Label("Type", classes="filter-label")
        yield Select(TYPE_OPTIONS, prompt="All types", id="type-filter", compact=True)
        yield Label("Priority", classes="filter-label")
        yield Select(PRIORITY_OPTIONS, prompt="Any priority", id="priority-filter", compact=True)

    # --- data ------------------------------------------------------------------------------

    def _filters(self) -> dict[str, Any]:
        type_choice = late_value(self, "#type-filter")  # None: not made yet, no filter
        priority = late_value(self, "#priority-filter")
        return {
            "unread_only": self._unread_only,
            "types": types_for(type_choice),
            "priorities": [priority] if isinstance(priority, str) else None,
        }

    @work(exclusive=True, group="notifications-load")
    async def load(self) -> None:
        filters = self._filters()
        rows = await self.service(
            inbox.list_notifications, limit=PAGE, offset=self._offset, **filters
        )
        unread = await self.service(inbox.unread_count)
        if rows is None or unread is None:
            return
        self._show(rows, unread)

    def _show(self, rows: list[NotificationView], unread: int) -> None:
        self._rows = {r.id: r for r in rows}
        self._unread = unread
        cells = []
        for r in rows:
            bold = not r.read
            cells.append((r.id, {
                "unread": self.cell("●" if bold else "", "accent"),
                "when": self.cell(self.when(r.created_at), bold=bold),
                "priority": self.cell(r.priority.value.capitalize(), PRIORITY_COLOUR.get(r.priority.value)),
                "type": self.cell(humane(r.type.value, _action(r)), bold=bold),
                "title": self.cell(r.title, bold=bold),
            }))  # fmt: skip
        table = self.query_one("#inbox", KeyedTable)
        with self.app.batch_update():
            fill_table(table, COLUMNS, cells)
        page = f" · page {self._offset // PAGE + 1}" if self._offset or len(rows) == PAGE else ""
        scope = "unread" if self._unread_only else "shown"
        self.query_one("#counts", Static).update(f"{unread} unread · {len(rows)} {scope}{page}")
        self._detail(table.selected_key)

    def on_resize(self) -> None:
        if self._unread is not None:
            self._show(list(self._rows.values()), self._unread)

    def _detail(self, key: str | None) -> None:
        row = self._rows.get(key or "")
        title = self.query_one("#detail-title", Static)
        message = self.query_one("#detail-message", Static)
        if row is None:
            title.update("No notifications here." if not self._rows else "")
            message.update("")
            return
        state = "unread" if not row.read else "read"
        title.update(
            Content.from_markup(
                "[b]$title[/]  [dim]$kind · $state[/]",
                title=row.title,
                kind=humane(row.type.value, _action(row)),
                state=state,
            )
        )
        message.update(Content(row.message))

    @on(DataTable.RowHighlighted, "#inbox")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.row_key.value)

    @on(DataTable.RowSelected, "#inbox")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.row_key.value)

    def action_open(self) -> None:
        self._open(self.query_one("#inbox", KeyedTable).selected_key)

    def _open(self, key: str | None) -> None:
        """The whole notification in a dialog; reading it marks it read."""
        row = self._rows.get(key or "")
        if row is None:
            return
        self.app.push_screen(
            NotificationDetailModal(
                title=row.title,
                kind=humane(row.type.value, _action(row)),
                priority=row.priority.value.capitalize(),
                when=self.when(row.created_at, seconds=True),
                message=row.message,
            )
        )
        if not row.read:
            self._mark_read(row.id)

    @work(exclusive=True, group="notifications-write")
    async def _mark_read(self, key: str) -> None:
        if await self.service(inbox.mark_read, key, write=True) is not None:
            self.load()

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self._offset = 0
        self.load()

    # --- actions ---------------------------------------------------------------------------

    def action_mark_read(self) -> None:
        key = self.query_one("#inbox", KeyedTable).selected_key
        if key is None or self._rows[key].read:
            return
        self._mark_read(key)

    @work(exclusive=True, group="notifications-write")
    async def action_mark_all_read(self) -> None:
        changed = await self.service(inbox.mark_all_read, write=True)
        if changed is not None:
            self.notify(f"{changed} notification{'s' if changed != 1 else ''} marked read.")
            self.load()

    def action_toggle_unread(self) -> None:
        self._unread_only = not self._unread_only
        self._offset = 0
        self.load()

    async def action_filter(self) -> None:
        await self.query_one(LateRow).build()
        self.query_one("#type-filter", Select).focus()

    def action_page(self, step: int) -> None:
        if step > 0 and len(self._rows) < PAGE:
            return
        self._offset = max(0, self._offset + step * PAGE)
        self.load()

    def action_reload(self) -> None:
        self.load()

    def action_preferences(self) -> None:
        from tui.screens.notification_prefs import NotificationPrefsScreen

        self.app.push_screen(NotificationPrefsScreen())


def toast(app: App[Any], event: Event) -> None:
    """Show one notification event as a toast."""
    data = event.data
    app.notify(
        str(data.get("title", "")),
        title=humane(str(data.get("type", "Notification")), data.get("action")),
        severity=SEVERITY.get(str(data.get("priority")), "information"),  # type: ignore[arg-type]
    )


def start_toasts(app: App[Any], user_id: str) -> Worker[None]:
    """Toast every new notification of ``user_id`` until the returned worker is cancelled
    (the app starts it at sign-in and cancels it at sign-out)."""

    async def run() -> None:
        sub = bus.subscribe(user_id=user_id, kinds={KIND}, size=50)
        try:
            async for event in sub:
                with contextlib.suppress(Exception):  # a bad payload never stops the toasts
                    toast(app, event)
        finally:
            sub.close()

    return app.run_worker(run(), group="notification-toasts", exclusive=True)
