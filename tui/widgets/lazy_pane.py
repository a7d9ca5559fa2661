"""A tab pane built the first time its tab shows: a screen's hidden tabs add nothing to its
first visit (composing and styling their widgets, loading their data, filling their tables).

Security's seven tabs and Admin's five were all built and loaded before either screen's first
frame, though one tab shows. Code that looks inside a pane it has just made active awaits
``build`` first; a pane shown any other way builds itself on showing.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.widget import AwaitMount, Widget
from textual.widgets import TabPane


class LazyPane(TabPane):
    """A ``TabPane`` whose one child ``make()`` builds, when the pane first shows."""

    def __init__(self, title: str, make: Callable[[], Widget], *, id: str) -> None:
        super().__init__(title, id=id)
        self._make: Callable[[], Widget] | None = make
        self._mounting: AwaitMount | None = None

    async def build(self) -> None:
        """Mount the content, once; every caller returns when it is mounted (a click on the
        tab and its key at once build it once, and neither looks inside too early)."""
        if self._make is not None:
            make, self._make = self._make, None
            self._mounting = self.mount(make())
        if self._mounting is not None:
            await self._mounting

    async def on_show(self) -> None:
        await self.build()


async def build_pane(pane: Widget) -> None:
    """A tab pane's content mounted, whether it is lazy or not."""
    if isinstance(pane, LazyPane):
        await pane.build()
