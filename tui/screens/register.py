"""Create an account (when registration is open), then sign straight in."""

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


class RegisterScreen(AuthFormScreen):
    CSS_PATH = "auth.tcss"
    AUTO_FOCUS = "#email"
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "back", "Back to sign-in", id="register.back", tooltip="Back to sign-in")
    ]

    def __init__(self, *, first_account: bool = False) -> None:
        super().__init__()
        self._first = first_account

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Vertical(id="auth-box"):
            yield Label("Create a BlockbotX account", classes="auth-title")
            if self._first:
                yield Static(
                    "This is the first account on this database: it becomes the [b]superadmin[/].",
                    id="notice",
                )
            yield Label("Email")
            yield Input(placeholder="you@example.com", id="email", max_length=254)
            yield Label("Name (optional)")
            yield Input(placeholder="first and last name", id="name", max_length=201)
            yield Label("Referral code (optional)")
            yield Input(placeholder="from the friend who invited you", id="referral", max_length=64)
            yield Label(f"Password (at least {MIN_LENGTH} characters; a passphrase is best)")
            yield Input(password=True, id="password", max_length=256)
            yield Label("Repeat the password")
            yield Input(password=True, id="repeat", max_length=256)
            yield Static("", id="error", classes="error")
            with Horizontal(classes="auth-buttons"):
                yield Button("Create account", variant="primary", id="create")
                yield Button("Back (esc)", id="back")
        yield KeyFooter()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "repeat":
            self._submit()
        else:
            self.focus_next()

    @on(Button.Pressed, "#create")
    def _submit(self) -> None:
        password, repeat = self.take("#password"), self.take("#repeat")
        if password != repeat:
            self.show_error("The two passwords differ.")
            self.query_one("#password", Input).focus()
            return
        first, _, last = self.query_one("#name", Input).value.strip().partition(" ")
        self.show_error("")
        referral = self.query_one("#referral", Input).value.strip() or None
        self._create(
            self.query_one("#email", Input).value, password, first or None, last or None, referral
        )

    @work(exclusive=True, group="register")
    async def _create(
        self, email: str, password: str, first: str | None, last: str | None, referral: str | None
    ) -> None:
        bbx = self.bbx
        made = await self.call(
            accounts.register(
                bbx.db,
                email=email,
                password=password,
                device=bbx.device,
                first_name=first,
                last_name=last,
                referral_code=referral,
                auth=bbx.auth,
            ),
        )
        if made is None:
            return
        step = await self.call(
            accounts.login(
                bbx.db, email=email, password=password, device=bbx.device, auth=bbx.auth
            ),
        )
        if isinstance(step, accounts.SignedIn):
            bbx.signed_in(step.session, remember=True)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss()
