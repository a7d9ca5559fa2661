"""Esc leaves a text field before it leaves a screen, and screen keys work after it: Security
(F2) opens on its tab strip so digits pick tabs, and the trade filters give the keys back."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TabbedContent

from core.db.engine import Database
from tests.tui.auth_helpers import settle, wait_for
from tests.tui.dash_helpers import SMALL, WIDE, signed_in, trader
from tui.screens.security import SecurityScreen
from tui.screens.trades import TradesScreen
from tui.widgets.table import KeyedTable


async def test_security_keys_are_never_trapped(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=WIDE) as (app, pilot):
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, SecurityScreen), what="security")
        await settle(pilot)
        tabs = app.screen.query_one(TabbedContent)
        current = app.screen.query_one("#current", Input)
        assert not isinstance(app.focused, Input)
        await pilot.press("2")
        await wait_for(pilot, lambda: tabs.active == "two-factor", what="the 2FA tab")
        assert current.value == ""
        await pilot.press("1")
        await wait_for(pilot, lambda: tabs.active == "password", what="the password tab")
        current.focus()
        await pilot.press(*"secret")
        await pilot.press("escape")  # leaves the field, not the screen
        await settle(pilot)
        assert isinstance(app.screen, SecurityScreen) and app.focused is not current
        await pilot.press("3")
        await wait_for(pilot, lambda: tabs.active == "sessions", what="the sessions tab")
        assert current.value == "secret"
        await pilot.press("escape")  # now the screen
        await wait_for(pilot, lambda: not isinstance(app.screen, SecurityScreen), what="closed")


async def test_trade_filter_gives_the_keys_back(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db)
    async with signed_in(migrated_url, tmp_path, seeded, size=SMALL) as (app, pilot):
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, TradesScreen), what="trades")
        await settle(pilot)
        since = app.screen.query_one("#f-since", Input)
        since.focus()
        await pilot.press(*"2025")
        await pilot.press("escape")
        await settle(pilot)
        table = app.screen.query_one("#trades", KeyedTable)
        assert app.focused is table and since.value == "2025"
        await pilot.press("s")
        await wait_for(pilot, lambda: "by symbol" in table.border_subtitle, what="sorted")
        assert since.value == "2025"
