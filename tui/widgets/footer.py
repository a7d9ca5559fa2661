"""The key footer, its keys made in their final style rather than restyled into it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PALETTE_KEY = "-command-palette"
"""Textual's palette key keeps its own default (compact), not bound to the footer's."""


class KeyFooter(Footer):
    """Textual's ``Footer``, whose keys start compact and are each restyled (with their
    children) once their bound ``compact`` arrives: twice per key at every recompose, which
    follows every focus change. Here each key is given its ``compact`` before it mounts, so it
    is styled once, as it mounts."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                compact = True if widget.has_class(PALETTE_KEY) else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
