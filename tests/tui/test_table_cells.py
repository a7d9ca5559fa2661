"""The table's own drawing of plain one-line cells gives what Textual's (through Rich) gives,
character by character and style by style, and its measuring the same column widths; cells it
can't tell (markup, emoji codes, spans, too wide) are left to Textual."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tests.tui.auth_helpers import wait_for
from tui.widgets.cell_render import cell_line, plain_width
from tui.widgets.table import Column, KeyedTable

COLUMNS = (
    Column("a", "A"),
    Column("b", "Bee", right=True),
    Column("c", "C", width=6),
    Column("d", "D"),
)
ROWS = [
    ("plain", ["BTC/USDT", "65,000.00", "short", "12:00"]),
    ("styled", [Text("+1.50", style="bold green"), Text("-3.10", style="red"), "", "x"]),
    ("justified", [Text("left", justify="left", style="on blue"), "1", "a b", "wide 漢字"]),
    ("markup", ["[b]bold[/b]", ":rocket: up", "too long here", Text.assemble(("a", "red"), "b")]),
    ("time", ["2026-01-01 12:00:30", Text("7", style=Style(color="#ff0000")), "é", "—"]),
]


class Table(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="t")


def chars(lines: list[list[Segment]]) -> list[list[tuple[str, Any]]]:
    return [[(ch, seg.style) for seg in line for ch in seg.text] for line in lines]


async def test_plain_cells_are_drawn_as_textual_draws_them(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    textual_draws = DataTable._render_cell
    drawn_by_textual: list[tuple[int, int]] = []

    def counted(table, row, col, *args):  # type: ignore[no-untyped-def]
        drawn_by_textual.append((row, col))
        return textual_draws(table, row, col, *args)

    app = Table()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.sync(ROWS)
        await wait_for(pilot, lambda: table.virtual_size.width > 0, what="the measured table")
        base = table.rich_style
        for row in range(len(ROWS)):
            for col, column in enumerate(table.ordered_columns):
                for cursor, hover in ((False, False), (True, False), (False, True)):
                    width = column.get_render_width(table)
                    table._cell_render_cache.clear()
                    with monkeypatch.context() as patch:
                        patch.setattr(DataTable, "_render_cell", counted)
                        ours = table._render_cell(row, col, base, width, cursor, hover)
                    table._cell_render_cache.clear()
                    theirs = textual_draws(table, row, col, base, width, cursor, hover)
                    assert chars(ours) == chars(theirs), (ROWS[row][0], column.key, cursor)
        # Textual drew only what Rich must: markup, the long cell, the spans, the seconds (an
        # emoji code's two colons); right-aligned strings are Texts already (never markup)
        assert set(drawn_by_textual) == {(3, 0), (3, 2), (3, 3), (4, 0)}


async def test_columns_are_measured_as_textual_measures_them() -> None:
    app = Table()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.sync(ROWS)
        await wait_for(pilot, lambda: table.virtual_size.width > 0, what="the measured table")
        ours = [c.content_width for c in table.ordered_columns]
        size = table.virtual_size
        for column in table.ordered_columns:
            column.content_width = 0
        DataTable._update_dimensions(table, list(table.rows))
        assert [c.content_width for c in table.ordered_columns] == ours
        assert table.virtual_size == size


def test_what_rich_must_draw_is_left_to_it() -> None:
    from rich.console import Console

    console = Console()
    style = Style()
    assert plain_width("[b]x[/b]") is None
    assert plain_width("a :rocket: b") is None
    assert plain_width("two\nlines") is None
    assert plain_width(Text.assemble(("a", "red"), "b")) is None
    assert plain_width("12:00") == 5
    assert plain_width("漢字") == 4
    assert cell_line(console, "much too long", 8, 1, style, style) is None
    assert cell_line(console, Text("mid", justify="center"), 8, 1, style, style) is None
    assert cell_line(console, Text("x ", justify="right"), 8, 1, style, style) is None
    line = cell_line(console, "fits", 8, 1, style, style)
    assert line is not None and "".join(s.text for s in line) == " fits   "


async def test_a_cell_that_grows_widens_its_column() -> None:
    """A live figure growing past its column's width (a P&L from +9.50 to +104.44) widens the
    column: the keyed diff stores cells itself, and they were cut to the first width."""
    app = Table()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.sync([("r", ["x", Text("+9.50"), "", ""])])
        await wait_for(pilot, lambda: table.ordered_columns[1].content_width == 5, what="width")
        table.sync([("r", ["x", Text("+104.44"), "", ""])])
        await pilot.pause()
        assert table.ordered_columns[1].content_width == 7
        line = "".join(s.text for s in table.render_line(1))
        assert "+104.44" in line


async def test_lines_are_drawn_as_textual_draws_them(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every line of the table — header, cursor row, hovered row, stripes, the filler right
    of the columns — as Textual's own row drawing gives it."""
    app = Table()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.sync(ROWS)
        await wait_for(pilot, lambda: table.virtual_size.width > 0, what="the measured table")
        table.move_cursor(row=2)
        table.hover_coordinate = table.hover_coordinate._replace(row=1)
        await pilot.pause()
        base = table.rich_style
        width = table.size.width

        def lines() -> list[list[tuple[str, Any]]]:
            table._clear_caches()
            return [chars([list(table._render_line(y, 0, width, base))])[0] for y in range(7)]

        ours = lines()
        monkeypatch.setattr(KeyedTable, "_render_line_in_row", DataTable._render_line_in_row)
        assert ours == lines()
