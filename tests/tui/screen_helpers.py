"""A tiny app that shows one data screen as a signed-in user, for Pilot and snapshot tests.

The screens read ``app.db`` and ``app.actor`` and take the time from ``app.clock`` (frozen
here), so seeded data and the clock fully decide what a snapshot shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, TextArea

from core.clock import FrozenClock
from core.db.engine import Database
from core.services.actor import Actor
from tests.tui.auth_helpers import make_auth
from themes import DEFAULT_THEME, THEMES
from tui import stylesheet

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WIDE = (120, 40)
SMALL = (80, 24)


class ScreenApp(App[None]):
    """Signed in as ``actor``; shows ``make_screen()`` on top of the default screen."""

    TITLE = "BlockbotX"
    # The nav bar lists every registered screen: hidden here so that a screen's snapshot
    # doesn't change each time another screen is registered (the shell's tests show it).
    CSS = "NavBar { display: none; }"

    def __init__(
        self,
        url: str,
        actor: Actor,
        make_screen: Callable[[], Screen[Any]],
        *,
        clock: FrozenClock | None = None,
    ) -> None:
        super().__init__()
        self.db = Database(url)
        self.actor = actor
        self.clock = clock or FrozenClock(NOW)
        self.auth = make_auth(self.clock)
        self._make_screen = make_screen
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        stylesheet.install(self)  # the app's stylesheet: sources parsed once per process

    def on_mount(self) -> None:
        self.push_screen(self._make_screen())

    async def on_unmount(self) -> None:
        await self.db.dispose()


def seed(url: str, fill: Callable[[Database], Awaitable[Any]]) -> Any:
    """Fill the database before a snapshot app starts (its own event loop, its own engine)."""

    async def go() -> Any:
        database = Database(url)
        try:
            return await fill(database)
        finally:
            await database.dispose()

    return asyncio.run(go())


def no_blink(app: App[Any]) -> None:
    for field in app.screen.query(Input):
        field.cursor_blink = False
    for area in app.screen.query(TextArea):
        area.cursor_blink = False


LIVE_GROUPS = {"live", "live-app", "notification-toasts"}
"""Workers that listen for events for as long as their screen is open."""


async def settle(pilot: Any) -> None:
    """Let every worker finish (but the live listeners), then re-raise any worker's error."""
    from textual.screen import ModalScreen
    from textual.worker import WorkerState

    app = pilot.app
    for _ in range(300):
        await pilot.pause()
        busy = [
            w
            for w in app.workers
            if w.state in (WorkerState.PENDING, WorkerState.RUNNING) and w.group not in LIVE_GROUPS
        ]
        if not busy or (isinstance(app.screen, ModalScreen) and len(busy) <= 1):
            break  # a worker waiting for the open dialog's answer
        await pilot.pause(0.01)
    for worker in app.workers:
        if worker.state is WorkerState.ERROR:
            raise worker.error  # type: ignore[misc]
    await pilot.pause()
