"""Pick one of a few values; dismissed with the chosen value or None."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.stylesheet import StyledOnMount
from tui.widgets.footer import KeyFooter


class ChoiceModal(StyledOnMount, ModalScreen[str | None]):
    CSS_PATH = ["modals.tcss", "form.tcss"]  # noqa: RUF012
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "dismiss(None)", "Cancel", id="choice.cancel", tooltip="Choose nothing"),
        Binding("j", "move(1)", "Down", show=False),
        Binding("k", "move(-1)", "Up", show=False),
    ]

    def __init__(
        self,
        title: str,
        options: Sequence[tuple[str, str]],
        *,
        question: str = "",
        current: str | None = None,
    ) -> None:
        super().__init__()
        self._title, self._question = title, question
        self._options, self._current = tuple(options), current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            if self._question:
                yield Static(self._question, classes="dialog-text")
            yield OptionList(
                *(Option(label, id=value) for label, value in self._options),
                classes="choice-list",
            )
        yield KeyFooter()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [v for _, v in self._options]
        if self._current in values:
            options.highlighted = values.index(self._current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        options.action_cursor_down() if step > 0 else options.action_cursor_up()
