"""The signed-in shell: home screen, help, navigation keys, keymap overrides, live banner."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from core.db.engine import Database
from core.db.models.support import HelpArticle
from core.db.models.templates import BotTemplate
from core.db.models.users import User
from core.events import Event, bus
from core.services import accounts
from tests.tui.auth_helpers import (
    DEVICE,
    PASSWORD,
    make_app,
    make_auth,
    palette_hits,
    screen_text,
    settle,
    wait_for,
)
from themes import DEFAULT_THEME
from tui import navigation
from tui.app import BlockbotXApp
from tui.keymap import resolve
from tui.screens.help import HelpScreen
from tui.screens.login import LoginScreen
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


async def test_the_stored_theme_and_zone_apply_at_sign_in_and_go_at_sign_out(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    app = await signed_in(db, migrated_url, tmp_path)
    async with db.sessions.begin() as s:
        await s.execute(
            update(User).values(theme="light", timezone="Asia/Tokyo")  # as Settings stores them
        )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert (app.theme, app.user_zone) == ("blockbotx-light", ZoneInfo("Asia/Tokyo"))
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert (app.theme, app.user_zone) == (DEFAULT_THEME, None)


async def test_reference_data_is_refreshed_behind_the_login_screen(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    """``blockbotx`` leaves the (idempotent) reference data to the app when nothing was
    migrated, so the login screen doesn't wait for it."""
    app = make_app(migrated_url, tmp_path, make_auth(), refresh_reference_data=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(HelpArticle)) > 0
        assert await s.scalar(select(func.count()).select_from(BotTemplate)) > 0


async def test_registration_stores_the_dark_theme(db: Database) -> None:
    await accounts.register(
        db, email="new@example.com", password=PASSWORD, device=DEVICE, auth=make_auth()
    )
    async with db.session() as s:
        assert await s.scalar(select(User.theme)) == "dark"


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


async def test_palette_goes_to_a_bot_by_name_and_users_never_reach_admin(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    from textual.command import CommandPalette

    from core.services import bots
    from core.services.bot_views import BotSpec
    from tests.tui.dash_helpers import dashboard, seed_user
    from tests.tui.dash_helpers import trader as make_trader
    from tui.screens.bot_detail import BotDetailScreen

    await make_trader(db, history=False)  # the first account: superadmin
    auth = make_auth()
    user, token = await seed_user(db, auth, "user@example.com")
    async with db.sessions.begin() as s:
        await bots.create_bot(s, user, BotSpec(name="Night owl", type="dca"))
    from tests.tui.dash_helpers import Seeded

    app = dashboard(migrated_url, tmp_path, Seeded(auth, user, token, {}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not any(d.id == "admin" for d in navigation.allowed(app.actor))
        await pilot.press("f6")  # the admin key does nothing for a user
        await settle(pilot)
        assert app.current_mode == navigation.HOME
        app.action_go("admin")
        await settle(pilot)
        assert app.current_mode == navigation.HOME

        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"go to bot night")
        await wait_for(
            pilot,
            lambda: any("night" in h.lower() for h in palette_hits(app)),
            what="the bot in the palette",
        )
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BotDetailScreen) and app.current_mode == "bots"
        await pilot.press("ctrl+p")
        await pilot.press(*"go to admin")
        await pilot.pause(0.5)
        await settle(pilot)
        hits = [str(o.prompt) for o in app.screen.query("CommandList").first().options]  # type: ignore[attr-defined]
        assert not any("Go to Admin" in h for h in hits)


def test_no_color_is_honoured_and_p_and_l_keeps_its_sign(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from tui import format as fmt

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app("postgresql+asyncpg://nobody@127.0.0.1:1/none", tmp_path)
    assert app.no_color  # Textual renders in monochrome
    # ...so profit and loss must read right without their colours
    assert (fmt.money(Decimal("12.5"), sign=True), fmt.money(Decimal("-3.1"), sign=True)) == (
        "+12.50",
        "-3.10",
    )
    assert fmt.percent(Decimal("-0.456")) == "-0.46%"
