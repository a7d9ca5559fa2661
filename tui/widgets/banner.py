"""A banner across the top while the database connection is lost; gone once it is back.

It follows the app's ``connection`` reactive, which the app sets from the event listener's
"connection" events (``connected`` / ``reconnecting``).
"""

from __future__ import annotations

from textual.widgets import Static

MESSAGE = "Database connection lost — reconnecting… figures on screen may be out of date."


class ReconnectBanner(Static):
    DEFAULT_CSS = """
    ReconnectBanner {
        display: none;
        height: 1;
        width: 100%;
        background: $error;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    ReconnectBanner.-lost {
        display: block;
    }
    """

    def __init__(self) -> None:
        super().__init__(MESSAGE, markup=False)

    def on_mount(self) -> None:
        if hasattr(self.app, "connection"):
            self.watch(self.app, "connection", self._follow, init=True)

    def _follow(self, state: str) -> None:
        self.set_class(state == "reconnecting", "-lost")
