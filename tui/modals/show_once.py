"""Show a secret exactly once (backup codes, a new API key) until the user confirms."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.stylesheet import StyledOnMount
from tui.widgets.footer import KeyFooter


class ShowOnceModal(StyledOnMount, ModalScreen[None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding(
            "enter,escape",
            "close",
            "I have saved it",
            id="show-once.close",
            tooltip="Close; it won't be shown again",
        ),
    ]

    def __init__(self, title: str, secret: str, note: str) -> None:
        super().__init__()
        self._title, self._secret, self._note = title, secret, note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="show-once"):
            yield Label(self._title, classes="dialog-title")
            yield Static(self._secret, id="secret", markup=False)
            yield Static(self._note, classes="dialog-text")
        yield KeyFooter()

    def on_unmount(self) -> None:
        self._secret = ""

    def action_close(self) -> None:
        self.dismiss(None)
