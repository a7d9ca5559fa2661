"""Admin · logs: the audit log (what users and admins did) and the security log (what happened
to the system), filtered and paged from PostgreSQL, newest first; the selected entry's details
are shown in full under the list."""

from __future__ import annotations

import json
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, Input, Static

from core.errors import NotFound
from core.services import admin
from core.services.admin import AuditEntry, SecurityEntry
from tui.screens.base import BaseScreen
from tui.widgets.table import Cell, Column, KeyedTable, fill_table

PAGE = 100
AUDIT_COLUMNS = (
    Column("when", "When", 19, keep=9),
    Column("user", "User", 24, keep=6),
    Column("action", "Action", 28, keep=8),
    Column("ip", "Address", 15, keep=3),
    Column("details", "Details", keep=5, width_min=16),
)
SECURITY_COLUMNS = (
    Column("when", "When", 19, keep=9),
    Column("type", "Type", 20, keep=8),
    Column("ip", "Address", 15, keep=7),
    Column("user", "User", 24, keep=5),
    Column("agent", "Agent", 18, keep=2),
    Column("details", "Details", keep=4, width_min=16),
)


def compact(details: dict[str, Any] | None) -> str:
    if not details:
        return ""
    return json.dumps(details, separators=(", ", ": "), default=str)


class LogPane(Vertical):
    """A filtered, paged log; subclasses say how to fetch and show it."""

    BINDINGS = [  # noqa: RUF012
        Binding("slash", "search", "Filter", id="admin.logs.filter", tooltip="Filter the log"),
        Binding("right_square_bracket", "page(1)", "Older", id="admin.logs.older",
                tooltip="The next page of older entries", key_display="]"),
        Binding("left_square_bracket", "page(-1)", "Newer", id="admin.logs.newer",
                tooltip="The previous page", key_display="["),
    ]  # fmt: skip
    COLUMNS: tuple[Column, ...] = ()
    FILTERS: tuple[tuple[str, str], ...] = ()
    """(input id, placeholder) of the filter inputs, in order."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.page_offset = 0
        self.rows: list[Any] = []
        self.emails: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(classes="filters"):
            for wid, placeholder in self.FILTERS:
                yield Input(placeholder=placeholder, id=wid, compact=True)
            yield Static("", classes="page")
        yield KeyedTable((), id=f"{self.id}-table")
        yield Static("", classes="log-detail")

    @property
    def data(self) -> BaseScreen:
        return self.screen  # type: ignore[return-value]

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def on_mount(self) -> None:
        self.load()

    def filters(self) -> dict[str, str | None]:
        return {
            wid: self.query_one(f"#{wid}", Input).value.strip() or None for wid, _ in self.FILTERS
        }

    async def fetch(self, session: Any, actor: Any, filters: dict[str, str | None]) -> list[Any]:
        raise NotImplementedError

    def cells(self, row: Any) -> dict[str, Cell]:
        raise NotImplementedError

    def detail(self, row: Any) -> str:
        raise NotImplementedError

    @work(exclusive=True, group="admin-log")
    async def load(self) -> None:
        filters = self.filters()

        async def fetch(session: Any, actor: Any) -> tuple[list[Any], dict[str, str]]:
            rows = await self.fetch(session, actor, filters)
            emails: dict[str, str] = {}
            for uid in {r.user_id for r in rows if getattr(r, "user_id", None)} - set(self.emails):
                try:
                    emails[uid] = (await admin.get_user(session, actor, uid)).email
                except NotFound:
                    emails[uid] = uid  # a deleted account's entries stay
            return rows, emails

        found = await self.data.service(fetch)
        if found is None:
            return
        self.rows, emails = found
        self.emails |= emails
        self.show()

    def show(self) -> None:
        fill_table(self.table, self.COLUMNS, [(r.id, self.cells(r)) for r in self.rows])
        first = self.page_offset + 1 if self.rows else 0
        self.query_one(".page", Static).update(
            f"{first}–{self.page_offset + len(self.rows)}" if self.rows else "no entries"
        )
        self._detail(self.table.selected_key)

    def on_resize(self) -> None:
        self.show()

    def _detail(self, key: str | None) -> None:
        row = next((r for r in self.rows if r.id == key), None)
        self.query_one(".log-detail", Static).update(
            Content("" if row is None else self.detail(row))
        )

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.row_key.value)

    @on(Input.Changed)
    def _typed(self) -> None:
        self.page_offset = 0
        self.set_timer(0.3, self.load, name="log-filter")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.table.focus()

    def action_search(self) -> None:
        self.query_one(Input).focus()

    def action_page(self, step: int) -> None:
        if step > 0 and len(self.rows) < PAGE:
            return
        self.page_offset = max(0, self.page_offset + step * PAGE)
        self.load()

    def who(self, user_id: str | None) -> str:
        return "—" if user_id is None else self.emails.get(user_id, user_id)


async def user_id_for(session: Any, actor: Any, text: str | None) -> str | None:
    """A user filter typed as an email (exact) or an id."""
    if not text:
        return None
    if "@" not in text:
        return text
    found = await admin.search_users(session, actor, text, limit=5)
    exact = [u.id for u in found if u.email == text.lower()]
    return exact[0] if exact else "no-such-user"


class AuditPane(LogPane):
    COLUMNS = AUDIT_COLUMNS
    FILTERS = (
        ("audit-action", "action, e.g. admin_user_banned"),
        ("audit-user", "user email or id"),
    )

    async def fetch(
        self, session: Any, actor: Any, filters: dict[str, str | None]
    ) -> list[AuditEntry]:
        return await admin.list_audit_logs(
            session, actor, action=filters["audit-action"],
            user_id=await user_id_for(session, actor, filters["audit-user"]),
            limit=PAGE, offset=self.page_offset,
        )  # fmt: skip

    def cells(self, r: AuditEntry) -> dict[str, Cell]:
        d = self.data
        return {
            "when": d.cell(d.when(r.created_at, seconds=True)),
            "user": d.cell(self.who(r.user_id)),
            "action": d.cell(r.action, "warning" if r.action.startswith("admin_") else None),
            "ip": d.cell(r.ip_address or ""),
            "details": d.cell(compact(r.details)),
        }

    def detail(self, r: AuditEntry) -> str:
        return f"{r.action} by {self.who(r.user_id)} — {compact(r.details) or 'no details'}"


class SecurityPane(LogPane):
    COLUMNS = SECURITY_COLUMNS
    FILTERS = (("security-type", "type, e.g. auth_failure"), ("security-ip", "IP address"))

    async def fetch(
        self, session: Any, actor: Any, filters: dict[str, str | None]
    ) -> list[SecurityEntry]:
        return await admin.list_security_logs(
            session, actor, type=filters["security-type"], ip_address=filters["security-ip"],
            limit=PAGE, offset=self.page_offset,
        )  # fmt: skip

    def cells(self, r: SecurityEntry) -> dict[str, Cell]:
        d = self.data
        return {
            "when": d.cell(d.when(r.created_at, seconds=True)),
            "type": d.cell(
                r.type, "error" if r.type in ("ip_blocked", "suspicious_activity") else None
            ),
            "ip": d.cell(r.ip_address),
            "user": d.cell(self.who(r.user_id)),
            "agent": d.cell(r.user_agent),
            "details": d.cell(compact(r.metadata)),
        }

    def detail(self, r: SecurityEntry) -> str:
        return (
            f"{r.type} from {r.ip_address} ({r.user_agent}) — {compact(r.metadata) or 'no details'}"
        )
