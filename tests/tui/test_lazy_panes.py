"""Hidden tabs are built when first shown (``tui.widgets.lazy_pane``): Security's first visit
builds and loads its password tab only, Settings its first three; a digit, ``>`` or a click on
a tab builds that tab, shows its data and focuses its list, as before."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TabbedContent

from core.db.engine import Database
from core.services import privacy
from tests.tui.auth_helpers import open_screen, settle, wait_for
from tests.tui.dash_helpers import WIDE, dashboard, signed_in, trader
from tui.screens.security import (
    DevicesPane,
    HistoryPane,
    PasswordPane,
    SecurityScreen,
    SessionsPane,
)
from tui.screens.settings import SettingsScreen
from tui.widgets.table import KeyedTable


async def test_security_builds_a_tab_when_it_is_first_shown(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    async with signed_in(migrated_url, tmp_path, seeded, size=WIDE) as (app, pilot):
        screen = await open_screen(pilot, "f2", SecurityScreen)
        assert screen.query(PasswordPane)
        assert not screen.query(SessionsPane) and not screen.query(HistoryPane)

        await pilot.press("3")  # a digit: built, loaded, its list focused
        await settle(pilot)
        sessions = screen.query_one("#sessions-table", KeyedTable)
        assert sessions.row_count == 1  # this very session
        assert app.focused is sessions

        await pilot.press("greater_than_sign")  # the next tab the same way
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "devices"
        assert screen.query(DevicesPane) and app.focused is screen.query_one("#devices-table")
        assert not screen.query(HistoryPane)

        await pilot.click("#--content-tab-history")  # a click on the tab strip
        await wait_for(pilot, lambda: bool(screen.query("#history-table")), what="history")
        await settle(pilot)
        assert screen.query_one("#history-table", KeyedTable).row_count >= 1


async def test_settings_lists_earlier_exports_when_their_tab_first_shows(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    seeded = await trader(db, history=False)
    done = await privacy.request_export(db, seeded.actor, "all", clock=seeded.auth.clock)
    app = dashboard(migrated_url, tmp_path, seeded)
    try:
        async with app.run_test(size=WIDE) as pilot:
            await settle(pilot)
            screen = await open_screen(pilot, "f4", SettingsScreen)
            assert not screen.query("#exports")  # loaded, not built
            for _ in range(3):  # profile → display → privacy → data export
                await pilot.press("ctrl+pagedown")
                await settle(pilot)
            assert screen.query_one(TabbedContent).active == "export"
            exports = screen.query_one("#exports", KeyedTable)
            assert exports.row_count == 1 and app.focused is exports
    finally:
        if done.file_url:
            Path(done.file_url).unlink(missing_ok=True)
