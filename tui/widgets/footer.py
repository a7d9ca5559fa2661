"""The key footer: the screen's shown keys on one line, drawn by one widget.

Textual's ``Footer`` is a container of one ``FooterKey`` widget per key (a dozen on most
screens), each composed, mounted, styled (with two component styles) and laid out: the largest
share of the frame every first visit pays (a screen's first frame came without keys, and the
keys a frame later). It recomposes all of them on every change of the screen's bindings, which
every focus change makes. Here one widget draws the same cells from the same CSS variables:
each key's ``key`` and description as ``FooterKey`` draws them, left to right and cut where the
command palette's key (docked right, after a thin bar) begins. A change of the keys is a
repaint of one line. Like Textual's: a click on a key presses it (a disabled key beeps), the
hovered key is lit and its tooltip shown, the wheel scrolls keys cut off into view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.color import Color
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.app import RenderResult
    from textual.binding import Binding
    from textual.css.styles import RenderStyles
    from textual.screen import Screen

PALETTE_BAR = "▏"
"""The left edge of the palette's key (Textual's ``vkey`` border)."""


@dataclass(frozen=True, slots=True)
class Key:
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    disabled: bool
    tooltip: str


def shown(screen: Screen) -> tuple[list[Key], Key | None]:
    """The keys ``Footer`` shows for ``screen``: one per action (its first shown binding), in
    the order of the screen's bindings; and the command palette's key, if bound."""
    app = screen.app
    bindings = screen.active_bindings
    by_action: dict[str, tuple[Binding, bool, str]] = {}
    for _, binding, enabled, tooltip in bindings.values():
        if binding.show:
            by_action.setdefault(binding.action, (binding, enabled, tooltip))
    keys = [
        Key(b.key, app.get_key_display(b), b.description, not enabled, tooltip)
        for b, enabled, tooltip in by_action.values()
    ]
    palette = None
    if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in bindings:
        _, binding, enabled, tooltip = bindings[app.COMMAND_PALETTE_BINDING]
        palette = Key(binding.key, app.get_key_display(binding), binding.description,
                      not enabled, binding.tooltip or binding.description)  # fmt: skip
    return keys, palette


class KeyFooter(Widget):
    """The screen's keys, as Textual's ``Footer`` shows them (not compact; the palette's key
    compact, as Textual has it)."""

    ALLOW_SELECT = False

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "footer-key--item",
        "footer-key--hover",
        "footer-key--key",
        "footer-key--description",
        "footer-key--bar",
    }
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .footer-key--item { background: $footer-item-background; }
        .footer-key--hover { color: $footer-key-foreground; background: $block-hover-background; }
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--bar { color: $foreground 20%; }
    }
    """

    _keys: tuple[list[Key], Key | None] | None = None
    _spans: list[tuple[int, int, Key]]
    """Where each key was drawn (start and end column), for the mouse."""
    _hover: Key | None = None
    _scroll = 0

    def __init__(self) -> None:
        super().__init__()
        self._spans = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            keys = shown(screen)
            if keys != self._keys:
                self._keys = keys
                self.refresh()

    @property
    def keys(self) -> list[Key]:
        """The keys shown, the palette's last."""
        keys, palette = self._keys if self._keys is not None else shown(self.screen)
        return [*keys, *([palette] if palette else [])]

    # -- drawing --------------------------------------------------------------------------------

    def render(self) -> RenderResult:
        if self._keys is None:
            self._keys = shown(self.screen)
        keys, palette = self._keys
        width = self.size.width
        right = Text(end="")
        if palette is not None:
            item = self._item(palette)
            right.append(PALETTE_BAR, self._layer(item, "footer-key--bar"))
            right.append_text(self._label(palette, item, compact=True))
            right.append(" ", item)  # its padding-right
        room = max(0, width - right.cell_len)  # the keys are cut where the palette's begins
        line = Text(end="", no_wrap=True)
        drawn: list[tuple[int, int, Key]] = []
        for key in keys:
            start = line.cell_len
            line.append_text(self._label(key, self._item(key), compact=False))
            drawn.append((start, line.cell_len, key))
        self._scroll = max(0, min(self._scroll, line.cell_len - room))
        self._spans = [(a - self._scroll, b - self._scroll, k) for a, b, k in drawn]
        if palette is not None:
            self._spans.append((room, width, palette))
        line = line[self._scroll :] if self._scroll else line
        line.truncate(room, overflow="crop", pad=True)
        line.append_text(right)
        return line

    def _label(self, key: Key, item: Style, *, compact: bool) -> Text:
        """What ``FooterKey.render`` makes of a key."""
        key_style = self._layer(item, "footer-key--key")
        if not key.description:
            return Text(key.display, key_style, end="")
        pad = "" if compact else " "
        return Text.assemble(
            (f"{pad}{key.display}{pad}", key_style),
            (f"{' ' if compact else ''}{key.description}{pad}",
             self._layer(item, "footer-key--description")),
            end="",
        )  # fmt: skip

    def _item(self, key: Key) -> Style:
        """A key's own background (lit when hovered), dim when disabled."""
        lit = "footer-key--hover" if key == self._hover else "footer-key--item"
        item = self._layer(self.rich_style, lit)
        return item + Style(dim=True) if key.disabled else item  # FooterKey.-disabled

    def _layer(self, under: Style, component: str) -> Style:
        """A component's colours over ``under``, as Textual composes a widget's style over its
        parent's (its background over the one beneath; its colour over that background)."""
        styles: RenderStyles = self.get_component_styles(component)
        background = Color.from_rich_color(under.bgcolor) if under.bgcolor else Color(0, 0, 0, 0)
        has = styles.has_rule
        if has("background"):
            background += styles.background
        if has("color"):
            color = background + styles.color
        elif under.color is not None:
            color = Color.from_rich_color(under.color)
        else:
            color = None
        style = Style(bgcolor=background.rich_color if background.a else None,
                      color=color.rich_color if color is not None else None)  # fmt: skip
        return under + styles.text_style + style

    # -- the mouse --------------------------------------------------------------------------------

    def _key_at(self, x: int) -> Key | None:
        for start, end, key in reversed(self._spans):  # the palette's key is over the others
            if start <= x < end:
                return key
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hovering(self._key_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._hovering(None)

    def _hovering(self, key: Key | None) -> None:
        if key != self._hover:
            self._hover = key
            self.tooltip = (key.tooltip or None) if key is not None else None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self._key_at(event.x)
        if key is None:
            return
        if key.disabled:
            self.app.bell()
        else:
            self.app.simulate_key(key.key)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll_by(2, event)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll_by(-2, event)

    def _scroll_by(self, cells: int, event: events.MouseEvent) -> None:
        event.stop()
        self._scroll = max(0, self._scroll + cells)  # render keeps it within the keys
        self.refresh()
