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
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from core.errors import ServiceError
from tui.compact import compact, filled
from tui.service_call import call_service
from tui.stylesheet import StyledOnMount
from tui.widgets.choice import Choice
from tui.widgets.footer import KeyFooter

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
AREA_ROWS = 6


class FieldGrid(Grid):
    """The fields as label/control lines; ``values()`` reads them, ``mark(name)`` flags one."""

    DEFAULT_CLASSES = "form-grid"

    def __init__(self, fields: Sequence[Field], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.fields = tuple(fields)
        self.help = {f"field-{f.name}": f.help for f in fields}

    def compose(self) -> ComposeResult:
        for f in self.fields:
            yield Label(f.label, classes="form-label")
            yield control(f)

    def on_mount(self) -> None:
        # Each row as tall as its control: an "auto" row gave a text area one line, in which
        # nothing typed could be seen.
        self.styles.grid_rows = " ".join(
            str(AREA_ROWS) if f.kind == "area" else "1" for f in self.fields
        )

    def first_control(self) -> Widget | None:
        controls = self.query("Input, Select, TextArea, Checkbox")
        return controls.first() if controls else None

    def values(self) -> Values:
        out: Values = {}
        for f in self.fields:
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

    def set_values(self, values: Values) -> None:
        for name, value in values.items():
            found = self.query(f"#field-{name}")
            if not found:
                continue
            widget = found.first()
            if isinstance(widget, Select):
                widget.value = value if value is not None else Select.NULL
            elif isinstance(widget, Checkbox):
                widget.value = bool(value)
            elif isinstance(widget, TextArea):
                widget.text = str(value or "")
            elif isinstance(widget, Input):
                widget.value = str(value or "")

    def clear_marks(self) -> None:
        for widget in self.query(".-invalid-field"):
            widget.remove_class("-invalid-field")

    def clear_secrets(self) -> None:
        for f in self.fields:
            if f.kind == "secret":
                self.query_one(f"#field-{f.name}", Input).value = ""

    def mark(self, exc: ServiceError) -> None:
        """Flag and focus the field a refusal names (``InvalidInput.field``)."""
        name = getattr(exc, "field", None)
        found = self.query(f"#field-{name.split('.')[0]}") if name else None
        if found:
            widget = found.first()
            widget.add_class("-invalid-field")
            widget.focus()


def control(f: Field) -> Widget:
    wid = f"field-{f.name}"
    if f.kind == "select":
        value = f.value if any(v == f.value for _, v in f.options) else Select.NULL
        return compact(
            Choice(
                [(label, v) for label, v in f.options],
                value=value,
                allow_blank=value is Select.NULL,
                id=wid,
            )
        )
    if f.kind == "check":
        return compact(Checkbox("", bool(f.value), id=wid))
    if f.kind == "area":
        return compact(TextArea(str(f.value), id=wid, classes="form-area", show_line_numbers=False))
    return filled(
        str(f.value),
        placeholder=f.placeholder,
        password=f.kind == "secret",
        max_length=f.max_length,
        id=wid,
    )


class FormModal(StyledOnMount, ModalScreen[R | None], Generic[R]):
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
        self._help = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form-dialog"):
            yield Label(self._title, classes="dialog-title")
            if self._intro:
                yield Static(self._intro, classes="dialog-text")
            # Not focusable from the start: Textual's auto-focus would give it the focus first,
            # and moving it on to the first field restyled the whole body twice.
            with VerticalScroll(classes="form-body", can_focus=False):
                yield FieldGrid(self._fields)
            # The first field's help at once: it has the focus when the dialog shows (a change
            # after the first frame would lay the dialog out again).
            self._help = self._fields[0].help if self._fields else ""
            yield Static(self._help, id="form-help", classes="form-help")
            yield Static("", id="form-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self._yes} (ctrl+s)", variant="primary", id="form-submit")
                yield Button("Cancel (esc)", id="form-cancel")
        yield KeyFooter()

    @property
    def grid(self) -> FieldGrid:
        return self.query_one(FieldGrid)

    def on_mount(self) -> None:
        self._fit_body()
        # Typing goes to the first field at once (the scrolling body took the focus before,
        # so keys went nowhere); the body scrolls to whichever field has the focus.
        first = self.grid.first_control()
        if first is not None:
            first.focus()

    def on_resize(self) -> None:
        self._fit_body()

    def _fit_body(self) -> None:
        """Keep the buttons on screen: the fields scroll when the terminal is short. Set on
        mount too, before the first layout (a change lays the dialog out again)."""
        chrome = 14 + (3 if self._intro else 0)
        self.query_one(".form-body").styles.max_height = max(4, self.app.size.height - chrome)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        help_text = self.grid.help.get(event.widget.id or "", "")
        if help_text != self._help:  # an update lays the dialog out again, even to the same
            self._help = help_text
            self.query_one("#form-help", Static).update(help_text)

    def values(self) -> Values:
        return self.grid.values()

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
        grid = self.grid
        grid.clear_marks()
        values = grid.values()

        async def wrapped() -> tuple[R]:
            return (await self._submit(values),)

        result = await call_service(self, wrapped(), "#form-error", on_refusal=grid.mark)
        grid.clear_secrets()
        if result is not None:
            self.dismiss(result[0])
