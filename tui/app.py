"""The BlockbotX Textual app: thin — themes, global bindings, start-up, clean exit."""

from __future__ import annotations

import logging
import time

from textual.app import App
from textual.binding import Binding

from core.db.engine import Database
from themes import DEFAULT_THEME, THEMES
from tui.screens.welcome import WelcomeScreen

log = logging.getLogger(__name__)


class BlockbotXApp(App[None]):
    TITLE = "BlockbotX"
    CSS_PATH = "app.tcss"
    BINDINGS = [  # noqa: RUF012 - Textual reads this class attribute
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Leave BlockbotX"),
    ]

    def __init__(self, db: Database, *, started_at: float | None = None) -> None:
        super().__init__()
        self.db = db
        self._started_at = started_at or time.perf_counter()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def on_mount(self) -> None:
        self.push_screen(WelcomeScreen())
        log.info(
            "start-up to first screen: %.0f ms", (time.perf_counter() - self._started_at) * 1000
        )

    async def on_unmount(self) -> None:
        await self.db.dispose()
