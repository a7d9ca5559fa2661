"""The BlockbotX Textual app: thin — modes, global bindings, palette, start-up, live data, exit.

Sign-in happens on the default mode's stack (login, 2FA, registration, forced password change).
Once signed in, every main screen of ``tui.navigation`` is a mode of its own, reached by its
global key, so each keeps its place (and its own stack: bot → bot detail) while you look
elsewhere. Signing out drops those modes, so the next user starts from fresh screens.

While signed in the app listens: a ``PgListener`` brings other processes' events into
``core.events.bus``, screens subscribe to what they show, and the listener's "connection"
events drive the reconnecting banner. A timer checks every 30 s that the session wasn't ended
elsewhere. On exit the listener is closed and the database engine disposed.

``blockbotx`` gives the app a way to open its database rather than an open one
(``open_database``): the sign-in screen is drawn first and the database (SQLAlchemy's import,
the embedded server, pending migrations) opens behind it, while the user types; signing in
waits for it (``database()``). Nothing the sign-in screen imports loads SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from core.clock import Clock
from core.errors import ServiceError
from core.paths import config_dir
from core.security.device import Device, current_device
from core.services.authconfig import DEFAULT_AUTH, AuthConfig
from core.services.remembered import RememberedSession, SessionMemory
from themes import DEFAULT_THEME, THEMES
from themes.user import load_user_themes
from tui import keymap, navigation, stylesheet
from tui.idle_gc import IdleCollector
from tui.providers import PROVIDERS
from tui.screens.base import LIVE_GROUP, BaseScreen
from tui.screens.login import LoginScreen, services

if TYPE_CHECKING:
    from core.db.engine import Database
    from core.engine.runner import EngineRunner
    from core.engine.venues import Markets
    from core.events import PgListener, Subscription
    from core.services.actor import Actor
    from core.services.sessions import AccountInfo, AuthSession
    from core.services.trading import TradingContext

log = logging.getLogger(__name__)
SESSION_CHECK_SECONDS = 30
SIGN_IN = "sign-in"


@dataclass(frozen=True)
class Opened:
    """What ``blockbotx`` loads behind the sign-in screen (``DatabaseOpener``)."""

    db: Database
    refresh_reference_data: bool = False
    """The database was just created or migrated: help center, templates… are refreshed."""
    keymap_overrides: dict[str, object] | None = None
    """The configured ``[keymap]``, when the settings were read there too."""


DatabaseOpener = Callable[[Callable[[str], None]], Awaitable[Opened]]
"""Opens the app's database behind the sign-in screen, telling the user what it is doing
(``say``)."""


class DatabaseNotOpen(RuntimeError):
    """``app.db`` before the database opened (``await app.database()`` waits for it)."""


def _nav_bindings() -> list[Binding]:
    return [
        Binding(d.key, f"go('{d.id}')", d.title, id=d.binding_id, tooltip=d.description,
                show=False)
        for d in navigation.SCREENS
    ]  # fmt: skip


SECURITY_PANES = (
    "tui.screens.security_twofactor",
    "tui.screens.security_keys",
    "tui.screens.security_telegram",
)
"""The security screen's (F2) tabs' modules: it imports them as it is built (they import it)."""


class BlockbotXApp(App[None]):
    TITLE = "BlockbotX"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | set(PROVIDERS)
    ALLOW_IN_MAXIMIZED_VIEW = "KeyFooter"  # as Textual keeps its Footer: the keys stay shown
    BINDINGS = [  # noqa: RUF012 - Textual reads this class attribute
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Leave BlockbotX"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key, here and everywhere"),
        Binding("f2", "security", "Security", id="app.security",
                tooltip="Password, 2FA, sessions, API keys", show=False),
        Binding("f3", "logout", "Log out", id="app.logout",
                tooltip="Sign out and forget this computer", show=False),
        Binding("escape", "leave_field", "Leave field", id="app.leave-field",
                tooltip="Out of a text field first, so the screen's keys work again",
                priority=True),
        Binding("escape", "back", "Back", id="app.back", tooltip="Back to the previous screen",
                show=False),
        *_nav_bindings(),
    ]  # fmt: skip

    DEFAULT_MODE = SIGN_IN
    MODES = {SIGN_IN: Screen}  # noqa: RUF012 - a blank base under the sign-in screens

    connection: reactive[str] = reactive("connected")
    """"connected" or "reconnecting", from the event listener; the banner follows it."""

    def __init__(
        self,
        db: Database | None = None,
        *,
        open_database: DatabaseOpener | None = None,
        started_at: float | None = None,
        auth: AuthConfig = DEFAULT_AUTH,
        device: Device | None = None,
        remembered: SessionMemory | None = None,
        clock: Clock | None = None,
        listen: bool = True,
        engine: bool = True,
        markets: Markets | None = None,
        keymap_overrides: dict[str, object] | None = None,
        refresh_reference_data: bool = False,
    ) -> None:
        super().__init__()
        assert (db is None) != (open_database is None), "a database, or a way to open one"
        self._db = db
        self._open_database = open_database
        self._db_open = asyncio.Event()
        if db is not None:
            self._db_open.set()
        self.auth = auth
        self.clock: Clock = clock or auth.clock
        self.device = device or current_device()
        self._remembered = remembered  # None: this database's, made once it is open
        self.actor: Actor | None = None
        self.account: AccountInfo | None = None
        self.user_zone: tzinfo | None = None  # the signed-in user's, for showing times
        self._started_at = started_at or time.perf_counter()
        self._listen = listen
        self._listener: PgListener | None = None
        self._events: Subscription | None = None
        self._trading: TradingContext | None = None
        self._markets: Markets | None = markets
        self._run_engine = engine
        self._engine_starting = False
        self._refresh_reference_data = refresh_reference_data
        self._idle_gc = IdleCollector()
        self.engine: EngineRunner | None = None
        for theme in THEMES:
            self.register_theme(theme)
        own, self._theme_problems = load_user_themes(
            config_dir() / "themes", frozenset(self.available_themes)
        )
        for theme in own:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        stylesheet.install(self)  # every screen's CSS, parsed once (with this theme's colours)
        self._keymap_problems = self._use_keymap(keymap_overrides or {})
        for destination in navigation.SCREENS:
            self.add_mode(destination.id, self._mode_screen(destination))

    def _use_keymap(self, overrides: dict[str, object]) -> list[str]:
        """The user's key overrides; what was wrong with them, for a warning."""
        resolved = keymap.resolve(overrides, keymap.known_ids(self.BINDINGS))
        self.set_keymap(resolved.bindings)
        self.nav_keys = {
            d.id: resolved.bindings.get(d.binding_id, d.key).split(",")[0]
            for d in navigation.SCREENS
        }
        return list(resolved.problems)

    def _warn(self, problems: list[str]) -> None:
        for problem in problems:
            log.warning(problem)
            self.notify(problem, severity="warning", timeout=10)

    @property
    def db(self) -> Database:
        if self._db is None:
            raise DatabaseNotOpen("the database is still opening: await app.database()")
        return self._db

    async def database(self) -> Database:
        """The database, once open (at once, unless it is still opening behind sign-in)."""
        await self._db_open.wait()
        return self.db

    @property
    def remembered(self) -> SessionMemory:
        if self._remembered is None:  # one entry per OS user and database: needs its URL
            self._remembered = RememberedSession(self.db.url)
        return self._remembered

    @property
    def remembers_sign_in(self) -> bool:
        """Whether sign-in offers "Remember me" (never in a browser), known before the
        database is open."""
        return self._remembered is None or self._remembered.enabled

    def _load_screen_css(self, screen: Screen) -> None:
        stylesheet.load_screen_css(self, screen)  # without restyling every screen

    def _screen_changed(self, screen: Screen) -> None:
        stylesheet.restyle_if_stale(self, screen)

    def _mode_screen(self, destination: navigation.Destination) -> Callable[[], Screen]:
        """What builds a main screen on its first visit: a screen styled as it mounts, without
        Textual restyling every screen for it (``tui.stylesheet``)."""
        return lambda: stylesheet.up_to_date(self, destination.build())

    # -- start-up and sign-in ------------------------------------------------------------------

    def on_mount(self) -> None:
        self._idle_gc.start(self)
        self.screen_change_signal.subscribe(self, self._screen_changed, immediate=True)
        self.set_interval(SESSION_CHECK_SECONDS, self._check_session)
        self._warn([*self._theme_problems, *self._keymap_problems])
        self._resume()

    @work(group="database")
    async def _open(self) -> None:
        """The database, behind the sign-in screen's first frame (``open_database``); when it
        can't be opened the app ends with the reason, as ``blockbotx`` did before starting."""
        opener, self._open_database = self._open_database, None
        if opener is not None:
            notice = self.screen.query_one("#notice", Static)
            shown = str(notice.render())

            def say(what: str) -> None:
                notice.update(what or shown)

            try:
                opened = await opener(say)
            except Exception as exc:
                log.warning("the database could not be opened", exc_info=True)
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                self.exit(return_code=1, message=Text.assemble(("error:", "bold red"), " ", reason))
                return
            say("")
            if opened.keymap_overrides is not None:
                self._warn(self._use_keymap(opened.keymap_overrides))
            self._db = opened.db
            self._refresh_reference_data |= opened.refresh_reference_data
            self._db_open.set()
        self._preload_css()
        if self._refresh_reference_data:
            self._reference_data()

    @work(group="reference-data")
    async def _reference_data(self) -> None:
        """The idempotent refresh of help articles, DeFi registry and system templates, after
        the first frame: ``blockbotx`` skips it before the UI when nothing was migrated."""
        try:
            seed = await asyncio.to_thread(importlib.import_module, "core.seed")
            await seed.seed_reference_data(self.db)
        except Exception:
            log.warning("reference data not refreshed", exc_info=True)

    @work(exclusive=True, group="auth")
    async def _resume(self) -> None:
        """The sign-in screen at once; behind it, a remembered session is looked for (the
        system keyring takes a while to find) and, if it is still good, taken up."""
        login = LoginScreen()
        await self.push_screen(login)
        gc.freeze()  # see _preload_screens
        self.call_after_refresh(self._behind_first_frame)
        first_screen = time.perf_counter() - self._started_at
        await self.database()  # ``blockbotx`` sets its logging up while opening it
        log.info("start-up to first screen: %.0f ms", first_screen * 1000)
        token = await asyncio.to_thread(self.remembered.load)
        if not token or self.actor is not None:
            return
        notice = login.query_one("#notice", Static)
        notice.update("Signing you back in…")
        session = None
        accounts = await services()
        try:
            session = await accounts.refresh(self.db, token, device=self.device, auth=self.auth)
        except ServiceError as exc:
            log.info("remembered session not resumed: %s", exc)
            self.remembered.forget()
        except Exception:
            log.exception("could not resume the remembered session")
        if session is not None and self.actor is None:
            self.signed_in(session, remember=True)
        else:
            notice.update("")

    def _behind_first_frame(self) -> None:
        """Once the sign-in screen is drawn: the database opens, then the screens' CSS is
        parsed, then what signing in shows is imported, while the user types. One after the
        other: each competes with the keyboard for the interpreter."""
        self._open()

    @work(group="warm-up-css")
    async def _preload_css(self) -> None:
        """Every screen's CSS, parsed behind the first screen (``tui.stylesheet``)."""
        started = time.perf_counter()
        try:
            if await stylesheet.preload(self):
                log.info(
                    "screens' CSS preloaded in %.0f ms", (time.perf_counter() - started) * 1000
                )
        except Exception:  # only an optimisation: a first visit reads its own
            log.warning("screens' CSS not preloaded", exc_info=True)
        self.run_worker(self._preload_home, thread=True, group="warm-up")

    def signed_in(self, session: AuthSession, *, remember: bool) -> None:
        self.actor, self.account = session.actor, session.account
        if remember:
            self.remembered.save(session.refresh_token)
        else:
            self.remembered.forget()
        self.sub_title = f"{session.account.email} · {session.account.role.value}"
        if session.new_device:
            self.notify("Signed in from a new device; your account has a notification about it.")
        self._enter(session.actor)

    @work(exclusive=True, group="sign-in")
    async def _enter(self, actor: Actor) -> None:
        from tui.screens.settings import load_display

        await load_display(self)  # the user's stored theme and time zone
        while self.current_mode == SIGN_IN and len(self.screen_stack) > 1:
            await self.pop_screen()  # the sign-in screens
        await self.switch_mode(navigation.HOME)
        self.refresh_bindings()
        # Home first, then the in-process engine (seconds with many bots) behind it.
        await self._start_live(actor)
        if self.engine is not None and isinstance(self.screen, BaseScreen):
            self.screen.load()  # it said "starting"
        self.run_worker(self._preload_screens, thread=True, group="warm-up")

    def _preload_home(self) -> None:
        """In a thread, behind the sign-in screen: what signing in shows first (the home
        screen, the user's display settings, the notification toasts) is imported meanwhile."""
        try:
            navigation.by_id(navigation.HOME).preload()
            for module in ("tui.screens.settings", "tui.screens.notifications"):
                importlib.import_module(module)
        except Exception:  # only an optimisation: signing in imports what is missing
            log.warning("home screen not preloaded", exc_info=True)

    def _preload_screens(self) -> None:
        """In a thread, once home is shown: the other screens' modules load (the trade history
        brings ccxt, ~0.7 s), so a first visit shows the screen rather than waits for imports.
        Then everything loaded so far is frozen out of the garbage collector's sight: the
        modules' objects live as long as the app, and a full collection walking them all took
        up to a second in the middle of a first visit."""
        started = time.perf_counter()
        try:
            for destination in navigation.allowed(self.actor):
                destination.preload()
            for module in SECURITY_PANES:
                importlib.import_module(module)
        except Exception:  # only an optimisation: a first visit imports what is missing
            log.warning("screens not preloaded", exc_info=True)
            return
        # Dialogs a key opens from any screen (help) or from one (the new-bot form): their
        # modules too, else the first opening imports (and compiles) them mid-visit.
        for module in ("tui.screens.help", "tui.screens.bot_form"):
            with contextlib.suppress(Exception):
                importlib.import_module(module)
        gc.freeze()
        log.info("screens preloaded in %.0f ms", (time.perf_counter() - started) * 1000)

    def signed_out(self, notice: str = "") -> None:
        self.actor = self.account = None
        self.sub_title = ""
        self.remembered.forget()
        self._leave(notice)

    @work(exclusive=True, group="sign-in")
    async def _leave(self, notice: str) -> None:
        await self._stop_live()
        self.theme, self.user_zone = DEFAULT_THEME, None  # the next user's own choices apply
        if self.current_mode != SIGN_IN:
            await self.switch_mode(SIGN_IN)
        for destination in navigation.SCREENS:  # fresh screens for whoever signs in next
            await self.remove_mode(destination.id)
            self.add_mode(destination.id, self._mode_screen(destination))
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.push_screen(LoginScreen(notice))
        self.refresh_bindings()
        # The old screens, frozen alive by idle collections: collected once the sign-in shows.
        self.call_after_refresh(self._idle_gc.reclaim)

    # -- live data ------------------------------------------------------------------------------

    async def _start_live(self, actor: Actor) -> None:
        from core.events import bus

        await self._start_engine()
        self._events = bus.subscribe(user_id=actor.user_id, kinds={"connection"})
        self._follow_connection(self._events)
        from tui.screens.notifications import start_toasts

        start_toasts(self, actor.user_id)  # new notifications pop up on any screen
        if self._listen and self._listener is None:
            from core.db.engine import connect_raw, listen_url
            from core.events import PgListener

            url = listen_url(self.db.url)
            self._listener = PgListener(lambda: connect_raw(url))
            self._listener.start()

    async def _stop_live(self) -> None:
        self.workers.cancel_group(self, LIVE_GROUP)
        self.workers.cancel_group(self, "notification-toasts")
        if self._events is not None:
            self._events.close()
            self._events = None
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        self.connection = "connected"

    @work(group=LIVE_GROUP, exclusive=True)
    async def _follow_connection(self, events: Subscription) -> None:
        while True:
            event = await events.get()
            self.connection = str(event.data.get("state", "connected"))

    @property
    def markets(self) -> Markets:
        """Price hubs and exchange clients: the in-process engine's, else the app's own (built
        on first use), so a symbol is polled once however many screens show it."""
        if self.engine is not None:
            return self.engine.markets
        if self._markets is None:  # (given ones are shared with the engine, too)
            from core.engine.venues import Markets  # ccxt: loaded after sign-in

            self._markets = Markets.simulated(clock=self.clock)
        return self._markets

    @property
    def trading(self) -> TradingContext:
        """The same markets as the trading service wants them (manual orders, closing)."""
        from core.services.trading import TradingContext

        markets = self.markets
        if self._trading is None or self._trading.hubs is not markets.hubs:
            self._trading = TradingContext(
                hubs=markets.hubs, exchanges=markets.exchanges, clock=self.clock
            )
        return self._trading

    async def _start_engine(self) -> None:
        """Run the bots here when no engine process is alive (``--no-engine``: only watch)."""
        if not self._run_engine or self.engine is not None:
            return
        from core.engine.registry import is_engine_alive
        from core.engine.runner import EngineRunner
        from core.services.periodic import engine_jobs

        self._engine_starting = True
        try:
            if await is_engine_alive(self.db, clock=self.clock):
                return
            self.engine = EngineRunner(
                self.db,
                clock=self.clock,
                embedded=True,
                markets=self._markets,
                jobs=engine_jobs(self.db),
            )
            await self.engine.start()
        except Exception:
            log.exception("the in-process engine could not start")
            self.engine = None
        finally:
            self._engine_starting = False

    async def _stop_engine(self) -> None:
        if self.engine is not None:
            engine, self.engine = self.engine, None
            await engine.stop()

    async def engine_status(self) -> str:
        """What runs the bots, for the overview: this process, other processes, or nothing."""
        if self._engine_starting:
            return "starting in-process"
        if self.engine is not None and self.engine.running:
            return "running in-process"
        from core.engine.registry import is_engine_alive

        try:
            alive = await is_engine_alive(self.db, clock=self.clock)
        except Exception:
            return "unknown (database unreachable)"
        return "external workers" if alive else "stopped"

    # -- navigation -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("security", "logout"):
            return self.actor is not None
        if action == "leave_field":
            return self._in_text_field()
        if action == "go":
            try:
                return navigation.by_id(str(parameters[0])).allowed(self.actor)
            except KeyError:
                return False
        return True

    def action_go(self, screen_id: str) -> None:
        try:
            destination = navigation.by_id(screen_id)
        except KeyError:
            return
        if not destination.allowed(self.actor):
            if self.actor is not None:
                self.notify(f"{destination.title} needs an administrator.", severity="warning")
            return
        self.switch_mode(destination.id)

    def _in_text_field(self) -> bool:
        """A screen's text field has the focus (a dialog's Esc cancels it, the / filter's
        clears it: those keep their own)."""
        from textual.screen import ModalScreen
        from textual.widgets import Input

        from tui.widgets.filter_bar import FilterBar

        fields: tuple[type, ...] = (Input,)
        # A TextArea has the focus only once its module is loaded: importing it here, for the
        # footer's first bindings, cost the sign-in screen's first frame ~50 ms.
        # (``getattr``: another thread may be importing it, the class not defined yet)
        text_area = getattr(sys.modules.get("textual.widgets._text_area"), "TextArea", None)
        if text_area is not None:
            fields += (text_area,)
        focused = self.focused
        return (
            isinstance(focused, fields)
            and not isinstance(focused, FilterBar)
            and not isinstance(self.screen, ModalScreen)
        )

    def action_leave_field(self) -> None:
        """Esc in a text field of a screen leaves the field (to the screen's table, if any) and
        does nothing else; the next Esc, and every screen key, then work as the footer says.
        Out of a text field the binding is off (``check_action``), so Esc goes on to the
        screen's own binding and the footer shows that one."""
        from textual.widgets import DataTable

        tables = self.screen.query(DataTable)
        if tables:
            tables.first().focus()
        else:
            self.screen.set_focus(None)

    async def action_back(self) -> None:
        """Esc: back one screen within the current main screen."""
        if self.current_mode != SIGN_IN and len(self.screen_stack) > 1:
            await self.pop_screen()

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen, collect

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(*collect(self)))

    def action_security(self) -> None:
        from tui.screens.security import SecurityScreen

        if self.actor is not None and not isinstance(self.screen, SecurityScreen):
            self.push_screen(SecurityScreen())

    def open_bot(self, bot_id: str) -> None:
        """The bot's detail page, over the bots screen."""
        from tui.screens.bot_detail import BotDetailScreen

        if self.actor is None:
            return
        self.action_go("bots")
        if self.current_mode == "bots":
            self.push_screen(BotDetailScreen(bot_id))

    @work(exclusive=True, group="auth")
    async def action_logout(self) -> None:
        actor = self.actor
        if actor is None:
            return
        from core.services import accounts

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
        from core.services import sessions

        try:
            now = await sessions.current(self.db, actor, self.auth)
        except Exception:  # a database hiccup is not a reason to sign anyone out
            log.warning("session check failed", exc_info=True)
            return
        if self.actor is not actor:
            return
        if now is None:
            self.signed_out(
                "Your session was ended (signed out elsewhere, expired or revoked, "
                "or the account was banned or suspended)."
            )
        elif now.role is not actor.role:
            # Screens were built for the old role; a fresh sign-in builds them for the new one.
            self.signed_out(f"Your account is now {now.role.value}; sign in again.")

    # -- exit -----------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._idle_gc.touched()  # a full collection waits until the user pauses
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self._idle_gc.stop()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._stop_live()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._stop_engine()  # the cycle in flight finishes; leases are given back
        if self._markets is not None:
            await self._markets.hubs.close()
        if self._db is not None:
            await self._db.dispose()
