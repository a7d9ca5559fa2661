"""Positions: live marks by keyed diff, closing one by hand with a confirm, the closed tab."""

from __future__ import annotations

from pathlib import Path

from core.db.engine import Database
from core.services import trading
from tests.tui.auth_helpers import settle, wait_for
from tests.tui.dash_helpers import dashboard, trader
from tui.modals.confirm import ConfirmModal
from tui.screens.positions import PositionsScreen
from tui.widgets.table import KeyedTable


async def test_positions_mark_live_and_close_by_hand(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db)
    app = dashboard(migrated_url, tmp_path, seeded)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PositionsScreen)
        table = screen.query_one("#open-table", KeyedTable)
        assert [table.get_row(k)[0] for k in table.keys] == ["ETH/USDT", "BNB/USDT", "SOL/USDT"]

        # The market moves: the next tick repaints prices by keyed diff, rows stay in place.
        before = {k: table.get_row(k)[5] for k in table.keys}
        seeded.auth.clock.advance(minutes=30)  # type: ignore[attr-defined]

        def marks() -> dict:
            return {k: table.get_row(k)[5] for k in table.keys}

        await wait_for(pilot, lambda: marks() != before, what="the next tick's marks")
        assert marks().keys() == before.keys()

        # Close SOL by hand: asked first, then sold at market.
        sol = next(k for k in table.keys if table.get_row(k)[0] == "SOL/USDT")
        table.move_cursor(row=table.get_row_index(sol))
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert sol not in table.keys and len(table.keys) == 2
        closed = await trading.list_positions(db, seeded.actor, status="closed")
        assert sol in {p.id for p in closed.items}
        assert next(p for p in closed.items if p.id == sol).close_reason == "MANUAL"

        await pilot.press("x")
        await settle(pilot)
        closed_table = screen.query_one("#closed-table", KeyedTable)
        assert sol in closed_table.keys and closed_table.row_count == 3

        # "/" narrows both tabs.
        await pilot.press("o", "slash", *"eth")
        await settle(pilot)
        assert [table.get_row(k)[0] for k in table.keys] == ["ETH/USDT"]
        await pilot.press("escape")
        await settle(pilot)
        assert len(table.keys) == 2
