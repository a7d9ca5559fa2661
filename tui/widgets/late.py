"""Controls made once the screen's first frame is drawn: a filter row, a form.

A filter row's controls are a good share of a first visit though nobody can use them before
the screen shows: a compact ``Select`` is a current-value row of three statics and a hidden
option list to compose, style and lay out (~8 ms of CPU each: Admin's users filters, an input
and two Selects, were ~20 of its ~65 ms; Security's password form ~15 of ~70). The container
is composed with the screen and keeps its place (a filter row's height is fixed in CSS), so
the controls appear a moment later without moving anything. Code that reads or focuses a
control awaits ``build`` first, or treats a missing control as "no filter" (the screen's first
load may start before they are made).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.containers import Horizontal, Vertical
from textual.widget import AwaitMount, Widget


class LateChildren(Widget):
    """A container whose leading children ``make()`` yields are mounted after the screen's
    first frame, before the ``children`` given now (a summary the first load fills)."""

    def __init__(
        self, make: Callable[[], Iterable[Widget]], *children: Widget, id: str | None = None,
        classes: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(*children, id=id, classes=classes)
        self._make: Callable[[], Iterable[Widget]] | None = make
        self._mounting: AwaitMount | None = None

    def on_mount(self) -> None:
        # Once the screen is laid out and drawn: a new mode's screen composes before it is the
        # app's screen, and ``call_after_refresh`` from here would run on the screen shown
        # before it, before this one's first frame.
        self.screen.screen_layout_refresh_signal.subscribe(self, self._laid_out)

    def _laid_out(self, _screen: object) -> None:
        self.screen.screen_layout_refresh_signal.unsubscribe(self)
        # After the frame's own callbacks (call_later), not among them.
        self.call_after_refresh(self.call_later, self.build)

    async def build(self) -> None:
        """Mount the controls, once; every caller returns when they are mounted."""
        if self._make is not None:
            make, self._make = self._make, None
            self._mounting = self.mount_all(list(make()), before=0 if self.children else None)
        if self._mounting is not None:
            await self._mounting


# The container class first: Textual takes a widget's default CSS (a Horizontal's layout) from
# its first base only.
class LateRow(Horizontal, LateChildren):
    """A row of controls made after the first frame (a filter row: give it a fixed height)."""


class LateColumn(Vertical, LateChildren):
    """A column of controls made after the first frame (a form: give it ``height: auto``)."""


def late_value(row: Widget, selector: str) -> object:
    """The value of the control ``selector`` in ``row``, None while it isn't made yet."""
    found = row.query(selector)
    return getattr(found.first(), "value", None) if found else None
