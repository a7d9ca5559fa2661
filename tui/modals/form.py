"""A validated form in a dialog: fields described as data, submitted through a service call.

``FormModal(title, fields, submit)`` shows one compact line per field (label, control) and the
focused field's help under the form. Ctrl+S (or Enter on the last line) hands the values to
``submit``; a service refusal is shown in the dialog, the field it names is marked and focused,
and nothing is dismissed — so bad input never loses what was typed. On success the dialog is
dismissed with what ``submit`` returned (None when cancelled).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static, TextArea

from core.errors import ServiceError
from tui.screens.auth_form import call_service

R = TypeVar("R")
Kind = Literal["text", "secret", "select", "area", "check"]


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    kind: Kind = "text"
    value: str | bool = ""
    options: Sequence[tuple[str, str]] = ()
    placeholder: str = ""
    help: str = ""
    max_length: int = 0


Values = dict[str, Any]


class FormModal(ModalScreen[R | None], Generic[R]):
    CSS_PATH = ["modals.tcss", "form.tcss"]  # noqa: RUF012
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "submit", "Save", id="form.submit", tooltip="Check and save the form"),
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close without saving"),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        submit: Callable[[Values], Awaitable[R]],
        *,
        intro: str = "",
        yes: str = "Save",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._title, self._fields, self._submit = title, tuple(fields), submit
        self._intro, self._yes = intro, yes
        self._help = {f"field-{f.name}": f.help for f in fields}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form-dialog"):
            yield Label(self._title, classes="dialog-title")
            if self._intro:
                yield Static(self._intro, classes="dialog-text")
            with VerticalScroll(classes="form-body"), Grid(classes="form-grid"):
                for f in self._fields:
                    yield Label(f.label, classes="form-label")
                    yield self._control(f)
            yield Static("", id="form-help", classes="form-help")
            yield Static("", id="form-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self._yes} (ctrl+s)", variant="primary", id="form-submit")
                yield Button("Cancel (esc)", id="form-cancel")
        yield Footer()

    def _control(self, f: Field) -> Widget:
        wid = f"field-{f.name}"
        if f.kind == "select":
            value = f.value if any(v == f.value for _, v in f.options) else Select.NULL
            return Select(
                [(label, v) for label, v in f.options],
                value=value,
                allow_blank=value is Select.NULL,
                id=wid,
                compact=True,
            )
        if f.kind == "check":
            return Checkbox("", bool(f.value), id=wid, compact=True)
        if f.kind == "area":
            area = TextArea(str(f.value), id=wid, compact=True, classes="form-area")
            area.show_line_numbers = False
            return area
        return Input(
            str(f.value),
            placeholder=f.placeholder,
            password=f.kind == "secret",
            max_length=f.max_length,
            id=wid,
            compact=True,
        )

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        help_text = self._help.get(event.widget.id or "", "")
        self.query_one("#form-help", Static).update(help_text)

    def values(self) -> Values:
        out: Values = {}
        for f in self._fields:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, Select):
                out[f.name] = None if widget.value is Select.NULL else widget.value
            elif isinstance(widget, Checkbox):
                out[f.name] = widget.value
            elif isinstance(widget, TextArea):
                out[f.name] = widget.text
            else:
                assert isinstance(widget, Input)
                out[f.name] = widget.value
        return out

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        if inputs and event.input is inputs[-1]:
            self.action_submit()
        else:
            self.focus_next()

    @on(Button.Pressed, "#form-submit")
    def _pressed_submit(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="form")
    async def action_submit(self) -> None:
        for widget in self.query(".-invalid-field"):
            widget.remove_class("-invalid-field")
        values = self.values()

        async def wrapped() -> tuple[R]:
            return (await self._submit(values),)

        result = await call_service(self, wrapped(), "#form-error", on_refusal=self._mark)
        for f in self._fields:
            if f.kind == "secret":
                self.query_one(f"#field-{f.name}", Input).value = ""
        if result is not None:
            self.dismiss(result[0])

    def _mark(self, exc: ServiceError) -> None:
        name = getattr(exc, "field", None)
        if not name:
            return
        found = self.query(f"#field-{name.split('.')[0]}")
        if found:
            widget = found.first()
            widget.add_class("-invalid-field")
            widget.focus()
