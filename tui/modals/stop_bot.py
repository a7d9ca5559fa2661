"""Stop a bot, optionally closing what it holds; dismissed with None (keep it running) or
whether to close its positions. A bot holding nothing isn't offered a close."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Static

from tui.stylesheet import StyledOnMount
from tui.widgets.footer import KeyFooter


class StopBotModal(StyledOnMount, ModalScreen[bool | None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("y", "stop", "Stop", id="stop-bot.yes", tooltip="Stop the bot"),
        Binding("c", "toggle_close", "Close positions", id="stop-bot.close",
                tooltip="Also sell its open positions at market"),
        Binding("n,escape", "keep", "Keep running", id="stop-bot.no", tooltip="Leave it as it is"),
    ]  # fmt: skip

    def __init__(self, name: str, open_positions: int) -> None:
        super().__init__()
        self._name, self._open = name, open_positions

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Stop {self._name}?", classes="dialog-title")
            if self._open:
                yield Static(
                    "It makes no new decisions. Positions you keep open stay in its wallet "
                    "without exit rules until you start it again or close them by hand.",
                    classes="dialog-text",
                )
                yield Checkbox(
                    f"Close its {self._open} open position{'s' if self._open != 1 else ''}"
                    " at market (c)",
                    value=False,
                    id="close",
                )
            else:
                yield Static(
                    "It makes no new decisions. It holds no open positions.",
                    classes="dialog-text",
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stop (y)", variant="error", id="yes")
                yield Button("Keep running (n)", id="no")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Nothing to close: no ``c`` key in the footer."""
        return bool(self._open) if action == "toggle_close" else True

    def action_toggle_close(self) -> None:
        for box in self.query("#close").results(Checkbox):
            box.value = not box.value

    def action_stop(self) -> None:
        boxes = self.query("#close").results(Checkbox)
        self.dismiss(any(box.value for box in boxes))

    def action_keep(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self.action_stop()
        else:
            self.action_keep()
