"""The BlockbotX Textual app: thin — themes, global bindings, start-up, sign-in, clean exit.

Start-up resumes a remembered session (refresh token from the keyring or a 0600 file) and
otherwise shows the login screen. Once signed in, ``app.actor`` is who every service call acts
as; a timer checks every 30 s that the session wasn't ended elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from core.db.engine import Database
from core.errors import ServiceError
from core.security.device import Device, current_device
from core.services import accounts, sessions
from core.services.actor import Actor
from core.services.authconfig import DEFAULT_AUTH, AuthConfig
from core.services.remembered import RememberedSession
from core.services.sessions import AccountInfo, AuthSession
from themes import DEFAULT_THEME, THEMES
from tui.screens.login import LoginScreen
from tui.screens.welcome import WelcomeScreen

log = logging.getLogger(__name__)
SESSION_CHECK_SECONDS = 30


class BlockbotXApp(App[None]):
    TITLE = "BlockbotX"
    CSS_PATH = "app.tcss"
    BINDINGS = [  # noqa: RUF012 - Textual reads this class attribute
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Leave BlockbotX"),
        Binding(
            "f2",
            "security",
            "Security",
            id="app.security",
            tooltip="Password, 2FA, sessions, API keys",
        ),
        Binding(
            "f3", "logout", "Log out", id="app.logout", tooltip="Sign out and forget this computer"
        ),
    ]

    def __init__(
        self,
        db: Database,
        *,
        started_at: float | None = None,
        auth: AuthConfig = DEFAULT_AUTH,
        device: Device | None = None,
        remembered: RememberedSession | None = None,
    ) -> None:
        super().__init__()
        self.db = db
        self.auth = auth
        self.device = device or current_device()
        self.remembered = remembered or RememberedSession(db.url)
        self.actor: Actor | None = None
        self.account: AccountInfo | None = None
        self._started_at = started_at or time.perf_counter()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def on_mount(self) -> None:
        self.set_interval(SESSION_CHECK_SECONDS, self._check_session)
        self._resume()

    @work(exclusive=True, group="auth")
    async def _resume(self) -> None:
        token = self.remembered.load()
        session = None
        if token:
            try:
                session = await accounts.refresh(self.db, token, device=self.device, auth=self.auth)
            except ServiceError as exc:
                log.info("remembered session not resumed: %s", exc)
                self.remembered.forget()
            except Exception:
                log.exception("could not resume the remembered session")
        if session is not None:
            self.signed_in(session, remember=True)
        else:
            await self.push_screen(LoginScreen())
        log.info(
            "start-up to first screen: %.0f ms", (time.perf_counter() - self._started_at) * 1000
        )

    def signed_in(self, session: AuthSession, *, remember: bool) -> None:
        self.actor, self.account = session.actor, session.account
        if remember:
            self.remembered.save(session.refresh_token)
        else:
            self.remembered.forget()
        self.sub_title = f"{session.account.email} · {session.account.role.value}"
        self._show(WelcomeScreen())
        if session.new_device:
            self.notify("Signed in from a new device; your account has a notification about it.")
        self.refresh_bindings()

    def _show(self, screen: Screen[None]) -> None:
        """Make ``screen`` the only screen above the default one."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def signed_out(self, notice: str = "") -> None:
        self.actor = self.account = None
        self.sub_title = ""
        self.remembered.forget()
        self._show(LoginScreen(notice))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("security", "logout"):
            return self.actor is not None
        return True

    def action_security(self) -> None:
        from tui.screens.security import SecurityScreen

        if self.actor is not None and not isinstance(self.screen, SecurityScreen):
            self.push_screen(SecurityScreen())

    @work(exclusive=True, group="auth")
    async def action_logout(self) -> None:
        actor = self.actor
        if actor is None:
            return
        try:
            await accounts.logout(self.db, actor, self.auth)
        except Exception:
            log.exception("sign-out could not be recorded")
        self.signed_out("You are signed out.")

    @work(exclusive=True, group="session-check")
    async def _check_session(self) -> None:
        actor = self.actor
        if actor is None:
            return
        try:
            active = await sessions.is_active(self.db, actor, self.auth)
        except Exception:  # a database hiccup is not a reason to sign anyone out
            log.warning("session check failed", exc_info=True)
            return
        if not active and self.actor is actor:
            self.signed_out("Your session was ended (signed out elsewhere, expired or revoked).")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.actor is not None:
            yield SystemCommand(
                "Security settings",
                "Password, two-factor, sessions, devices, API keys",
                self.action_security,
            )
            yield SystemCommand("Log out", "Sign out and forget this computer", self.action_logout)

    async def on_unmount(self) -> None:
        await self.db.dispose()
