"""Ask for a two-factor code (or a backup code); dismissed with the code, or None."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.stylesheet import StyledOnMount
from tui.widgets.footer import KeyFooter


class TwoFactorCodeModal(StyledOnMount, ModalScreen[str | None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel", id="two-factor.cancel", tooltip="Back to sign-in")
    ]

    def __init__(self, error: str = "") -> None:
        super().__init__()
        self._error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="two-factor-dialog"):
            yield Label("Two-factor authentication", classes="dialog-title")
            yield Static(
                "Enter the 6-digit code from your authenticator app, or one of your backup codes.",
                classes="dialog-text",
            )
            yield Input(placeholder="123456 or xxxx-xxxx-…", id="code", max_length=64)
            yield Static(self._error, id="code-error", classes="error")
        yield KeyFooter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        code = event.value.strip()
        event.input.value = ""
        if code:
            self.dismiss(code)

    def action_cancel(self) -> None:
        self.dismiss(None)
