"""The first screen, driven with Pilot against the real test database."""

from textual.widgets import Static

from core.db.engine import Database
from tui.app import BlockbotXApp


async def test_first_screen_shows_database_and_schema(migrated_url: str) -> None:
    app = BlockbotXApp(Database(migrated_url))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(app.screen.query_one("#db-status", Static).render())
        assert "PostgreSQL" in status
        assert "up to date" in status
        assert "tables" in status
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_first_screen_reports_unreachable_database() -> None:
    app = BlockbotXApp(Database("postgresql+asyncpg://nobody:secret@127.0.0.1:1/none"))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(app.screen.query_one("#db-status", Static).render())
        assert "Database unavailable" in status
        assert "secret" not in status
