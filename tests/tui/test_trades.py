"""Trade history screen: filters, sort, keyset pages, totals and the CSV export."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import text
from textual.widgets import ProgressBar, Select, Static

from core.db.engine import Database
from tests.tui.auth_helpers import settle, wait_for
from tests.tui.dash_helpers import bulk_trades, signed_in, trader
from tests.waiting import wait_until
from tui.screens.trades import TradesScreen
from tui.widgets.table import KeyedTable


def symbols(table: KeyedTable) -> list[str]:
    return [str(table.get_row(k)[1]) for k in table.keys]


async def test_filter_sort_page_and_export(db: Database, migrated_url: str, tmp_path: Path) -> None:
    seeded = await trader(db)
    await bulk_trades(db, seeded.actor.user_id, 243)  # 250 trades with the 7 manual ones
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TradesScreen)
        table = screen.query_one("#trades", KeyedTable)
        totals = screen.query_one("#totals", Static)
        assert table.row_count == 100 and "250 trades" in str(totals.render())
        assert "page 1 · rows 1–100 of 250" in table.border_subtitle

        # Keyset pages forward and back: no row twice.
        first = table.keys
        await pilot.press("right_square_bracket")
        await settle(pilot)
        second = table.keys
        assert len(second) == 100 and not set(first) & set(second)
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert table.row_count == 50 and "rows 201–250" in table.border_subtitle
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert table.keys == first

        # "/" goes to the symbol filter; typing narrows the set, totals follow.
        await pilot.press("slash")
        await pilot.press(*"eth/usdt")
        await wait_for(pilot, lambda: set(symbols(table)) == {"ETH/USDT"}, what="symbol filter")
        await wait_for(pilot, lambda: "64 trades" in str(totals.render()), what="totals")
        assert "64 trades (2 buys, 62 sells)" in str(totals.render())  # 61 bulk + 3 manual
        screen.query_one("#f-side", Select).value = "SELL"
        await settle(pilot)
        assert all(str(table.get_row(k)[2]) == "SELL" for k in table.keys)
        sells = table.row_count
        assert sells == 62

        # Sort by P&L, biggest first, then reversed.
        table.focus()
        await pilot.press("s", "s", "s")
        await settle(pilot)
        pnl = [str(table.get_row(k)[7]) for k in table.keys]
        assert screen.sort_by == "pnl" and pnl[0].startswith("+")

        # Export exactly the filtered set.
        await pilot.press("e")
        await settle(pilot)
        assert not screen.query_one("#export", ProgressBar).has_class("-running")
        exports = sorted(Path(p) for p in _export_files(app))
        assert exports, "the export's path is announced"
        with exports[-1].open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == sells and {r["symbol"] for r in rows} == {"ETH/USDT"}

        # Clear every filter.
        await pilot.press("c")
        await settle(pilot)
        assert table.row_count == 100


def _export_files(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        n.message.split("Exported to ")[1].split(" (kept")[0]
        for n in app._notifications
        if "Exported to" in n.message
    ]


async def test_a_new_sort_starts_at_its_first_row(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """After `s`, `r`, `]` the cursor and the view are on the list's first row: the biggest
    trade by total ↓ is the first one seen, not the row the newest trade moved to."""
    seeded = await trader(db, history=False)
    await bulk_trades(db, seeded.actor.user_id, 90)  # one page; the newest is a small one
    async with db.session() as s:
        biggest = await s.scalar(
            text("SELECT id FROM trades WHERE user_id = :u ORDER BY total DESC, id DESC LIMIT 1"),
            {"u": seeded.actor.user_id},
        )
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#trades", KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 90, what="the trades")
        await pilot.press("j", "j", "j")  # the cursor away from the top
        await pilot.press("s", "s")
        await wait_for(pilot, lambda: "by total ↓" in table.border_subtitle, what="the sort")
        await wait_for(pilot, lambda: table.keys[0] == biggest, what="total order")
        await settle(pilot)
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press("j")  # a key that scrolls to the cursor keeps the top in view
        await settle(pilot)
        assert table.cursor_row == 1 and table.scroll_y == 0
        await pilot.press("r")
        await wait_for(pilot, lambda: "by total ↑" in table.border_subtitle, what="reversed")
        await wait_for(pilot, lambda: table.keys[-1] == biggest, what="ascending order")
        await settle(pilot)
        assert table.cursor_row == 0 and table.scroll_y == 0


async def test_the_filter_bar_follows_the_first_page_and_slash_waits_for_it(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """The filter bar's fields are mounted once the first page is shown (they took longer to
    mount than the page to fetch and paint); "/" pressed before they are there still lands in
    the symbol filter."""
    seeded = await trader(db)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("4")
        # (wait_until: wait_for would settle, and the page would be there)
        await wait_until(lambda: isinstance(app.screen, TradesScreen), what="trades")
        screen = app.screen
        assert isinstance(screen, TradesScreen)
        await screen.run_action("filter")  # at once, whether or not the page has arrived
        await wait_for(
            pilot, lambda: app.focused is not None and app.focused.id == "f-symbol", what="focus"
        )
        table = screen.query_one("#trades", KeyedTable)
        assert table.row_count == 7  # the trader's manual trades
        assert (
            len(screen.query("#filters Select")) == 4 and len(screen.query("#filters Input")) == 3
        )
