"""Sign in: email and password, then a 2FA code or a new password when the account needs one.

The screen is drawn before the services are imported: they bring the whole schema's models,
which take longer to load than the screen takes to appear. The first use loads them in a
thread (``services()``), so the keyboard keeps working meanwhile.
"""

from __future__ import annotations

import asyncio
import importlib
import math
from datetime import datetime
from types import ModuleType

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from core.errors import ServiceError
from tui.modals.two_factor_code import TwoFactorCodeModal
from tui.screens.auth_form import AuthFormScreen
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader

FORGOT = (
    "Forgot your password? Ask an operator to run "
    "[b]blockbotx user reset-password EMAIL[/] and sign in with the token it prints."
)


async def services() -> ModuleType:
    """``core.services.accounts``, imported off the event loop the first time."""
    name = "core.services.accounts"
    try:
        return await asyncio.to_thread(importlib.import_module, name)
    except RuntimeError:  # an import deadlock another thread broke: finish it here
        return importlib.import_module(name)


class LoginScreen(AuthFormScreen):
    CSS_PATH = "auth.tcss"
    AUTO_FOCUS = "#email"
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+r", "register", "Register", id="login.register", tooltip="Create an account"),
    ]

    def __init__(self, notice: str = "") -> None:
        super().__init__()
        self._notice = notice
        self._locked_until: datetime | None = None
        self._retry_code = False
        self._registration_open = self._first_account = False

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Vertical(id="auth-box"):
            yield Label("Sign in to BlockbotX", classes="auth-title")
            yield Static(self._notice, id="notice")
            yield Label("Email")
            yield Input(placeholder="you@example.com", id="email", max_length=254)
            yield Label("Password")
            yield Input(
                placeholder="password or reset token", password=True, id="password", max_length=4096
            )
            if self.bbx.remembers_sign_in:  # never in a browser (serve mode)
                yield Checkbox("Remember me on this computer", value=True, id="remember")
            yield Static("", id="error", classes="error")
            with Horizontal(classes="auth-buttons"):
                yield Button("Sign in", variant="primary", id="sign-in")
                yield Button("Register (ctrl+r)", id="register", disabled=True)
            yield Static(FORGOT, id="hint", classes="hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_interval(1, self._tick_lock)
        self.call_after_refresh(self._load_registration)  # the screen is drawn first

    @work(exclusive=True, group="registration")
    async def _load_registration(self) -> None:
        accounts = await services()
        status = await self.call(accounts.registration_status(await self.bbx.database()))
        if not self.query("#register"):
            return  # a remembered session was resumed meanwhile: the screen is gone
        if status is not None:
            self._registration_open, self._first_account = status.open, status.first_account
            self.query_one("#register", Button).disabled = not status.open
            if status.first_account:
                self.query_one("#notice", Static).update(
                    "No account exists yet: register the first one, which becomes the superadmin."
                )
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "register":
            return self._registration_open
        return True

    def action_register(self) -> None:
        from tui.screens.register import RegisterScreen

        self.app.push_screen(RegisterScreen(first_account=self._first_account))

    @on(Button.Pressed, "#register")
    def _register_pressed(self) -> None:
        self.action_register()

    @on(Input.Submitted, "#email")
    def _email_done(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#sign-in")
    def _submit(self) -> None:
        email = self.query_one("#email", Input).value
        password = self.take("#password")
        boxes = self.query("#remember").results(Checkbox)
        remember = any(box.value for box in boxes)
        self.show_error("")
        self._sign_in(email, password, remember)

    @work(exclusive=True, group="sign-in")
    async def _sign_in(self, email: str, password: str, remember: bool) -> None:
        bbx = self.bbx
        self.query_one("#sign-in", Button).disabled = True
        accounts = await services()
        db = await bbx.database()  # still opening if the user was quick
        try:
            step = await self._attempt(
                accounts.login(db, email=email, password=password, device=bbx.device, auth=bbx.auth)
            )
            prompt = ""
            while isinstance(step, accounts.NeedsTwoFactor):
                code = await self.app.push_screen_wait(TwoFactorCodeModal(prompt))
                if code is None:
                    self.show_error("Sign-in cancelled.")
                    return
                challenge = step.challenge
                step = await self._attempt(
                    accounts.verify_two_factor(
                        db, challenge, code, device=bbx.device, auth=bbx.auth
                    )
                )
                if step is None and self._retry_code:
                    prompt, step = self._error_text(), accounts.NeedsTwoFactor(challenge)
                    self.show_error("")
            if isinstance(step, accounts.NeedsNewPassword):
                from tui.screens.forced_password import ForcedPasswordScreen

                self.app.push_screen(ForcedPasswordScreen(step.challenge, remember=remember))
            elif isinstance(step, accounts.SignedIn):
                bbx.signed_in(step.session, remember=remember)
        finally:
            if self.is_attached:
                self.query_one("#sign-in", Button).disabled = False

    async def _attempt(self, call):
        self._retry_code = False
        return await self.call(call, refusal=self._refused)

    def _refused(self, exc: ServiceError) -> None:
        from core.services.accounts import ChallengeExpired
        from core.services.lockout import AccountLocked, AddressRefused, AuthenticationFailed

        if isinstance(exc, AccountLocked | AddressRefused):
            self._locked_until = exc.until
        # A wrong code may be retried; a lock or an expired sign-in sends the user back here.
        self._retry_code = isinstance(exc, AuthenticationFailed) and not isinstance(
            exc, AccountLocked | AddressRefused | ChallengeExpired
        )

    def _error_text(self) -> str:
        return str(self.query_one("#error", Static).render())

    def _tick_lock(self) -> None:
        if self._locked_until is None:
            return
        left = (self._locked_until - self.bbx.auth.now()).total_seconds()
        if left <= 0:
            self._locked_until = None
            self.show_error("You can try again now.")
            return
        minutes, seconds = divmod(math.ceil(left), 60)
        self.show_error(f"Too many failed attempts: locked — try again in {minutes}:{seconds:02d}.")
