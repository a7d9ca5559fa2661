"""Support tickets: my tickets (or, for staff, everyone's / assigned to me), open a new one,
Enter opens the thread."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Select, Static

from core.notifications.live import KIND
from core.services import admin, support
from core.services.support import TicketView
from tui.modals.form import Field, FormModal
from tui.screens.base import BaseScreen
from tui.widgets.table import Column, KeyedTable, fill_table

PAGE = 100
SCOPES = (("My tickets", "mine"), ("All tickets", "all"), ("Assigned to me", "assigned"))
STATUS_OPTIONS = [(s.replace("_", " ").capitalize(), s) for s in support.STATUSES]
PRIORITY_COLOUR = {"urgent": "error", "high": "warning"}
STATUS_COLOUR = {"open": "accent", "in_progress": "primary", "closed": None}


def new_ticket_fields() -> list[Field]:
    return [
        Field("subject", "Subject", max_length=support.SUBJECT_MAX,
              help="One line saying what you need."),
        Field("category", "Category", "select", "general",
              [(c.capitalize(), c) for c in support.CATEGORIES],
              help="Technical: bots, exchanges, the app. Billing: plans and payments."),
        Field("priority", "Priority", "select", "normal",
              [(p.capitalize(), p) for p in support.PRIORITIES],
              help="Urgent is for money at risk right now (a bot trading wrongly, a lost key)."),
        Field("message", "Message", "area",
              help="What happened, what you expected, and which bot or exchange it concerns."),
    ]  # fmt: skip


class SupportScreen(BaseScreen):
    CSS_PATH = "support.tcss"
    LIVE_KINDS = frozenset({KIND})
    LOAD_AFTER_FIRST_FRAME = True  # the tickets follow the first frame
    BINDINGS = [  # noqa: RUF012
        Binding("n", "new_ticket", "New ticket", id="support.new", tooltip="Open a support ticket"),
        Binding("enter", "open", "Open", id="support.open", tooltip="Read and reply to the ticket"),
        Binding("s", "scope", "Scope", id="support.scope",
                tooltip="Staff: my tickets, all tickets, or those assigned to me"),
        Binding("slash", "filter", "Filter", id="support.filter", tooltip="Filter by status"),
        Binding("r", "reload", "Refresh", id="support.refresh", show=False),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._scope = "mine"
        self._owners: dict[str, str] = {}
        self._rows: list[TicketView] | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Label("Status", classes="filter-label")
            yield Select(STATUS_OPTIONS, prompt="Any status", id="status-filter", compact=True)
            yield Static("", id="scope")
        yield KeyedTable((), id="tickets")
        yield Static("", id="status", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#tickets", KeyedTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "scope":
            return self.actor.is_admin
        return True

    @property
    def staff_view(self) -> bool:
        return self._scope != "mine"

    @work(exclusive=True, group="support-load")
    async def load(self) -> None:
        status = self.query_one("#status-filter", Select).value
        rows = await self.service(
            support.list_tickets,
            status=status if isinstance(status, str) else None,
            everyone=self._scope == "all",
            assigned_to_me=self._scope == "assigned",
            limit=PAGE,
        )
        if rows is None:
            return
        if self.staff_view:
            await self._learn_owners(rows)
        self._show(rows)

    async def _learn_owners(self, rows: list[TicketView]) -> None:
        """Staff see whose ticket it is: the owners' emails, looked up once each."""
        missing = {r.user_id for r in rows} | {r.assigned_to for r in rows if r.assigned_to}
        missing -= set(self._owners)

        async def lookup(session: Any, actor: Any) -> dict[str, str]:
            return {
                uid: (await admin.get_user(session, actor, uid)).email for uid in sorted(missing)
            }

        if missing:
            self._owners.update(await self.service(lookup) or {})

    def _columns(self) -> list[Column]:
        cols = [
            Column("subject", "Subject", keep=9, width_min=20),
            Column("category", "Category", 9, keep=1),
            Column("priority", "Priority", 8, keep=6),
            Column("status", "Status", 11, keep=7),
            Column("updated", "Updated", 16, keep=5),
        ]
        if self.staff_view:
            cols[1:1] = [
                Column("customer", "Customer", 22, keep=8),
                Column("assignee", "Assignee", 16, keep=2),
            ]
        return cols

    def _show(self, rows: list[TicketView]) -> None:
        self._rows = rows
        cells = []
        for r in rows:
            assignee = (
                "me" if r.assigned_to == self.actor.user_id
                else self._owners.get(r.assigned_to or "", "—")
            )  # fmt: skip
            cells.append((r.id, {
                "subject": self.cell(r.subject),
                "customer": self.cell(self._owners.get(r.user_id, r.user_id)),
                "assignee": self.cell(assignee),
                "category": self.cell(r.category),
                "priority": self.cell(r.priority, PRIORITY_COLOUR.get(r.priority)),
                "status": self.cell(r.status.replace("_", " "), STATUS_COLOUR.get(r.status)),
                "updated": self.cell(self.when(r.updated_at)),
            }))  # fmt: skip
        with self.app.batch_update():
            fill_table(self.query_one("#tickets", KeyedTable), self._columns(), cells)
        label = dict((v, k) for k, v in SCOPES)[self._scope]
        self.query_one("#scope", Static).update(
            f"{label} · {len(rows)} ticket{'s' if len(rows) != 1 else ''}"
        )
        self.say(
            ("No tickets here. Press n to open one." if self._scope == "mine" else "No tickets.")
            if not rows
            else ""
        )

    def on_resize(self) -> None:
        if self._rows is not None:
            self._show(self._rows)

    @on(Select.Changed, "#status-filter")
    def _filter_changed(self) -> None:
        self.load()

    @on(DataTable.RowSelected, "#tickets")
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        key = self.query_one("#tickets", KeyedTable).selected_key
        if key is None:
            return
        from tui.screens.ticket import TicketScreen

        self.app.push_screen(TicketScreen(key), self._reload_after)

    @work(exclusive=True, group="support-write")
    async def action_new_ticket(self) -> None:
        async def submit(values: dict[str, Any]) -> TicketView:
            async with self.db.sessions.begin() as session:
                return await support.open_ticket(session, self.actor, clock=self.clock, **values)

        ticket = await self.app.push_screen_wait(
            FormModal(
                "New support ticket",
                new_ticket_fields(),
                submit,
                intro="Staff answer here; you are notified of every reply.",
                yes="Open ticket",
            )
        )
        if ticket is not None:
            self.notify("Ticket opened.")
            self.load()
            from tui.screens.ticket import TicketScreen

            self.app.push_screen(TicketScreen(ticket.id), self._reload_after)

    def _reload_after(self, _result: object) -> None:
        self.load()

    def action_scope(self) -> None:
        order = [v for _, v in SCOPES]
        self._scope = order[(order.index(self._scope) + 1) % len(order)]
        self.load()

    def action_filter(self) -> None:
        self.query_one("#status-filter", Select).focus()

    def action_reload(self) -> None:
        self.load()
