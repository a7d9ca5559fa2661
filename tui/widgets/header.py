"""The app's header: Textual's, with an icon every browser font can draw when served.

Textual's default icon (⭘, U+2B58) is in few fonts; in a browser (``blockbotx serve``) the
terminal font is Roboto Mono, which has ◊ but not ⭘, so the served header shows ◊ instead of an
empty box."""

from __future__ import annotations

from textual.widgets import Header

WEB_ICON = "◊"


class AppHeader(Header):
    def on_mount(self) -> None:
        if self.app.is_web:
            self.icon = WEB_ICON
