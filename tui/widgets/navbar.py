"""The line of main screens above the footer: each with its global key, the current one lit.

Titles shorten to their short labels as the terminal narrows; when even those don't fit, whole
entries drop from the end (never the current screen's) and a ``…`` says there are more (every
key is in the help screen and the palette). A key is never shown without its name.
"""

from __future__ import annotations

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

from tui import navigation

MORE = " …"


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
            more = len(MORE) if len(parts) < len(items) else 0
            return sum(len(k) + len(n) + 2 for k, n, _ in parts) + more <= width

        keyed = [(keys.get(d.id, d.key), d, d.id == current) for d in items]
        parts = [(k, d.title, on) for k, d, on in keyed]
        if not fits(parts):
            parts = [(k, d.label, on) for k, d, on in keyed]
        while not fits(parts):  # drop whole entries from the end, never the current screen's
            others = [i for i, (_, _, on) in enumerate(parts) if not on]
            if not others:
                break
            del parts[others[-1]]
        content = Content()
        for key, name, is_current in parts:
            markup = (
                "[reverse b] $key$name[/]"
                if is_current
                else "[b $footer-key-foreground] $key[/]$name"
            )
            content += Content.from_markup(markup, key=key, name=f" {name}")
        if len(parts) < len(items):
            content += Content.from_markup("[dim]$more[/]", more=MORE)
        return content
