"""A table filled to fit its width fits again when its width changes: filled while it was still
narrow (a layout not yet settled, a smaller terminal), its columns don't stay clipped until the
next refresh of its rows."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.tui.auth_helpers import wait_for
from tui.widgets.table import Column, KeyedTable, fill_table

COLUMNS = (
    Column("name", "Name", width_min=4),
    Column("status", "Status", width_min=4),
    Column("symbol", "Symbol", width_min=4),
)
ROWS = [("a", {"name": "BTC ladder", "status": "active", "symbol": "BTC/USDT"})]


class Table(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="t")


def widths(table: KeyedTable) -> list[int]:
    return [c.width or 0 for c in table.columns_spec]


async def test_a_filled_table_fits_again_when_its_width_changes() -> None:
    app = Table()
    async with app.run_test(size=(30, 10)) as pilot:
        table = app.query_one(KeyedTable)
        await wait_for(pilot, lambda: table.size.width == 30, what="the narrow table")
        fill_table(table, COLUMNS, ROWS)
        narrow = widths(table)
        assert sum(narrow) < len("BTC ladder") + len("active") + len("BTC/USDT")
        await pilot.resize_terminal(120, 10)
        await wait_for(pilot, lambda: sum(widths(table)) > sum(narrow), what="the columns refit")
        assert all(w >= len("BTC ladder") for w in widths(table))
        assert table.get_row("a") == ["BTC ladder", "active", "BTC/USDT"]  # the same row, kept
