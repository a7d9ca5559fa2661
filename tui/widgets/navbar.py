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
        self.watch(self.app, "current_mode", self._mode_changed)

    def _mode_changed(self, _mode: str) -> None:
        self.refresh()

    def render(self) -> RenderResult:
        app = self.app
        keys: dict[str, str] = getattr(app, "nav_keys", {})
        items = navigation.allowed(getattr(app, "actor", None))
        current = app.current_mode
        width = self.size.width

        def fits(parts: list[tuple[str, str, bool]]) -> bool:
            return sum(len(k) + (len(n) + 1 if n else 0) + 1 for k, n, _ in parts) <= width

        keyed = [(keys.get(d.id, d.key), d, d.id == current) for d in items]
        parts = [(k, d.title, on) for k, d, on in keyed]
        if not fits(parts):
            parts = [(k, d.label, on) for k, d, on in keyed]
        named = len(parts)
        while not fits(parts) and named > 0:  # name the first screens, keys only for the rest
            named -= 1
            parts = [
                (k, d.label if i < named or on else "", on) for i, (k, d, on) in enumerate(keyed)
            ]
        content = Content()
        for key, name, is_current in parts:
            markup = (
                "[reverse b] $key$name[/]"
                if is_current
                else "[b $footer-key-foreground] $key[/]$name"
            )
            content += Content.from_markup(markup, key=key, name=f" {name}" if name else "")
        return content
