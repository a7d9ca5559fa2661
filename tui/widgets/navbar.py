"""The line of main screens above the footer: each with its global key, the current one lit.

Titles shorten, then drop, as the terminal narrows, so the keys always fit at 80 columns.
"""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

from tui import navigation


class NavBar(Widget):
    DEFAULT_CSS = """
    NavBar {
        dock: bottom;
        margin-bottom: 1;  /* docked edges overlap: sit on top of the footer's line */
        height: 1;
        background: $panel;
        color: $text-muted;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "current_mode", lambda _mode: self.refresh())

    def render(self) -> RenderResult:
        app = self.app
        keys: dict[str, str] = getattr(app, "nav_keys", {})
        items = navigation.allowed(getattr(app, "actor", None))
        current = app.current_mode
        parts: list[tuple[str, str, bool]] = []
        for style in ("title", "label", "none"):
            parts = [
                (
                    keys.get(d.id, d.key),
                    d.title if style == "title" else d.label if style == "label" else "",
                    d.id == current,
                )
                for d in items
            ]
            length = sum(len(k) + len(n) + 2 for k, n, _ in parts)
            if length <= self.size.width:
                break
        content = Content()
        for key, name, is_current in parts:
            markup = (
                "[reverse b] $key$name[/]"
                if is_current
                else "[b $footer-key-foreground] $key[/]$name"
            )
            content += Content.from_markup(markup, key=key, name=f" {name}" if name else "")
        return content
