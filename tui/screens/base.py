"""What every main screen shares: the frame (header, reconnect banner, nav bar, footer), calling
services with their refusals shown as toasts, and live refresh from the event bus.

A screen lists the event kinds it cares about in ``LIVE_KINDS``; events arriving faster than
``LIVE_INTERVAL`` are coalesced into one ``live()`` call, and a screen that isn't showing only
notes that it is stale and reloads when it comes back. Screens never poll the database.

Textual calls ``on_mount`` / ``on_unmount`` of every class in the MRO: subclasses define their
own without calling ``super()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy.exc import DBAPIError
from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from typing_extensions import TypeVar as DefaultingTypeVar

from core.db.engine import DatabaseUnavailable
from core.errors import ServiceError
from core.events import Event, Subscription, bus
from core.security.vault import VaultError
from tui.widgets.banner import ReconnectBanner
from tui.widgets.header import AppHeader
from tui.widgets.navbar import NavBar

if TYPE_CHECKING:
    from textual.worker import Worker

    from core.services.actor import Actor
    from tui.app import BlockbotXApp

T = TypeVar("T")
log = logging.getLogger(__name__)
# What a screen gives back when it is dismissed; most give nothing.
ResultT = DefaultingTypeVar("ResultT", default=None)

UNEXPECTED = "Something went wrong; the details are in the log file."
LIVE_GROUP = "live"
"""Workers that follow events for as long as their screen exists; groups named ``live…`` are
the long-running ones (tests don't wait for them to finish)."""
UNREACHABLE = "Database unavailable: BlockbotX can't reach its database right now."


class BaseScreen(Screen[ResultT]):
    """A screen of the signed-in dashboard."""

    LIVE_KINDS: ClassVar[frozenset[str]] = frozenset()
    LIVE_INTERVAL: ClassVar[float] = 0.5

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

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield ReconnectBanner()
        yield from self.compose_body()
        yield NavBar()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        if self.LIVE_KINDS and self.bbx.actor is not None:
            self._subscription = bus.subscribe(user_id=self.actor.user_id, kinds=self.LIVE_KINDS)
            self._follow(self._subscription)
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

    async def in_tx(self, fn: Callable[..., Awaitable[T]], *args: object, **kwargs: object) -> T:
        """``fn(session, actor, ...)`` in one transaction (committed if it returns)."""
        async with self.bbx.db.sessions.begin() as session:
            return await fn(session, self.actor, *args, **kwargs)

    async def in_session(
        self, fn: Callable[..., Awaitable[T]], *args: object, **kwargs: object
    ) -> T:
        """``fn(session, actor, ...)`` in a session of its own (for reads, and services that
        commit themselves)."""
        async with self.bbx.db.session() as session:
            return await fn(session, self.actor, *args, **kwargs)

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
        """Await a service call; a refusal becomes a toast (or goes to ``refusal``) and None."""
        try:
            return await awaitable
        except ServiceError as exc:
            if refusal is not None:
                refusal(exc)
            else:
                self.notify(str(exc), severity="warning", timeout=6)
        except (DatabaseUnavailable, OSError, DBAPIError):
            log.warning("database unreachable during a service call", exc_info=True)
            self.notify(UNREACHABLE, severity="error")
        except VaultError as exc:
            log.error("vault: %s", exc)
            self.notify("A stored secret could not be decrypted.", severity="error")
        except Exception:
            log.exception("unexpected error in a service call")
            self.notify(UNEXPECTED, severity="error")
        return None


async def succeeded(awaitable: Awaitable[object]) -> bool:
    """For services that return nothing: True once the call has succeeded (``call`` gives None
    when it was refused)."""
    await awaitable
    return True
