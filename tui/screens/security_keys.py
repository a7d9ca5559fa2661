"""The API keys tab: create a named, scoped key (shown once), list and revoke keys."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, SelectionList, Static

from core.services import api_keys
from tui.modals.confirm import ConfirmModal
from tui.modals.show_once import ShowOnceModal
from tui.screens.security import Pane, when
from tui.service_call import call_service
from tui.widgets.table import Column, KeyedTable

KEY_COLUMNS = (
    Column("name", "Name"),
    Column("prefix", "Prefix"),
    Column("scopes", "Scopes"),
    Column("created", "Created"),
    Column("last-used", "Last used"),
    Column("expires", "Expires"),
    Column("status", "Status"),
)


class ApiKeysPane(Pane):
    BINDINGS = [  # noqa: RUF012
        Binding(
            "x",
            "revoke",
            "Revoke key",
            id="security.revoke-key",
            tooltip="Revoke the selected API key",
        )
    ]

    def compose(self) -> ComposeResult:
        yield Static(
            "Keys for programs that act as you. The full key is shown once, when created.",
            classes="pane-help",
        )
        yield KeyedTable(KEY_COLUMNS, id="keys-table")
        with Horizontal(id="new-key"):
            with Horizontal(classes="new-key-fields"):
                yield Label("Name")
                yield Input(placeholder="e.g. grafana", id="key-name", max_length=64)
                yield Label("Days (empty: no expiry)")
                yield Input(placeholder="90", id="key-days", max_length=3, type="integer")
            yield SelectionList[str](
                *(
                    (f"{name}: {what}", name, name == "read")
                    for name, what in api_keys.SCOPES.items()
                ),
                id="key-scopes",
            )
        yield Button("Create key", variant="primary", id="create-key")
        yield Static("", classes="pane-status error")

    @work(exclusive=True, group="api-keys")
    async def load(self) -> None:
        bbx = self.bbx
        rows = await call_service(self, api_keys.list_api_keys(bbx.db, self.actor), ".pane-status")
        if rows is None:
            return
        now = bbx.auth.now()
        self.query_one(KeyedTable).sync(
            (
                k.id,
                (
                    k.name,
                    k.prefix,
                    ", ".join(k.scopes),
                    when(k.created_at),
                    when(k.last_used_at),
                    when(k.expires_at),
                    "active" if k.active(now) else "revoked" if k.revoked_at else "expired",
                ),
            )
            for k in rows
        )
        self.loaded()

    @on(Input.Submitted, "#key-name, #key-days")
    @on(Button.Pressed, "#create-key")
    @work(exclusive=True, group="api-keys")
    async def _create(self) -> None:
        name = self.query_one("#key-name", Input).value
        days_text = self.query_one("#key-days", Input).value.strip()
        scopes = list(self.query_one("#key-scopes", SelectionList).selected)
        try:
            days = int(days_text) if days_text else None
        except ValueError:
            self.say("Days must be a whole number.")
            return
        bbx = self.bbx
        created = await call_service(
            self,
            api_keys.create_api_key(bbx.db, self.actor, name, scopes, days, bbx.auth),
            ".pane-status",
        )
        if created is None:
            return
        self.say("")
        self.query_one("#key-name", Input).value = ""
        await self.app.push_screen_wait(
            ShowOnceModal(
                f"API key {created.info.name!r}",
                created.key,
                "Copy it now into the program that will use it: it is not shown again, and only its hash is kept.",
            )
        )
        self.load()

    @work(exclusive=True, group="api-keys")
    async def action_revoke(self) -> None:
        key = self.query_one(KeyedTable).selected_key
        if key is None or not await self.app.push_screen_wait(
            ConfirmModal(
                "Revoke API key",
                "Revoke the selected key? Programs using it stop working at once.",
                yes="Revoke",
            )
        ):
            return
        bbx = self.bbx
        if await call_service(
            self, api_keys.revoke_api_key(bbx.db, self.actor, key, bbx.auth), ".pane-status"
        ):
            self.say("")
            self.notify("API key revoked.")
            self.load()
