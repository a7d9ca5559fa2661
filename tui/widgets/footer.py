"""The key footer, recomposed only when the keys it shows change, its keys made in their final
style rather than restyled into it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.screen import Screen

PALETTE_KEY = "-command-palette"
"""Textual's palette key keeps its own default (compact), not bound to the footer's."""

Shown = tuple[tuple["Binding", bool, str], ...]


def shown(screen: Screen) -> Shown:
    """What the footer draws from: the screen's shown bindings (and the palette's)."""
    palette = screen.app.COMMAND_PALETTE_BINDING
    return tuple(
        (binding, enabled, tooltip)
        for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
        if binding.show or key == palette
    )


class KeyFooter(Footer):
    """Textual's ``Footer``, which recomposes after every change of the screen's bindings (every
    focus change: typing keys come and go, none of them shown), its keys starting compact and
    each restyled (with their children) once their bound ``compact`` arrives. Here it recomposes
    when what it shows changed, and each key is given its ``compact`` before it mounts, so it is
    styled once, as it mounts."""

    _composed: Shown | None = None

    def compose(self) -> ComposeResult:
        self._composed = shown(self.screen) if self._bindings_ready else None
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                compact = True if widget.has_class(PALETTE_KEY) else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        if self._composed is not None and screen is self.screen and shown(screen) == self._composed:
            return  # the same keys: nothing to draw again
        super().bindings_changed(screen)
