"""The app's header: the icon, the title and the signed-in user, drawn by one widget.

Textual's ``Header`` is four widgets (the header, its icon, its title, the clock's space), each
composed, styled, laid out and drawn on every screen's first visit, and once mounted it sets its
title four times (a watcher of the app's and the screen's title and sub-title, each run at
once), each asking for a layout of the screen, the last after the screen's first frame. Here
one widget draws the same cells (the icon in its 8 columns on the left, the title centred
between it and the clock's 10 columns, cut with an ellipsis), titled from the start; a change
of a title is a repaint of the line. Like Textual's: a click on the icon opens the command
palette (hovering lights it and says so), a click elsewhere makes the header tall or short.

Textual's default icon (⭘, U+2B58) is in few fonts; in a browser (``blockbotx serve``) the
terminal font is Roboto Mono, which has ◊ but not ⭘, so the served header shows ◊ instead of an
empty box."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

ICON = "⭘"
WEB_ICON = "◊"
ICON_WIDTH = 8
"""Textual's ``HeaderIcon``: 8 columns, the icon after one of padding."""
CLOCK_WIDTH = 10
"""Textual's ``HeaderClockSpace``, kept empty on the right (the title stays centred as it was)."""
PALETTE_TOOLTIP = "Open the command palette"
SAME = Style(blink=False)
"""Added to a style, draws the same and compares unequal."""


class AppHeader(Widget):
    """Textual's ``Header`` as the app shows it (no clock)."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"app-header--icon-hover"}
    DEFAULT_CSS = """
    AppHeader {
        dock: top;
        width: 100%;
        background: $panel;
        color: $foreground;
        height: 1;
        content-align: center middle;  /* the title's, as Textual's HeaderTitle */
        text-wrap: nowrap;
        text-overflow: ellipsis;
        &.-tall { height: 3; }
        .app-header--icon-hover { background: $foreground 10%; }
    }
    """

    _icon_lit = False

    def on_mount(self) -> None:
        for owner in (self.app, self.screen):
            self.watch(owner, "title", self._retitle, init=False)
            self.watch(owner, "sub_title", self._retitle, init=False)

    def _retitle(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        base = self.visual_style.rich_style
        if y != height // 2:  # tall: the middle line
            return Strip.blank(width, base)
        app, screen = self.app, self.screen
        title = app.format_title(
            app.title if screen.title is None else screen.title,
            app.sub_title if screen.sub_title is None else screen.sub_title,
        )
        middle = max(0, width - ICON_WIDTH - CLOCK_WIDTH)
        [centred] = Visual.to_strips(self, title, middle, 1, self.visual_style)
        lit = self.get_component_rich_style("app-header--icon-hover") if self._icon_lit else base
        icon = WEB_ICON if app.is_web else ICON
        # The segments of Textual's three widgets, so the cells come out the same: padding is
        # background alone, and neighbours are in styles that draw alike but aren't equal, or
        # the line would join them into one.
        pad, lit_pad = Style(bgcolor=base.bgcolor), Style(bgcolor=lit.bgcolor)
        return Strip.join([
            Strip([Segment(" ", lit_pad), Segment(icon, lit),
                   Segment(" " * (ICON_WIDTH - 3), lit + SAME), Segment(" ", lit_pad)]),
            centred,
            Strip([Segment(" ", pad), Segment("", base), Segment(" " * (CLOCK_WIDTH - 1), pad)]),
        ]).crop(0, width)  # fmt: skip

    def _on_palette_icon(self, x: int) -> bool:
        return x < ICON_WIDTH and self.app.ENABLE_COMMAND_PALETTE

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._light_icon(self._on_palette_icon(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._light_icon(False)

    def _light_icon(self, lit: bool) -> None:
        if lit != self._icon_lit:
            self._icon_lit = lit
            self.tooltip = PALETTE_TOOLTIP if lit else None
            self.refresh()

    async def on_click(self, event: events.Click) -> None:
        event.stop()
        if self._on_palette_icon(event.x):
            await self.run_action("app.command_palette")
        else:
            self.toggle_class("-tall")
