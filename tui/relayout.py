"""A screen laid out once per size: Textual lays a new screen out up to three times more.

A screen's layout sends the screen itself a ``Resize`` when it first shows it and whenever the
virtual size of its content changed, and Textual answers every ``Resize`` with a whole new
layout at the size just laid out: two layouts more on a first visit, each as costly as the
first (the new-bot form, under cProfile: 2 of its 4 layouts, 1.9 of 5.2 s). At an unchanged
size nothing can come out differently: a widget that changed since asked for a layout of its
own, which the screen's refresh timer does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.geometry import Size


class OneLayoutPerSize:
    """For a ``Screen`` (before it in the bases): a ``Resize`` to the size of its last layout
    doesn't lay it out again; a real resize (the terminal's) does, as in Textual."""

    def _screen_resized(self, size: Size) -> None:
        compositor = self._compositor  # type: ignore[attr-defined]
        if compositor.root is not None and compositor.size == size:
            return
        super()._screen_resized(size)  # type: ignore[misc]
