"""The add-exchange dialog: pick any exchange BlockbotX trades on (type to search), then give
exactly the keys that exchange signs in with (key, secret, passphrase where it has one).

The dialog hands the form to ``submit`` and stays open until it succeeds: a refusal is shown
under the form with everything typed kept, so a typo costs one field, not the whole form. The
keys are cleared from the form once they have been stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from core.services.exchanges import ExchangeSpec, available_exchanges
from tui.compact import compact
from tui.stylesheet import StyledOnMount
from tui.widgets.footer import KeyFooter


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


Submit = Callable[[NewConnection], Awaitable[str | None]]
"""Store the connection; the refusal's message, or None once it is stored."""

DEFAULT_EXCHANGE = "binance"


def _option(spec: ExchangeSpec) -> Option:
    """``Binance (binance · testnet)``, the part in brackets dim: built as ``Content``, not
    parsed from markup (the dialog opens with every exchange listed)."""
    testnet = " · testnet" if spec.sandbox else ""
    return Option(Content.assemble(spec.name, " ", (f"({spec.id}{testnet})", "dim")), id=spec.id)


class AddConnectionModal(StyledOnMount, ModalScreen[bool]):
    """Dismissed with True once a connection was added, False when cancelled."""

    CSS_PATH = "modals.tcss"
    DEFAULT_CSS = """
    #add-exchange { width: 76; }
    #exchange-list { height: 6; margin-bottom: 1; }
    #add-grid { grid-size: 2; grid-columns: 12 1fr; grid-rows: 1; grid-gutter: 1 1; height: auto; }
    #add-exchange Checkbox { margin-top: 1; }
    #add-error { margin-top: 1; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel", id="exchange-add.cancel", tooltip="Add nothing"),
        Binding("ctrl+s", "add", "Add", id="exchange-add.save", tooltip="Add the connection"),
    ]

    def __init__(self, submit: Submit) -> None:
        super().__init__()
        self.submit = submit
        self.specs = {s.id: s for s in available_exchanges() if s.connectable}
        self.chosen = self.specs[DEFAULT_EXCHANGE]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="add-exchange"):
            yield Label("Add an exchange connection", classes="dialog-title")
            yield Static(
                "Create an API key on the exchange with read (and, to trade, trade) rights — "
                "never withdrawal. Keys are encrypted before they are stored.",
                classes="dialog-text",
            )
            yield compact(
                Input(
                    placeholder=f"Search {len(self.specs)} exchanges (name or id)",
                    id="exchange-search",
                )
            )
            yield compact(OptionList(*self._options(""), id="exchange-list"))
            with Grid(id="add-grid"):
                yield Label("Exchange")
                yield Static(self.chosen.name, id="exchange-chosen")
                yield Label("API key")
                yield compact(Input(password=True, id="api-key", max_length=512))
                yield Label("Secret", id="api-secret-label")
                yield compact(Input(password=True, id="api-secret", max_length=512))
                yield Label("Passphrase", id="passphrase-label")
                yield compact(Input(password=True, id="passphrase", max_length=512))
                yield Label("Label")
                yield compact(Input(id="label", max_length=64, placeholder="optional"))
            yield compact(Checkbox("Testnet (the exchange's sandbox)", id="testnet"))
            yield compact(Checkbox("Allow trading (else read-only)", value=True, id="trade"))
            yield Static("", id="add-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add (ctrl+s)", variant="primary", id="add")
                yield Button("Cancel (esc)", id="cancel")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._choose(self.chosen.id)
        found = self.query_one("#exchange-list", OptionList)
        found.highlighted = found.get_option_index(self.chosen.id)
        self.query_one("#exchange-search").focus()

    def _options(self, text: str) -> list[Option]:
        return [_option(s) for s in available_exchanges(text) if s.id in self.specs]

    @on(Input.Changed, "#exchange-search")
    def _search(self, event: Input.Changed) -> None:
        """The best match is chosen as the user types (enter or a click picks another)."""
        found = self.query_one("#exchange-list", OptionList)
        found.clear_options()
        found.add_options(self._options(event.value))
        if found.option_count:
            found.highlighted = 0
            top = found.get_option_at_index(0).id
            if top is not None:
                self._choose(top)

    @on(OptionList.OptionSelected, "#exchange-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self._choose(event.option.id)

    def _choose(self, exchange_id: str) -> None:
        """Show the credentials this exchange signs in with, and its testnet if it has one."""
        spec = self.chosen = self.specs[exchange_id]
        labels = [
            label if label == "API key" else label.lower() for label in spec.credential_labels()
        ]
        asks = ", ".join(labels[:-1]) + f" and {labels[-1]}" if len(labels) > 1 else labels[0]
        self.query_one("#exchange-chosen", Static).update(
            Content.from_markup("[b]$name[/b] · signs in with $asks", name=spec.name, asks=asks)
        )
        for field in ("api-secret", "passphrase"):
            needed = spec.needs_secret if field == "api-secret" else spec.needs_passphrase
            self.query_one(f"#{field}", Input).display = needed
            self.query_one(f"#{field}-label", Label).display = needed
        testnet = self.query_one("#testnet", Checkbox)
        testnet.disabled = not spec.sandbox
        if not spec.sandbox:
            testnet.value = False

    def _value(self, selector: str) -> str:
        field = self.query_one(selector, Input)
        return field.value if field.display else ""

    def action_add(self) -> None:
        self._add()

    @work(exclusive=True, group="exchange-add")
    async def _add(self) -> None:
        error = self.query_one("#add-error", Static)
        error.update("")
        refusal = await self.submit(
            NewConnection(
                exchange=self.chosen.id,
                api_key=self._value("#api-key"),
                secret=self._value("#api-secret"),
                passphrase=self._value("#passphrase") or None,
                testnet=self.query_one("#testnet", Checkbox).value,
                trade=self.query_one("#trade", Checkbox).value,
                label=self._value("#label"),
            )
        )
        if refusal is not None:
            error.update(Content(refusal))  # everything typed stays for the correction
            return
        for selector in ("#api-key", "#api-secret", "#passphrase"):
            self.query_one(selector, Input).value = ""
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_add() if event.button.id == "add" else self.action_cancel()

    @on(Input.Submitted)
    def _next(self) -> None:
        self.focus_next()
