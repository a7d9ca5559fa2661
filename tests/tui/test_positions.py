"""Positions: live marks by keyed diff, closing one by hand with a confirm, the closed tab."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from core.db.engine import Database
from core.db.models.bots import Bot, BotWallet
from core.db.models.trading import Position
from core.services import trading
from core.services.bots import BotSpec, create_bot
from tests.tui.auth_helpers import settle, wait_for
from tests.tui.dash_helpers import NOW, signed_in, trader
from tests.tui.layout_helpers import screen_lines
from tui.modals.confirm import ConfirmModal
from tui.screens.positions import PositionsScreen
from tui.widgets.table import KeyedTable

D = Decimal


async def test_positions_mark_live_and_close_by_hand(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PositionsScreen)
        table = screen.query_one("#open-table", KeyedTable)
        assert [table.get_row(k)[0] for k in table.keys] == ["ETH/USDT", "BNB/USDT", "SOL/USDT"]

        # The market moves: the next tick repaints prices by keyed diff, rows stay in place
        # and so does the cursor (on the second row here); cells that didn't move are the
        # very objects they were (the diff skips them without comparing).
        order = table.keys
        table.move_cursor(row=1)
        selected = table.selected_key
        before = {k: table.get_row(k)[5] for k in table.keys}
        symbols = {k: screen._rows[k][2][0] for k in table.keys}
        seeded.auth.clock.advance(minutes=30)  # type: ignore[attr-defined]

        def marks() -> dict:
            return {k: table.get_row(k)[5] for k in table.keys}

        await wait_for(pilot, lambda: marks() != before, what="the next tick's marks")
        assert marks().keys() == before.keys()
        assert table.keys == order and table.selected_key == selected
        assert table.cursor_row == 1
        assert all(screen._rows[k][2][0] is symbols[k] for k in order)
        # ... and the screen shows the new prices, the cursor's row too: the table drops the
        # renders of the changed cells only, so a stale render would show the old figure.
        shown = {k: str(table.get_row(k)[5]) for k in order}
        await wait_for(
            pilot,
            lambda: all(any(p in line for line in screen_lines(app)) for p in shown.values()),
            what="the new prices painted",
        )

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


async def _closed_history(db: Database, user_id: str, swing_id: str) -> None:
    """150 closed positions opened a day ago, closed in the last two hours in another order
    than they opened; every third on the Swing bot, the rest manual."""
    async with db.sessions.begin() as s:
        manual = await s.scalar(
            select(Bot.id).where(Bot.user_id == user_id, Bot.type == "manual").limit(1)
        )
        wallets = {
            bot_id: await s.scalar(select(BotWallet.id).where(BotWallet.bot_id == bot_id))
            for bot_id in (manual, swing_id)
        }
        for i in range(150):
            bot_id = swing_id if i % 3 == 0 else manual
            s.add(Position(bot_id=bot_id, wallet_id=wallets[bot_id], symbol="BTC/USDT", side="BUY",
                           quantity=D(1), entry_price=D(100), current_price=D(101), exit_price=D(101),
                           stop_loss=D(0), take_profit=D(0), cost_basis=D(0), profit_loss=D(1),
                           status="closed", close_reason="SIGNAL",
                           created_at=NOW - timedelta(days=1) + timedelta(minutes=i),
                           closed_at=NOW - timedelta(minutes=1 + (i * 37) % 120)))  # fmt: skip


async def test_closed_tab_newest_closes_first_through_filters(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """The position closed just now heads the closed tab although it was opened first; a
    filter reaches every page; clearing it leaves the rows newest closed first."""
    seeded = await trader(db)
    async with db.sessions.begin() as s:
        swing = await create_bot(s, seeded.actor, BotSpec(name="Swing", type="dca"))
    await _closed_history(db, seeded.actor.user_id, swing.id)
    async with signed_in(migrated_url, tmp_path, seeded, size=(120, 40)) as (app, pilot):
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#open-table", KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 3, what="open positions")
        sol = next(k for k in table.keys if table.get_row(k)[0] == "SOL/USDT")
        table.move_cursor(row=table.get_row_index(sol))
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: sol not in table.keys, what="SOL closed")
        await pilot.press("x")
        closed = app.screen.query_one("#closed-table", KeyedTable)
        await wait_for(pilot, lambda: sol in closed.keys, what="the new close")
        assert closed.keys[0] == sol

        def bots() -> set[str]:
            return {str(closed.get_row(k)[2]) for k in closed.keys}

        await pilot.press("slash", *"swing")
        await wait_for(pilot, lambda: closed.row_count == 50, what="every Swing close")
        assert bots() == {"Swing"}
        await pilot.press("escape")
        await wait_for(pilot, lambda: closed.row_count == 100, what="the first page again")
        assert closed.keys[0] == sol
        rows = await trading.list_positions(db, seeded.actor, status="closed", limit=100)
        assert closed.keys == [p.id for p in rows.items]
        stamps = [p.closed_at for p in rows.items]
        assert stamps == sorted(stamps, reverse=True)
