"""Administration (admins and superadmins only): users, the audit and security logs, blocked IP
addresses and the system settings (maintenance mode and message, registrations open).

The navigation refuses the screen to anyone else; the screen itself shows nothing but a refusal
to a non-admin, and every service call checks the role in the database again.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static, TabbedContent, TabPane

from core.services import admin
from core.services.admin import BlockedAddress, SystemSettingsView
from tui.modals.confirm import ConfirmModal
from tui.modals.form import Field, FormModal
from tui.screens.admin_logs import AuditPane, SecurityPane
from tui.screens.admin_users import UsersPane
from tui.screens.base import BaseScreen
from tui.service_call import in_session, succeeded
from tui.widgets.lazy_pane import LazyPane
from tui.widgets.table import Column, KeyedTable, fill_table

BLOCK_FOR = [("1 hour", "1"), ("24 hours", "24"), ("7 days", "168"), ("30 days", "720"),
             ("Until lifted", "")]  # fmt: skip
BLOCKED_COLUMNS = (
    Column("ip", "Address", 40, keep=9, width_min=15),
    Column("reason", "Reason", keep=8, width_min=16),
    Column("since", "Blocked", 16, keep=5),
    Column("until", "Until", 16, keep=7),
    Column("by", "By", 22, keep=3),
)


class BlockedPane(Vertical):
    BINDINGS = [  # noqa: RUF012
        Binding("b", "block", "Block", id="admin.blocked.block", tooltip="Block an IP address"),
        Binding("u", "unblock", "Unblock", id="admin.blocked.unblock",
                tooltip="Lift the selected block"),
        Binding("x", "expired", "Expired", id="admin.blocked.expired",
                tooltip="Show or hide expired blocks"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__(id="blocked-pane")
        self.include_expired = False
        self.rows: list[BlockedAddress] = []

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-help")
        yield KeyedTable((), id="blocked-table")

    @property
    def data(self) -> BaseScreen:
        return self.screen  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="admin-blocked")
    async def load(self) -> None:
        rows = await self.data.service(
            admin.list_blocked_ips, include_expired=self.include_expired, clock=self.data.clock
        )
        if rows is not None:
            self.rows = rows
            self.show()

    def show(self) -> None:
        d = self.data
        now = d.clock.now()
        cells = [
            (
                b.ip_address,
                {
                    "ip": d.cell(b.ip_address),
                    "reason": d.cell(b.reason),
                    "since": d.cell(d.when(b.blocked_at)),
                    "until": d.cell(
                        "until lifted" if b.expires_at is None else d.when(b.expires_at),
                        "text-muted" if b.expires_at and b.expires_at <= now else None,
                    ),
                    "by": d.cell(
                        "automatic"
                        if b.created_by is None
                        else "you"
                        if b.created_by == d.actor.user_id
                        else b.created_by
                    ),
                },
            )
            for b in self.rows
        ]
        fill_table(self.query_one("#blocked-table", KeyedTable), BLOCKED_COLUMNS, cells)
        scope = "including expired ones" if self.include_expired else "in force"
        self.query_one(".pane-help", Static).update(
            f"{len(self.rows)} blocked address{'es' if len(self.rows) != 1 else ''} {scope}. "
            "Sign-ins from a blocked address are refused."
        )

    def on_resize(self) -> None:
        self.show()

    @work(exclusive=True, group="admin-blocked-write")
    async def action_block(self) -> None:
        d = self.data

        async def submit(v: dict[str, Any]) -> BlockedAddress:
            hours = v["hours"]
            until = d.clock.now() + timedelta(hours=int(hours)) if hours else None
            async with d.db.sessions.begin() as session:
                return await admin.block_ip(session, d.actor, v["ip_address"], reason=v["reason"],
                                            expires_at=until, clock=d.clock)  # fmt: skip

        fields = [
            Field("ip_address", "Address", placeholder="IPv4 or IPv6", max_length=45),
            Field("hours", "For", "select", "24", BLOCK_FOR),
            Field("reason", "Reason", max_length=admin.REASON_MAX,
                  help="Kept with the block and in the audit log."),
        ]  # fmt: skip
        if await self.app.push_screen_wait(
            FormModal("Block an address", fields, submit, yes="Block")
        ):
            self.notify("Address blocked.")
            self.load()

    @work(exclusive=True, group="admin-blocked-write")
    async def action_unblock(self) -> None:
        ip = self.query_one("#blocked-table", KeyedTable).selected_key
        if ip is None:
            return
        if not await self.app.push_screen_wait(
            ConfirmModal("Unblock", f"Let {ip} sign in again?", yes="Unblock")
        ):
            return
        d = self.data
        if await d.call(succeeded(in_session(d.db, d.actor, admin.unblock_ip, ip, write=True,
                                        clock=d.clock))):  # fmt: skip
            self.notify(f"{ip} unblocked.")
            self.load()

    def action_expired(self) -> None:
        self.include_expired = not self.include_expired
        self.load()


class SystemPane(Vertical):
    def __init__(self) -> None:
        super().__init__(id="system-pane")

    def compose(self) -> ComposeResult:
        yield Static(
            "In maintenance mode only administrators can sign in; everyone else sees the "
            "message. With registrations closed, only administrators create accounts.",
            classes="pane-help",
        )
        yield Checkbox("Maintenance mode", id="maintenance", compact=True)
        yield Label("Maintenance message", classes="section")
        yield Input(id="maintenance-message", max_length=admin.REASON_MAX, compact=True,
                    placeholder="e.g. Upgrading the database, back at 14:00 UTC")  # fmt: skip
        yield Checkbox("Registrations open", id="registrations", compact=True)
        yield Button("Save (ctrl+s)", id="save-system", variant="primary")
        yield Static("", id="system-changed", classes="pane-help")

    @property
    def data(self) -> BaseScreen:
        return self.screen  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="admin-system")
    async def load(self) -> None:
        async def read(session: Any, actor: Any) -> SystemSettingsView:
            return await admin.read_system_settings(session)

        view = await self.data.service(read)
        if view is not None:
            self.show(view)

    def show(self, v: SystemSettingsView) -> None:
        self.query_one("#maintenance", Checkbox).value = v.maintenance_mode
        self.query_one("#maintenance-message", Input).value = v.maintenance_message or ""
        self.query_one("#registrations", Checkbox).value = v.registrations_open
        by = "you" if v.updated_by == self.data.actor.user_id else v.updated_by
        self.query_one("#system-changed", Static).update(
            f"Last changed {self.data.when(v.updated_at)}" + (f" by {by}." if by else ".")
        )

    @on(Button.Pressed, "#save-system")
    def _pressed(self) -> None:
        self.save()

    @work(exclusive=True, group="admin-system")
    async def save(self) -> None:
        d = self.data
        view = await d.service(
            admin.update_system_settings,
            write=True,
            maintenance_mode=self.query_one("#maintenance", Checkbox).value,
            maintenance_message=self.query_one("#maintenance-message", Input).value,
            registrations_open=self.query_one("#registrations", Checkbox).value,
            clock=d.clock,
        )
        if view is not None:
            self.show(view)
            self.notify("System settings saved.")


class AdminScreen(BaseScreen):
    CSS_PATH = "admin.tcss"
    AUTO_FOCUS = "#users-table"  # focused as the screen first shows: not another control first
    LOAD_AFTER_FIRST_FRAME = True  # the users list; the other tabs load when first shown
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Save", id="admin.save", tooltip="Save the system settings",
                show=False),
    ]  # fmt: skip

    def compose_body(self) -> ComposeResult:
        if not self.actor.is_admin:
            yield Static("This needs an administrator.", id="refused")
            return
        with TabbedContent(id="tabs"):
            with TabPane("Users", id="users"):
                yield UsersPane()
            yield LazyPane("Audit log", partial(AuditPane, id="audit-pane"), id="audit")
            yield LazyPane(
                "Security log", partial(SecurityPane, id="security-pane"), id="security-log"
            )
            yield LazyPane("Blocked IPs", BlockedPane, id="blocked")
            yield LazyPane("System", SystemPane, id="system")

    def load(self) -> None:
        if self.actor.is_admin:
            self.query_one(UsersPane).load()

    def action_save(self) -> None:
        if self.actor.is_admin and self.query_one("#tabs", TabbedContent).active == "system":
            self.query_one(SystemPane).save()
