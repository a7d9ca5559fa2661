"""The app's header: Textual's, titled as it is composed, with an icon every browser font can
draw when served.

Textual's ``Header`` composes an empty title and, once mounted, sets it four times (a watcher
of the app's and the screen's title and sub-title, each run at once): four updates of the
title, each asking for a layout of the screen, the last after the screen's first frame. Here
the title is there from the start, and a later change of a title redraws the title alone (one
line whatever its text: ``text-wrap: nowrap``).

Textual's default icon (⭘, U+2B58) is in few fonts; in a browser (``blockbotx serve``) the
terminal font is Roboto Mono, which has ◊ but not ⭘, so the served header shows ◊ instead of an
empty box."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.events import Mount
from textual.widgets import Header
from textual.widgets._header import HeaderClockSpace, HeaderIcon, HeaderTitle

WEB_ICON = "◊"


class AppHeader(Header):
    """Textual's ``Header`` without its clock (the app never shows one)."""

    _title: Content | None = None

    def compose(self) -> ComposeResult:
        if self.app.is_web:
            self.set_reactive(Header.icon, WEB_ICON)
        self._title = self.format_title()
        yield HeaderIcon().data_bind(Header.icon)
        yield HeaderTitle(self._title)
        yield HeaderClockSpace()

    def _on_mount(self, event: Mount) -> None:
        event.prevent_default()  # not ``Header``'s: its watchers set the title four times more
        for owner in (self.app, self.screen):
            self.watch(owner, "title", self._retitle, init=False)
            self.watch(owner, "sub_title", self._retitle, init=False)

    def _retitle(self) -> None:
        title = self.format_title()
        if title != self._title:
            self._title = title
            self.query_one(HeaderTitle).update(title, layout=False)
