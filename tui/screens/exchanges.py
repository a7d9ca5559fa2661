"""Exchange connections: list, add (any exchange BlockbotX trades on; keys typed masked, never
shown again but as their first four characters), test (sign in and read the balances, within
10 seconds), enable / disable, testnet / real, and remove. Under them the user's fee tiers: the
taker (and maker) fee their paper fills on an exchange's prices pay instead of its published
ones — set per exchange (f) and cleared (x); the running engine pays a change on its next fill."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from core.services import exchanges, fee_tiers
from core.services.exchanges import TEST_TIMEOUT_SECONDS, ConnectionView
from core.services.fee_tiers import FeeTierView
from tui import format as fmt
from tui.modals.add_connection import AddConnectionModal, NewConnection
from tui.modals.form import Field, FormModal, Values
from tui.screens.base import BaseScreen
from tui.service_call import in_session, succeeded
from tui.widgets.table import Column, KeyedTable

NO_CONNECTIONS = "No connections yet: press n to add one."
COLUMNS = (
    Column("venue", "Exchange"),
    Column("net", "Network"),
    Column("label", "Label"),
    Column("key", "API key"),
    Column("perms", "Permissions"),
    Column("state", "State"),
    Column("used", "Last used", optional=True),
    Column("added", "Added", optional=True),
)
FEE_COLUMNS = (
    Column("exchange", "Exchange"),
    Column("taker", "Taker fee"),
    Column("maker", "Maker fee"),
    Column("set", "Set"),
)
NO_FEE_TIERS = (
    "No fee tiers: paper fills on an exchange's prices pay its published fees. "
    "Press f to set yours."
)
FEE_TIERS_HINT = "Your fees per exchange, paid by paper fills there. f sets one, x clears it."


class ExchangesScreen(BaseScreen):
    CSS_PATH = ["lists.tcss", "exchanges.tcss"]  # noqa: RUF012
    BINDINGS = [  # noqa: RUF012
        Binding("n", "add", "Add", id="exchanges.add", tooltip="Add a connection (keys typed masked)"),
        Binding("t", "test", "Test", id="exchanges.test", tooltip="Sign in with the keys and read the balances"),
        Binding("space", "toggle", "Enable/disable", id="exchanges.toggle", tooltip="Enable or disable the connection"),
        Binding("T", "testnet", "Testnet/real", id="exchanges.testnet", tooltip="Switch between the exchange's sandbox and the real exchange"),
        Binding("d", "remove", "Remove", id="exchanges.remove", tooltip="Remove the connection and its keys"),
        Binding("f", "fee_tier", "Fee tier", id="exchanges.fee-tier", tooltip="Set your taker and maker fees on an exchange (your VIP tier or discount)"),
        Binding("x", "clear_fee_tier", "Clear fee", id="exchanges.clear-fee-tier", tooltip="Back to the exchange's published fees for the selected fee tier"),
    ]  # fmt: skip

    test_timeout: float = TEST_TIMEOUT_SECONDS
    """How long ``t`` waits for the exchange before saying it did not answer."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, ConnectionView] = {}
        self.rows_were_empty = False
        self.tiers: dict[str, FeeTierView] = {}

    def compose_body(self) -> ComposeResult:
        yield Static(
            "Live bots and live manual orders trade through these connections. BlockbotX never "
            "uses withdrawal rights.",
            classes="summary",
        )
        yield KeyedTable(COLUMNS, id="connections")
        yield Static("", id="test-result", classes="summary")
        yield Label("Fee tiers", classes="section")
        yield Static(NO_FEE_TIERS, id="fee-hint", classes="summary")
        yield KeyedTable(FEE_COLUMNS, id="fee-tiers")

    def on_mount(self) -> None:
        self.query_one("#connections").focus()
        # The add dialog lists ccxt's exchanges, read once per process from every exchange
        # class (a second or more on a busy machine): read behind this screen's first frame,
        # so ``n`` finds it ready.
        self.call_after_refresh(
            self.run_worker,
            exchanges.available_exchanges,
            thread=True,
            group="exchanges-warm",
            exit_on_error=False,  # only a head start: ``n`` reads the list itself
        )

    def load(self) -> None:
        self._load()
        self._load_tiers()

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
                    "testnet" if c.is_testnet else "real",
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
        hint = self.query_one("#test-result", Static)
        if not found:
            hint.update(NO_CONNECTIONS)
        elif self.rows_were_empty:
            hint.update("")  # the first connection: the hint to add one is done
        self.rows_were_empty = not found

    def _selected(self) -> ConnectionView | None:
        key = self.query_one("#connections", KeyedTable).selected_key
        return self.rows.get(key or "")

    @work(exclusive=True, group="exchanges-add")
    async def action_add(self) -> None:
        # The first reading of ccxt's exchange list takes a moment: off the event loop.
        await asyncio.to_thread(exchanges.available_exchanges)
        await self.app.push_screen_wait(AddConnectionModal(self._add))

    async def _add(self, new: NewConnection) -> str | None:
        """The dialog's submit: None once stored, else why not (the dialog keeps the form)."""
        refused: list[str] = []
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
            ),
            refusal=lambda exc: refused.append(str(exc)),
        )
        if added is None:
            return refused[0] if refused else "The connection was not added; try again."
        self.notify(f"Added {added.venue} ({added.api_key_masked}). Press t to test it.")
        self._load()
        return None

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
        out.update(
            f"Testing {connection.venue}: signing in and reading the balances "
            f"(at most {self.test_timeout:g} s)…"
        )
        result = await self.call(
            exchanges.test_connection(
                self.bbx.db, self.actor, connection.id,
                factory=self.bbx.markets.exchanges, clock=self.bbx.clock,
                timeout=self.test_timeout,
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

    # -- fee tiers ----------------------------------------------------------------------------

    @work(exclusive=True, group="exchanges-fees")
    async def _load_tiers(self) -> None:
        found = await self.service(fee_tiers.list_fee_tiers)
        if found is None:
            return
        self.tiers = {t.exchange: t for t in found}
        now = self.bbx.clock.now()
        self.query_one("#fee-tiers", KeyedTable).sync(
            (t.exchange, (t.exchange, percent(t.taker_percent), percent(t.maker_percent),
                          fmt.when(t.updated_at, now)))
            for t in found
        )  # fmt: skip
        self.query_one("#fee-hint", Static).update(FEE_TIERS_HINT if found else NO_FEE_TIERS)

    def _fee_exchange(self) -> str:
        """The exchange the form starts on: the highlighted tier's, else the connection's."""
        if self.focused is self.query_one("#fee-tiers"):
            return self.query_one("#fee-tiers", KeyedTable).selected_key or ""
        connection = self._selected()
        return connection.exchange if connection is not None else ""

    @work(exclusive=True, group="exchanges-fee-tier")
    async def action_fee_tier(self) -> None:
        # The first reading of ccxt's exchange list (to check the name) takes a moment.
        await asyncio.to_thread(exchanges.available_exchanges)
        exchange = self._fee_exchange()
        tier = self.tiers.get(exchange)
        fields = [
            Field("exchange", "Exchange", value=exchange, placeholder="binance", max_length=40,
                  help="The exchange's id, as in the add-connection list (binance, okx, kraken…)."),
            Field("taker_fee", "Taker fee %", max_length=12, placeholder="0.075",
                  value="" if tier is None else f"{tier.taker_percent:f}",
                  help="In percent, as the exchange publishes it: 0.075 is 0.075 %. "
                  "Market orders pay it."),
            Field("maker_fee", "Maker fee %", max_length=12, placeholder="the market's",
                  value="" if tier is None or tier.maker_percent is None
                  else f"{tier.maker_percent:f}",
                  help="In percent; leave it empty to keep the exchange's published maker fee."),
        ]  # fmt: skip

        async def submit(values: Values) -> FeeTierView:
            return await in_session(
                self.db, self.actor, fee_tiers.set_fee_tier, values["exchange"],
                taker_percent=values["taker_fee"], maker_percent=values["maker_fee"],
                clock=self.clock, write=True,
            )  # fmt: skip

        view = await self.app.push_screen_wait(
            FormModal(
                "Fee tier", fields, submit,
                intro="Your own fees on an exchange (a VIP tier, a discount): paper fills on its "
                "prices pay them, from the next fill on. Live orders pay what the exchange charges.",
            )
        )  # fmt: skip
        if view is not None:
            self.notify(
                f"Fee tier set: {view.exchange} taker {percent(view.taker_percent)}, "
                f"maker {percent(view.maker_percent)}."
            )
            self._load_tiers()

    @work(exclusive=True, group="exchanges-fee-tier")
    async def action_clear_fee_tier(self) -> None:
        exchange = self.query_one("#fee-tiers", KeyedTable).selected_key
        if exchange is None:
            self.notify("You have no fee tier to clear.")
            return
        question = f"Clear your fee tier on {exchange}? Paper fills there pay its published fees."
        if not await self.confirm("Clear fee tier", question, yes="Clear"):
            return
        cleared = succeeded(
            in_session(self.db, self.actor, fee_tiers.clear_fee_tier, exchange, write=True)
        )
        if await self.call(cleared):
            self.notify(f"Fee tier on {exchange} cleared: its published fees apply.")
        self._load_tiers()


def percent(value: Decimal | None) -> str:
    """A fee as the exchange publishes it (0.075 %); none: the market's own."""
    return "the market's" if value is None else f"{value:f} %"
