"""One notification in full: its title, kind, priority, when it came and its whole message
(the inbox's list shows titles only). Dismissed with nothing; the inbox marks it read."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui.stylesheet import StyledOnMount
from tui.widgets.footer import KeyFooter


class NotificationDetailModal(StyledOnMount, ModalScreen[None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("escape,enter", "close", "Close", id="notification.close",
                tooltip="Back to the inbox"),
    ]  # fmt: skip

    def __init__(self, *, title: str, kind: str, priority: str, when: str, message: str) -> None:
        super().__init__()
        self._title, self._kind, self._priority = title, kind, priority
        self._when, self._message = when, message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="notification"):
            yield Label(Content(self._title), classes="dialog-title", id="notification-title")
            yield Static(
                Content.from_markup(
                    "$kind · $priority priority · $when",
                    kind=self._kind,
                    priority=self._priority,
                    when=self._when,
                ),
                classes="dialog-text",
                id="notification-meta",
            )
            with VerticalScroll(id="notification-body"):
                yield Static(Content(self._message), id="notification-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (esc)", id="close")
        yield KeyFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
