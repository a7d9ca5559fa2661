"""The signed-in shell: home screen, help, navigation keys, keymap overrides, live banner."""

from __future__ import annotations

from pathlib import Path

from core.db.engine import Database
from core.events import Event, bus
from core.services import accounts
from tests.tui.auth_helpers import DEVICE, PASSWORD, make_app, make_auth, screen_text, settle
from tui import navigation
from tui.app import BlockbotXApp
from tui.keymap import resolve
from tui.screens.help import HelpScreen
from tui.screens.overview import OverviewScreen
from tui.widgets.banner import ReconnectBanner


async def signed_in(db: Database, url: str, tmp: Path, **kwargs) -> BlockbotXApp:  # type: ignore[no-untyped-def]
    auth = make_auth()
    await accounts.register(
        db, email="home@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    step = await accounts.login(
        db, email="home@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    app = make_app(url, tmp, auth, **kwargs)
    app.remembered.save(step.session.refresh_token)
    return app


async def test_home_after_sign_in_help_and_quit(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    app = await signed_in(db, migrated_url, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert app.current_mode == navigation.HOME
        assert "0 unread" in screen_text(app)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        help_screen = app.screen
        assert any(line.what == "Chart the last 7 days" for line in help_screen.here)
        assert any(
            line.binding_id == "nav.overview" and line.keys == "1"
            for line in help_screen.everywhere
        )
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_reconnecting_banner_follows_connection_events(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    app = await signed_in(db, migrated_url, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        banner = app.screen.query_one(ReconnectBanner)
        assert not banner.display
        bus.publish(Event("connection", data={"state": "reconnecting"}))
        await pilot.pause(0.05)
        assert banner.display
        bus.publish(Event("connection", data={"state": "connected"}))
        await pilot.pause(0.05)
        assert not banner.display


def test_keymap_overrides_are_checked() -> None:
    known = {"nav.overview", "app.help"}
    resolved = resolve(
        {"nav.overview": "h", "app.nope": "x", "bots.start": "ctrl+s", "app.help": "ctrl+?!"},
        known,
    )
    assert resolved.bindings == {"nav.overview": "h", "bots.start": "ctrl+s"}
    assert len(resolved.problems) == 2
    assert "app.nope" in resolved.problems[0] and "ctrl+?!" in resolved.problems[1]
