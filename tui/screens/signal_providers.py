"""Signal providers: your webhook and TradingView providers (and the system ones you may follow),
the address each receives on, and for TradingView the alert message to paste. Reached from the
Bots screen (``S``) and the command palette.

A generated key or alert token is shown once, when the provider is made or its key renewed
(``r``); the table only ever shows the public part of an address.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from core.services import signals
from core.services.signals import ProviderInfo, ProviderWithKey
from core.signals.tradingview import MESSAGE_TEMPLATE
from tui.modals.form import Field, FormModal, Values
from tui.modals.show_once import ShowOnceModal
from tui.screens.base import BaseScreen
from tui.widgets.table import Column, KeyedTable

RECEIVER = "http(s)://<your signals serve address>"
"""Where ``blockbotx signals serve`` is reachable from the internet (the operator's choice)."""
COLUMNS = (
    Column("name", "Name"),
    Column("type", "Type"),
    Column("on", "On"),
    Column("path", "Path"),
)
CREATABLE = (("TradingView alerts", "tradingview"), ("Signed webhook", "webhook"))


def path(info: ProviderInfo) -> str:
    """Where on ``signals serve`` a sender posts, the secret part left as a placeholder."""
    if info.type == "tradingview":
        return f"{info.url}/<token>"
    return info.url or "polled by signals serve"


def address(info: ProviderInfo) -> str:
    return f"{RECEIVER}{path(info)}" if info.type in ("tradingview", "webhook") else path(info)


def detail(info: ProviderInfo) -> str:
    if info.type == "tradingview":
        return (
            f"Webhook URL: {address(info)}\n"
            "The token was shown when the provider was made; r makes a new one (the old URL "
            "stops working).\nAlert message to paste into TradingView:\n"
            f"{MESSAGE_TEMPLATE}"
        )
    if info.type == "webhook":
        return (
            f"POST {address(info)} with the X-Signal-Timestamp and X-Signal-Signature headers "
            "(HMAC-SHA256 with the signing key shown when it was made; r makes a new key)."
        )
    return f"{info.type} provider: {address(info)}"


def once(created: ProviderWithKey) -> tuple[str, str]:
    """The secret to show once, and what to do with it."""
    if created.info.type == "tradingview":
        return (
            f"{RECEIVER}{created.secret_path}",
            "Paste this as the alert's Webhook URL in TradingView, and this as its message:\n"
            f"{MESSAGE_TEMPLATE}\nThe token in the URL is not shown again.",
        )
    return (
        created.key or "",
        f"Sign requests to POST {RECEIVER}{created.info.url} with this key; it is not shown again.",
    )


class SignalProvidersScreen(BaseScreen):
    CSS_PATH = "lists.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("n", "new_provider", "New", id="providers.new",
                tooltip="A TradingView or signed-webhook provider"),
        Binding("r", "renew_key", "New key", id="providers.renew",
                tooltip="A new key / alert token for the selected provider (the old one stops working)"),
        Binding("escape", "back", "Back", id="providers.back", tooltip="Back to the bots"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, ProviderInfo] = {}

    def compose_body(self) -> ComposeResult:
        with Vertical(id="providers-body"):
            yield KeyedTable(COLUMNS, id="providers-table")
            yield Static("", id="provider-detail", markup=False)
        yield Static("", id="status", classes="hint")

    def on_mount(self) -> None:
        self.query_one(KeyedTable).focus()

    @work(exclusive=True, group="providers-load")
    async def load(self) -> None:
        rows = await self.call(signals.list_providers(self.db, self.actor))
        if rows is None:
            return
        self.rows = {r.id: r for r in rows}
        self.query_one(KeyedTable).sync(
            (r.id, (r.name + (" (system)" if r.system else ""), r.type,
                    "yes" if r.is_active else "no", path(r)))
            for r in rows
        )  # fmt: skip
        self.say("" if rows else "No signal providers yet: n makes one.")
        self._show_detail()

    @on(DataTable.RowHighlighted)
    def _show_detail(self) -> None:
        chosen = self.rows.get(self.query_one(KeyedTable).selected_key or "")
        self.query_one("#provider-detail", Static).update(detail(chosen) if chosen else "")

    @work(exclusive=True, group="providers-edit")
    async def action_new_provider(self) -> None:
        async def submit(values: Values) -> ProviderWithKey:
            return await signals.create_provider(
                self.db, self.actor, name=values["name"], type=values["type"], clock=self.clock
            )

        created = await self.app.push_screen_wait(
            FormModal(
                "New signal provider",
                [
                    Field("name", "Name", max_length=64, placeholder="e.g. TradingView BTC"),
                    Field("type", "Type", "select", "tradingview", options=CREATABLE),
                ],
                submit,
                yes="Create",
            )
        )
        if created is not None:
            await self._show_once(created)

    @work(exclusive=True, group="providers-edit")
    async def action_renew_key(self) -> None:
        chosen = self.rows.get(self.query_one(KeyedTable).selected_key or "")
        if chosen is None or chosen.type not in ("tradingview", "webhook"):
            self.say("Select a TradingView or webhook provider of yours to renew its key.")
            return
        if not await self.confirm(
            "New key",
            f"Make a new key for {chosen.name!r}? The old one stops working.",
            yes="Renew",
        ):
            return
        renewed = await self.call(
            signals.rotate_provider_key(self.db, self.actor, chosen.id, clock=self.clock)
        )
        if renewed is not None:
            await self._show_once(renewed)

    async def _show_once(self, created: ProviderWithKey) -> None:
        secret, note = once(created)
        await self.app.push_screen_wait(
            ShowOnceModal(f"Signal provider {created.info.name!r}", secret, note)
        )
        self.load()

    def action_back(self) -> None:
        self.dismiss()
