"""The dashboard, driven with Pilot, with every data path going through PgBouncer in
transaction mode (no statement cache) and LISTEN on the direct connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import get_settings
from core.db.engine import Database
from core.services import accounts, support
from core.services.remembered import RememberedSession
from tests.tui.auth_helpers import (
    DEVICE,
    PASSWORD,
    make_auth,
    screen_text,
    settle,
    type_into,
    wait_for,
)
from tui.app import BlockbotXApp
from tui.screens.overview import OverviewScreen
from tui.widgets.banner import ReconnectBanner


@pytest.fixture
def direct_listen(monkeypatch: pytest.MonkeyPatch, migrated_url: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BLOCKBOTX_LISTEN_URL", migrated_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_sign_in_and_browse_through_pgbouncer(
    db: Database, bounced_db: Database, tmp_path: Path, direct_listen: None
) -> None:
    auth = make_auth()
    await accounts.register(
        db, email="ops@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    app = BlockbotXApp(
        Database(bounced_db.url, statement_cache=False),
        auth=auth,
        device=DEVICE,
        remembered=RememberedSession(
            bounced_db.url, directory=tmp_path / "sessions", use_keyring=False
        ),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#email", "ops@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert app.actor is not None

        # A write and reads through the pool: open a ticket via the service, see it on screen.
        async with app.db.sessions.begin() as s:
            await support.open_ticket(
                s, app.actor, subject="Through the bouncer", category="technical",
                priority="normal", message="Hello",
            )  # fmt: skip
        await pilot.press("0")
        await settle(pilot)
        assert "My tickets · 1 ticket" in screen_text(app)
        # LISTEN can't go through the bouncer: the app's listener used the direct URL.
        await wait_for(pilot, lambda: app.connection == "connected", what="the listener")
        banner = app.screen.query_one(ReconnectBanner)
        assert not banner.has_class("-lost") and not banner.display
        await pilot.press("f2")  # security: sessions, devices, history
        await settle(pilot)
        assert "ops@example.com" in app.sub_title
        await pilot.press("ctrl+q")
