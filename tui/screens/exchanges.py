"""Exchange connections: list, add (keys typed masked, cleared from the form once sent, never
shown again but as their first four characters), test (sign in and read the balances), enable /
disable, and remove."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from core.services import exchanges
from core.services.exchanges import ConnectionView
from tui import format as fmt
from tui.screens.base import BaseScreen, succeeded
from tui.widgets.table import Column, KeyedTable

COLUMNS = (
    Column("venue", "Exchange"),
    Column("label", "Label"),
    Column("key", "API key"),
    Column("perms", "Permissions"),
    Column("state", "State"),
    Column("used", "Last used", optional=True),
    Column("added", "Added", optional=True),
)
VENUES = (("Binance", "binance"), ("OKX (needs a passphrase)", "okx"))


@dataclass(frozen=True, slots=True)
class NewConnection:
    exchange: str
    api_key: str
    secret: str
    passphrase: str | None
    testnet: bool
    trade: bool
    label: str

    def __repr__(self) -> str:  # the secrets must never reach a log line
        return f"NewConnection({self.exchange}, testnet={self.testnet}, trade={self.trade})"


class AddConnectionModal(ModalScreen[NewConnection | None]):
    CSS_PATH = "../modals/modals.tcss"
    DEFAULT_CSS = """
    #add-exchange { width: 72; }
    #add-grid { grid-size: 2; grid-columns: 12 1fr; grid-rows: 1; grid-gutter: 1 1; height: auto; }
    #add-exchange Checkbox { margin-top: 1; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel", id="exchange-add.cancel", tooltip="Add nothing"),
        Binding("ctrl+s", "add", "Add", id="exchange-add.save", tooltip="Add the connection"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="add-exchange"):
            yield Label("Add an exchange connection", classes="dialog-title")
            yield Static(
                "Create an API key on the exchange with read (and, to trade, trade) rights — "
                "never withdrawal. Keys are encrypted before they are stored.",
                classes="dialog-text",
            )
            with Grid(id="add-grid"):
                yield Label("Exchange")
                yield Select[str](
                    VENUES, value="binance", allow_blank=False, id="exchange", compact=True
                )
                yield Label("API key")
                yield Input(password=True, id="api-key", compact=True, max_length=512)
                yield Label("Secret")
                yield Input(password=True, id="secret", compact=True, max_length=512)
                yield Label("Passphrase")
                yield Input(password=True, id="passphrase", compact=True, max_length=512,
                            placeholder="OKX only")  # fmt: skip
                yield Label("Label")
                yield Input(id="label", compact=True, max_length=64, placeholder="optional")
            yield Checkbox("Testnet (the exchange's sandbox)", id="testnet", compact=True)
            yield Checkbox("Allow trading (else read-only)", value=True, id="trade", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add (ctrl+s)", variant="primary", id="add")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#api-key").focus()

    def _take(self, selector: str) -> str:
        field = self.query_one(selector, Input)
        value, field.value = field.value, ""
        return value

    def action_add(self) -> None:
        self.dismiss(
            NewConnection(
                exchange=str(self.query_one("#exchange", Select).value),
                api_key=self._take("#api-key"),
                secret=self._take("#secret"),
                passphrase=self._take("#passphrase") or None,
                testnet=self.query_one("#testnet", Checkbox).value,
                trade=self.query_one("#trade", Checkbox).value,
                label=self.query_one("#label", Input).value,
            )
        )

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_add() if event.button.id == "add" else self.action_cancel()

    @on(Input.Submitted)
    def _next(self) -> None:
        self.focus_next()


class ExchangesScreen(BaseScreen):
    CSS_PATH = "lists.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("n", "add", "Add", id="exchanges.add", tooltip="Add a connection (keys typed masked)"),
        Binding("t", "test", "Test", id="exchanges.test", tooltip="Sign in with the keys and read the balances"),
        Binding("space", "toggle", "Enable/disable", id="exchanges.toggle", tooltip="Enable or disable the connection"),
        Binding("T", "testnet", "Testnet/real", id="exchanges.testnet", tooltip="Switch between the exchange's sandbox and the real exchange"),
        Binding("d", "remove", "Remove", id="exchanges.remove", tooltip="Remove the connection and its keys"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, ConnectionView] = {}

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Live bots and live manual orders trade through these connections. BlockbotX never "
            "uses withdrawal rights.",
            classes="summary",
        )
        yield KeyedTable(COLUMNS, id="connections")
        yield Static("", id="test-result", classes="summary")

    def on_mount(self) -> None:
        self.query_one("#connections").focus()

    def load(self) -> None:
        self._load()

    @work(exclusive=True, group="exchanges-list")
    async def _load(self) -> None:
        found = await self.call(exchanges.list_connections(self.bbx.db, self.actor))
        if found is None:
            return
        self.rows = {c.id: c for c in found}
        now = self.bbx.clock.now()
        self.query_one("#connections", KeyedTable).sync(
            (
                c.id,
                (
                    c.venue,
                    c.label or fmt.DASH,
                    c.api_key_masked,
                    ", ".join(c.permissions),
                    "enabled" if c.is_active else "disabled",
                    fmt.ago(c.last_used, now) if c.last_used else "never",
                    fmt.when(c.created_at, now),
                ),
            )
            for c in found
        )
        if not found:
            self.query_one("#test-result", Static).update("No connections yet: press n to add one.")

    def _selected(self) -> ConnectionView | None:
        key = self.query_one("#connections", KeyedTable).selected_key
        return self.rows.get(key or "")

    @work(exclusive=True, group="exchanges-add")
    async def action_add(self) -> None:
        new = await self.app.push_screen_wait(AddConnectionModal())
        if new is None:
            return
        added = await self.call(
            exchanges.add_connection(
                self.bbx.db,
                self.actor,
                exchange=new.exchange,
                api_key=new.api_key,
                secret=new.secret,
                passphrase=new.passphrase,
                testnet=new.testnet,
                permissions=("read", "trade") if new.trade else ("read",),
                label=new.label,
            )
        )
        if added is not None:
            self.notify(f"Added {added.venue} ({added.api_key_masked}). Press t to test it.")
            self._load()

    def action_test(self) -> None:
        connection = self._selected()
        if connection is not None:
            self.test(connection.id)

    @work(exclusive=True, group="exchanges-test")
    async def test(self, connection_id: str) -> None:
        """Sign in with the stored keys and show the balances (the key ``t`` and the palette)."""
        if not self.rows:
            await self._load().wait()
        connection = self.rows.get(connection_id)
        if connection is None:
            return
        out = self.query_one("#test-result", Static)
        out.update(f"Testing {connection.venue}…")
        result = await self.call(
            exchanges.test_connection(
                self.bbx.db, self.actor, connection.id,
                factory=self.bbx.markets.exchanges, clock=self.bbx.clock,
            )
        )  # fmt: skip
        if result is None:
            out.update("")
            return
        held = ", ".join(f"{fmt.quantity(amount)} {asset}" for asset, amount in result.balances[:8])
        mark = "[b $success]✔[/]" if result.ok else "[b $error]✖[/]"
        out.update(f"{mark} {result.message}" + (f"\n{held}" if held else ""))
        self._load()

    @work(exclusive=True, group="exchanges-toggle")
    async def action_toggle(self) -> None:  # type: ignore[override]  # our key, not DOMNode's toggle
        connection = self._selected()
        if connection is None:
            return
        changed = await self.call(
            exchanges.set_connection_active(
                self.bbx.db, self.actor, connection.id, not connection.is_active
            )
        )
        if changed is not None:
            self.notify(f"{changed.venue} {'enabled' if changed.is_active else 'disabled'}.")
            self._load()

    @work(exclusive=True, group="exchanges-testnet")
    async def action_testnet(self) -> None:
        connection = self._selected()
        if connection is None:
            return
        to_testnet = not connection.is_testnet
        where = "its testnet (the sandbox, no real funds)" if to_testnet else "the REAL exchange"
        question = (
            f"Point {connection.venue} ({connection.api_key_masked}) at {where}? Sandbox and "
            "real keys are usually different: test the connection after switching."
        )
        if not await self.confirm("Switch venue", question, yes="Switch"):
            return
        changed = await self.call(
            exchanges.set_testnet(self.bbx.db, self.actor, connection.id, to_testnet)
        )
        if changed is not None:
            self.notify(f"Now {changed.venue}. Press t to test it.")
            self._load()

    @work(exclusive=True, group="exchanges-remove")
    async def action_remove(self) -> None:
        connection = self._selected()
        if connection is None:
            return
        question = (
            f"Remove {connection.venue} ({connection.api_key_masked})? Its keys are deleted; its "
            "trades and orders stay in your history. Live bots on it can't trade any more."
        )
        if not await self.confirm("Remove connection", question, yes="Remove"):
            return
        if await self.call(
            succeeded(exchanges.remove_connection(self.bbx.db, self.actor, connection.id))
        ):
            self.notify(f"Removed {connection.venue}.")
            self._load()
