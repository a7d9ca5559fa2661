"""Choose a new password before signing in (an administrator asked for it, or a reset token)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from core.security.passwords import MIN_LENGTH
from core.services import accounts
from tui.screens.auth_form import AuthFormScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader

WHY = {
    "forced": "An administrator asked you to choose a new password before you continue.",
    "reset": "You signed in with a reset token: choose a new password to finish.",
}


class ForcedPasswordScreen(AuthFormScreen):
    CSS_PATH = "auth.tcss"
    AUTO_FOCUS = "#new"
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel sign-in", id="forced.cancel", tooltip="Back to sign-in")
    ]

    def __init__(self, challenge: accounts.Challenge, *, remember: bool) -> None:
        super().__init__()
        self._challenge = challenge
        self._remember = remember

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Vertical(id="auth-box"):
            yield Label("Choose a new password", classes="auth-title")
            yield Static(
                f"{WHY.get(self._challenge.reason, WHY['forced'])}\nAccount: {self._challenge.email}",
                id="notice",
                markup=False,
            )
            yield Label(f"New password (at least {MIN_LENGTH} characters)")
            yield Input(password=True, id="new", max_length=256)
            yield Label("Repeat it")
            yield Input(password=True, id="repeat", max_length=256)
            yield Static("", id="error", classes="error")
            with Horizontal(classes="auth-buttons"):
                yield Button("Set password and sign in", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")
        yield KeyFooter()

    @on(Input.Submitted, "#new")
    def _next(self) -> None:
        self.query_one("#repeat", Input).focus()

    @on(Input.Submitted, "#repeat")
    @on(Button.Pressed, "#save")
    def _submit(self) -> None:
        new, repeat = self.take("#new"), self.take("#repeat")
        if new != repeat:
            self.show_error("The two passwords differ.")
            self.query_one("#new", Input).focus()
            return
        self.show_error("")
        self._save(new)

    @work(exclusive=True, group="new-password")
    async def _save(self, new: str) -> None:
        bbx = self.bbx
        step = await self.call(
            accounts.set_new_password(
                bbx.db, self._challenge, new, device=bbx.device, auth=bbx.auth
            ),
        )
        if isinstance(step, accounts.SignedIn):
            bbx.signed_in(step.session, remember=self._remember)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss()
