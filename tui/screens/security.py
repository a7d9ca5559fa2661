"""Security settings: password, two-factor, sessions, known devices, sign-in history, API keys,
Telegram pairing."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    Input,
    Label,
    Static,
    TabbedContent,
    TabPane,
)

from core.security.passwords import MIN_LENGTH
from core.services import accounts, sessions
from tui.modals.confirm import ConfirmModal
from tui.screens.base import BaseScreen
from tui.service_call import call_service, succeeded
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.late import LateColumn
from tui.widgets.lazy_pane import LazyPane, build_pane
from tui.widgets.table import Column, KeyedTable

if TYPE_CHECKING:
    from textual.worker import Worker

    from core.services.actor import Actor
    from tui.app import BlockbotXApp

TABS = ("password", "two-factor", "sessions", "devices", "history", "api-keys", "telegram")


def when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else "—"


SESSION_COLUMNS = (
    Column("current", ""),
    Column("device", "Device"),
    Column("address", "Address"),
    Column("signed-in", "Signed in"),
    Column("last-used", "Last used"),
    Column("expires", "Expires"),
)
DEVICE_COLUMNS = (
    Column("device", "Device"),
    Column("address", "Address"),
    Column("first-seen", "First seen"),
    Column("last-used", "Last used"),
)
HISTORY_COLUMNS = (
    Column("when", "When (UTC)"),
    Column("result", "Result"),
    Column("address", "Address"),
    Column("device", "Device"),
)


def attempt(success: bool, failure_reason: str | None) -> str:
    return "signed in" if success else f"failed: {(failure_reason or '').replace('_', ' ')}"


def short_device(name: str) -> str:
    """The device without its "(SSH from …)" / "(local)" tail: the address has its own column."""
    head, sep, tail = name.rpartition(" (")
    return head if sep and tail.endswith(")") else name


class Pane(Vertical):
    """A tab's content; ``load`` fetches its data (again) from the services."""

    @property
    def bbx(self) -> BlockbotXApp:
        return self.app  # type: ignore[return-value]

    @property
    def actor(self) -> Actor:
        actor = self.bbx.actor
        assert actor is not None, "the security screen exists only while signed in"
        return actor

    def on_mount(self) -> None:
        self.load()

    want_focus = False

    def load(self) -> Worker[Any] | None:
        """Fetch and show the data; panes with data override this (as a worker)."""
        self.loaded()
        return None

    def loaded(self) -> None:
        """Called when the data is on screen: focus the first control if the tab was chosen."""
        if self.want_focus:
            self.want_focus = False
            controls = self.query("DataTable, Input, Button")
            if controls:
                controls.first().focus()

    def say(self, message: str) -> None:
        self.query_one(".pane-status", Static).update(message)


class PasswordPane(Pane):
    def compose(self) -> ComposeResult:
        yield Static(
            f"Changing your password ends every other session. At least {MIN_LENGTH} characters; "
            "a passphrase of a few random words is best.",
            classes="pane-help",
        )
        # The screen's first frame shows the tabs and this help; the fields follow it.
        yield LateColumn(self._fields, id="password-form")

    @staticmethod
    def _fields() -> ComposeResult:
        yield Label("Current password", id="current-label")
        yield Input(password=True, id="current", max_length=4096)
        yield Label("New password")
        yield Input(password=True, id="new", max_length=256)
        yield Label("Repeat the new password")
        yield Input(password=True, id="repeat", max_length=256)
        yield Static("", id="password-error", classes="error pane-status")
        yield Button("Change password", variant="primary", id="change-password")

    def load(self) -> Worker[Any] | None:
        # Chosen by its tab key: its first field focused, made first if it isn't yet.
        return self._focus_first() if self.want_focus else None

    @work(exclusive=True, group="password-form")
    async def _focus_first(self) -> None:
        await self.query_one(LateColumn).build()
        self.loaded()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "repeat":
            self._submit()
        else:
            self.screen.focus_next()

    @on(Button.Pressed, "#change-password")
    def _submit(self) -> None:
        values = []
        for name in ("current", "new", "repeat"):
            field = self.query_one(f"#{name}", Input)
            values.append(field.value)
            field.value = ""
        current, new, repeat = values
        if new != repeat:
            self.say("The two new passwords differ.")
            return
        self._change(current, new)

    @work(exclusive=True, group="password")
    async def _change(self, current: str, new: str) -> None:
        bbx = self.bbx
        ended = await call_service(
            self,
            accounts.change_password(bbx.db, self.actor, current, new, bbx.auth),
            "#password-error",
        )
        if ended is not None:
            self.say("")
            self.notify(
                f"Password changed; {ended} other session{'s' if ended != 1 else ''} ended."
            )


class SessionsPane(Pane):
    BINDINGS = [  # noqa: RUF012
        Binding(
            "e", "end", "End session", id="security.end-session", tooltip="End the selected session"
        ),
        Binding(
            "o",
            "end_others",
            "End all others",
            id="security.end-others",
            tooltip="End every session but this one",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Static(
            "Where you are signed in (● marks this session). Each session lasts 7 days from sign-in.",
            classes="pane-help",
        )
        yield KeyedTable(SESSION_COLUMNS, id="sessions-table")
        yield Static("", classes="pane-status error")

    @work(exclusive=True, group="sessions")
    async def load(self) -> None:
        bbx = self.bbx
        rows = await call_service(
            self, sessions.list_sessions(bbx.db, self.actor, bbx.auth), ".pane-status"
        )
        if rows is None:
            return
        self.query_one(KeyedTable).sync(
            (
                r.id,
                (
                    "●" if r.current else "",
                    short_device(r.device),
                    r.ip_address,
                    when(r.signed_in_at),
                    when(r.last_used_at),
                    when(r.expires_at),
                ),
            )
            for r in rows
        )
        self.loaded()

    @work(exclusive=True, group="sessions")
    async def action_end(self) -> None:
        table = self.query_one(KeyedTable)
        key = table.selected_key
        if key is None:
            return
        if key == self.actor.session_id:
            self.say("That is this session: use Log out (F3) to end it.")
            return
        if not await self.app.push_screen_wait(
            ConfirmModal(
                "End session", "End the selected session? It will have to sign in again.", yes="End"
            )
        ):
            return
        bbx = self.bbx
        if not await call_service(
            self, succeeded(sessions.end_session(bbx.db, self.actor, key, bbx.auth)), ".pane-status"
        ):
            return
        self.say("")
        self.notify("Session ended.")
        self.load()

    @work(exclusive=True, group="sessions")
    async def action_end_others(self) -> None:
        if not await self.app.push_screen_wait(
            ConfirmModal("End other sessions", "End every session except this one?", yes="End all")
        ):
            return
        bbx = self.bbx
        count = await call_service(
            self, sessions.end_other_sessions(bbx.db, self.actor, bbx.auth), ".pane-status"
        )
        if count is not None:
            self.notify(f"{count} session{'s' if count != 1 else ''} ended.")
            self.load()


class DevicesPane(Pane):
    BINDINGS = [  # noqa: RUF012
        Binding(
            "f",
            "forget",
            "Forget device",
            id="security.forget-device",
            tooltip="A forgotten device notifies again on its next sign-in",
        )
    ]

    def compose(self) -> ComposeResult:
        yield Static(
            "Devices that signed in to your account. A new one triggers a notification.",
            classes="pane-help",
        )
        yield KeyedTable(DEVICE_COLUMNS, id="devices-table")
        yield Static("", classes="pane-status error")

    @work(exclusive=True, group="devices")
    async def load(self) -> None:
        bbx = self.bbx
        rows = await call_service(self, sessions.list_devices(bbx.db, self.actor), ".pane-status")
        if rows is None:
            return
        self.query_one(KeyedTable).sync(
            (d.id, (short_device(d.name), d.ip_address, when(d.first_seen), when(d.last_used_at)))
            for d in rows
        )
        self.loaded()

    @work(exclusive=True, group="devices")
    async def action_forget(self) -> None:
        key = self.query_one(KeyedTable).selected_key
        if key is None or not await self.app.push_screen_wait(
            ConfirmModal("Forget device", "Forget the selected device?", yes="Forget")
        ):
            return
        bbx = self.bbx
        await call_service(
            self, sessions.forget_device(bbx.db, self.actor, key, bbx.auth), ".pane-status"
        )
        self.load()


class HistoryPane(Pane):
    BINDINGS = [  # noqa: RUF012
        Binding(
            "r",
            "reload",
            "Refresh",
            id="security.history-refresh",
            tooltip="Load the history again",
        )
    ]

    def compose(self) -> ComposeResult:
        yield Static("Your 50 most recent sign-in attempts.", classes="pane-help")
        yield KeyedTable(HISTORY_COLUMNS, id="history-table")
        yield Static("", classes="pane-status error")

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="history")
    async def load(self) -> None:
        bbx = self.bbx
        rows = await call_service(
            self, sessions.login_history(bbx.db, self.actor, 50), ".pane-status"
        )
        if rows is None:
            return
        self.query_one(KeyedTable).sync(
            (str(i), (when(r.at), attempt(r.success, r.failure_reason), r.ip_address,
                      short_device(r.device)))
            for i, r in enumerate(rows)
        )  # fmt: skip
        self.loaded()


class SecurityScreen(BaseScreen[None]):
    """Its own frame (tabs, no nav bar): the panes load themselves."""

    CSS_PATH = "security.tcss"
    # The tab strip, not the password field: digits pick a tab, Esc leaves (a focused field
    # would take both).
    AUTO_FOCUS = "#security-tabs Tabs"
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back", id="security.back", tooltip="Back to the dashboard"),
        *(Binding(str(i + 1), f"tab('{tab}')", tab, show=False) for i, tab in enumerate(TABS)),
    ]

    def compose(self) -> ComposeResult:
        from tui.screens.security_keys import ApiKeysPane
        from tui.screens.security_telegram import TelegramPane
        from tui.screens.security_twofactor import TwoFactorPane

        yield AppHeader()
        with TabbedContent(id="security-tabs"):
            with TabPane("1 Password", id="password"):
                yield PasswordPane()
            yield LazyPane("2 Two-factor", TwoFactorPane, id="two-factor")
            yield LazyPane("3 Sessions", SessionsPane, id="sessions")
            yield LazyPane("4 Devices", DevicesPane, id="devices")
            yield LazyPane("5 History", HistoryPane, id="history")
            yield LazyPane("6 API keys", ApiKeysPane, id="api-keys")
            yield LazyPane("7 Telegram", TelegramPane, id="telegram")
        yield KeyFooter()

    async def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        tab_pane = self.query_one(f"#{tab}", TabPane)
        await build_pane(tab_pane)
        pane = tab_pane.query_one(Pane)
        pane.want_focus = True
        pane.load()

    def action_back(self) -> None:
        self.dismiss()


__all__ = ["Horizontal", "Pane", "SecurityScreen", "when"]
