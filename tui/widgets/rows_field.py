"""A list of flat rules edited as rows of fields (a DCA bot's levels: drop % and buy %): a
header naming the columns, one line of inputs per row with a button that removes it, and a
button that adds one. ``value`` reads the rows back as the user wrote them (text per column);
the form checks each row with its model and ``mark`` points at the cell that is wrong."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from tui.compact import compact


class RowLine(Horizontal):
    """One row: an input per column and its remove button."""

    DEFAULT_CSS = """
    RowLine { height: auto; }
    RowLine Input { width: 1fr; margin-right: 1; }
    RowLine .row-number { width: 4; color: $text-muted; }
    RowLine Button { min-width: 5; width: auto; }
    """

    def __init__(self, columns: tuple[tuple[str, str], ...], cells: dict[str, Any]) -> None:
        super().__init__(classes="row-line")
        self.columns, self.cells = columns, cells

    def compose(self) -> ComposeResult:
        yield Label("", classes="row-number")
        for key, label in self.columns:
            value = self.cells.get(key)
            yield compact(
                Input(
                    "" if value is None else str(value),
                    placeholder=label.lower(),
                    name=key,
                    classes="cell",
                )
            )
        yield Button("✕", classes="remove-row", compact=True, tooltip="Remove this row")

    @property
    def value(self) -> dict[str, str]:
        return {str(i.name): i.value for i in self.query(".cell").results(Input)}

    def cell(self, key: str | None) -> Input:
        cells = list(self.query(".cell").results(Input))
        return next((c for c in cells if c.name == key), cells[0])


class RowsField(Vertical):
    """Rows of a list setting; ``noun`` names one row on the add button (``level``)."""

    DEFAULT_CSS = """
    RowsField { height: auto; }
    RowsField .rows-header { height: 1; color: $text-muted; }
    RowsField .rows-header Label { width: 1fr; margin-right: 1; }
    RowsField .rows-header .row-number { width: 4; }
    RowsField .rows-header .row-tail { width: 5; margin-right: 0; }
    RowsField .rows { height: auto; }
    RowsField .add-row { margin-top: 0; width: auto; }
    """

    def __init__(
        self,
        columns: tuple[tuple[str, str], ...],
        rows: list[dict[str, Any]] | None,
        *,
        noun: str = "row",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="rows-field")
        self.columns, self.noun = columns, noun
        self._initial = list(rows or [])

    def compose(self) -> ComposeResult:
        with Horizontal(classes="rows-header"):
            yield Label("#", classes="row-number")
            for _, label in self.columns:
                yield Label(label)
            yield Label("", classes="row-tail")
        yield Vertical(*(RowLine(self.columns, r) for r in self._initial), classes="rows")
        yield Button(f"+ Add {self.noun}", classes="add-row", compact=True)

    def on_mount(self) -> None:
        self._renumber()

    @property
    def lines(self) -> list[RowLine]:
        return list(self.query(RowLine).results(RowLine))

    @property
    def value(self) -> list[dict[str, str]]:
        return [line.value for line in self.lines]

    def _renumber(self) -> None:
        lines = self.lines
        for n, line in enumerate(lines, 1):
            line.query_one(".row-number", Label).update(f"{n}.")
        self.query_one(".rows-header").display = bool(lines)

    async def add_row(self, cells: dict[str, Any] | None = None) -> RowLine:
        line = RowLine(self.columns, cells or {})
        await self.query_one(".rows", Vertical).mount(line)
        self._renumber()
        return line

    async def remove_row(self, index: int) -> None:
        await self.lines[index].remove()
        self._renumber()

    def focus_cell(self, row: int | None, column: str | None) -> None:
        lines = self.lines
        if row is not None and 0 <= row < len(lines):
            lines[row].cell(column).focus()
        elif lines:
            lines[0].cell(column).focus()
        else:
            self.query_one(".add-row", Button).focus()

    @on(Button.Pressed, ".add-row")
    async def _add_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        line = await self.add_row()
        line.cell(None).focus()

    @on(Button.Pressed, ".remove-row")
    async def _remove_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        line = next(a for a in event.button.ancestors if isinstance(a, RowLine))
        index = self.lines.index(line)
        await self.remove_row(index)
        self.focus_cell(min(index, len(self.lines) - 1) if self.lines else None, None)
