"""The signed-in home screen, driven with Pilot against the real test database."""

from pathlib import Path

from textual.widgets import Static

from core.db.engine import Database
from core.services import accounts
from tests.tui.auth_helpers import (
    DEVICE,
    PASSWORD,
    make_app,
    make_auth,
    screen_text,
    settle,
    type_into,
)
from tui.app import BlockbotXApp
from tui.screens.login import LoginScreen
from tui.screens.welcome import WelcomeScreen


async def test_home_shows_database_and_schema_after_sign_in(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    auth = make_auth()
    await accounts.register(
        db, email="home@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    app = make_app(migrated_url, tmp_path, auth)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#email", "home@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        status = str(app.screen.query_one("#db-status", Static).render())
        assert "PostgreSQL" in status
        assert "up to date" in status
        assert "tables" in status
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_unreachable_database_is_reported_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://nobody:secret@127.0.0.1:1/none"
    app = make_app(url, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        text = screen_text(app)
        assert "Database unavailable" in text
        assert "secret" not in text


__all__ = ["BlockbotXApp"]
