"""The one base of every screen: the frame (header, reconnect banner, nav bar, footer), calling
services (``tui.service_call``: a failure becomes a toast, or the sentence in ``ERROR_TARGET``),
live refresh from the event bus, the clock, times in the user's zone, table cells coloured by
theme variables, ``<``/``>`` between tabs and a ``#status`` line.

A screen lists the event kinds it cares about in ``LIVE_KINDS``; events arriving faster than
``LIVE_INTERVAL`` are coalesced into one ``live()`` call, and a screen that isn't showing only
notes that it is stale and reloads when it comes back. Screens never poll the database.

Its tables are ``tui.widgets.table.KeyedTable`` with ``Column`` specs (``fill_table`` fits them
to the width). A screen reads ``app.db`` and ``app.actor`` (the app's convention).

Textual calls ``on_mount`` / ``on_unmount`` of every class in the MRO: subclasses define their
own without calling ``super()`` (that would load twice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, TabbedContent, TabPane
from typing_extensions import TypeVar as DefaultingTypeVar

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import ServiceError
from tui.service_call import Service, call_service, in_session
from tui.stylesheet import StyledOnMount
from tui.widgets.banner import ReconnectBanner
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.lazy_pane import build_pane
from tui.widgets.navbar import NavBar

if TYPE_CHECKING:
    from textual.worker import Worker

    from core.db.engine import Database
    from core.events import Event, Subscription
    from core.services.actor import Actor
    from tui.app import BlockbotXApp

T = TypeVar("T")
# What a screen gives back when it is dismissed; most give nothing.
ResultT = DefaultingTypeVar("ResultT", default=None)

LIVE_GROUP = "live"
"""Workers that follow events for as long as their screen exists; groups named ``live…`` are
the long-running ones (tests don't wait for them to finish)."""


def app_clock(app: App[Any]) -> Clock:
    """The app's clock: ``app.clock`` if set, else the sign-in config's (tests freeze it)."""
    clock = getattr(app, "clock", None)
    if clock is None:
        clock = getattr(getattr(app, "auth", None), "clock", None)
    return clock or SYSTEM_CLOCK


def display_zone(app: App[Any]) -> tzinfo:
    """The signed-in user's time zone for showing times (``app.user_zone``), else UTC."""
    return getattr(app, "user_zone", None) or UTC


def when(app: App[Any], moment: datetime | None, *, seconds: bool = False) -> str:
    """A time in the user's zone, compact; "—" for none."""
    if moment is None:
        return "—"
    return f"{moment.astimezone(display_zone(app)):%Y-%m-%d %H:%M{':%S' if seconds else ''}}"


def cell(app: App[Any], value: object, variable: str | None = None, *, bold: bool = False) -> Text:
    """A table cell shown as it is (never parsed as markup), coloured by a theme variable."""
    color = app.theme_variables.get(variable) if variable else None
    try:
        style = Style(color=color, bold=bold or None)
    except Exception:  # a variable that isn't a plain colour: show it uncoloured
        style = Style(bold=bold or None)
    return Text(str(value), style=style, end="")


class BaseScreen(StyledOnMount, Screen[ResultT]):
    """A screen of BlockbotX: the signed-in dashboard's main and sub-screens, and (with their
    own ``compose``) the sign-in forms and the security settings."""

    LIVE_KINDS: ClassVar[frozenset[str]] = frozenset()
    LIVE_INTERVAL: ClassVar[float] = 0.5
    STATUS = "#status"
    LOAD_AFTER_FIRST_FRAME: ClassVar[bool] = False
    """Start ``load`` once the screen's first frame is drawn, not as it mounts: an answer
    arriving mid-mount filled, laid out and drew the screen a second time before its first
    frame. The rows follow the frame instead of delaying it."""
    ERROR_TARGET: ClassVar[str | None] = None
    """Where ``call`` shows what went wrong: a toast (None), or the ``Static`` with this
    selector (the sign-in forms say it under the fields)."""
    BINDINGS: ClassVar[list[BindingType]] = [
        # ">"/"<" where nothing is being typed; ctrl+page down/up from inside a form field too.
        Binding("greater_than_sign,ctrl+pagedown", "next_tab(1)", "Next tab", id="screen.next-tab",
                key_display=">", show=False, tooltip="The next tab of this screen"),
        Binding("less_than_sign,ctrl+pageup", "next_tab(-1)", "Previous tab",
                id="screen.previous-tab", key_display="<", show=False,
                tooltip="The previous tab of this screen"),
    ]  # fmt: skip

    _stale = False
    _subscription: Subscription | None = None

    @property
    def bbx(self) -> BlockbotXApp:
        return self.app  # type: ignore[return-value]

    @property
    def actor(self) -> Actor:
        actor = self.bbx.actor
        assert actor is not None, "main screens exist only while signed in"
        return actor

    @property
    def db(self) -> Database:
        return self.bbx.db

    @property
    def clock(self) -> Clock:
        return app_clock(self.app)

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield ReconnectBanner()
        yield from self.compose_body()
        yield NavBar()
        yield KeyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        if self.LIVE_KINDS and self.bbx.actor is not None:
            from core.events import bus  # SQLAlchemy: not before the sign-in screen's first frame

            self._subscription = bus.subscribe(user_id=self.actor.user_id, kinds=self.LIVE_KINDS)
            self._follow(self._subscription)
        if not self.LOAD_AFTER_FIRST_FRAME:
            self.load()

    _drawn = False

    def _compositor_refresh(self) -> None:
        super()._compositor_refresh()
        if not self._drawn and self is self.app.screen:  # Textual's draw of the screen
            self._drawn = True
            if self.LOAD_AFTER_FIRST_FRAME:
                self.load()

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    @work(group=LIVE_GROUP, exclusive=True)
    async def _follow(self, subscription: Subscription) -> None:
        while True:
            events = [await subscription.get()]
            while not subscription.queue.empty():
                events.append(subscription.queue.get_nowait())
            if self.is_current:
                self.live(events)
            else:
                self._stale = True
            await asyncio.sleep(self.LIVE_INTERVAL)

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.load()

    def load(self) -> Worker[Any] | None:
        """Fetch (again) what the screen shows. Screens start a worker here."""
        return None

    def live(self, events: list[Event]) -> None:
        """Events this screen listens to arrived; by default, reload."""
        self.load()

    async def confirm(self, title: str, question: str, *, yes: str = "Yes") -> bool:
        """Ask first (from a worker): True when the user said yes."""
        from tui.modals.confirm import ConfirmModal

        answer: bool | None = await self.app.push_screen_wait(
            ConfirmModal(title, question, yes=yes)
        )
        return bool(answer)

    async def call(
        self,
        awaitable: Awaitable[T],
        *,
        refusal: Callable[[ServiceError], None] | None = None,
    ) -> T | None:
        """Await a service call; what went wrong is shown (``ERROR_TARGET``, else a toast) and
        gives None. ``refusal`` gets a refusal first (and then replaces its toast)."""
        return await call_service(self, awaitable, self.ERROR_TARGET, on_refusal=refusal)

    async def service(
        self, fn: Service[T], *args: Any, write: bool = False, **kwargs: Any
    ) -> T | None:
        """``fn(session, actor, *args, **kwargs)`` in a session of its own (committed when
        ``write``), through ``call``."""
        return await self.call(in_session(self.db, self.actor, fn, *args, write=write, **kwargs))

    def when(self, moment: datetime | None, *, seconds: bool = False) -> str:
        return when(self.app, moment, seconds=seconds)

    def cell(self, value: object, variable: str | None = None, *, bold: bool = False) -> Text:
        return cell(self.app, value, variable, bold=bold)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_tab":  # only where there are tabs (the help lists it there only)
            return self._has_tabs()
        return True

    _tabs: bool | None = None

    def _has_tabs(self) -> bool:
        """Whether the screen has tabs: looked up once it is mounted (a search of the whole
        screen, and Textual checks every binding after each focus change and keystroke)."""
        if self._tabs is not None:
            return self._tabs
        found = bool(self.query(TabbedContent))
        if self.is_mounted:
            self._tabs = found
        return found

    async def action_next_tab(self, step: int) -> None:
        """The previous / next tab of the screen's TabbedContent, its first list or field focused."""
        found = self.query(TabbedContent)
        if not found:
            return
        tabs = found.first()
        panes = [p.id for p in tabs.query(TabPane) if p.id]
        if not panes:
            return
        current = panes.index(tabs.active) if tabs.active in panes else 0
        tabs.active = panes[(current + step) % len(panes)]
        pane = tabs.get_pane(tabs.active)
        await build_pane(pane)
        tables = pane.query(DataTable)
        focusable: list[Widget] = [*tables] or [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()

    def say(self, message: str) -> None:
        """A hint in the screen's ``#status`` line (empty lists, what to press)."""
        found = self.query(self.STATUS)
        if found:
            found.first().update(message)  # type: ignore[attr-defined]
