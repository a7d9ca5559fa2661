"""Settings: profile saved (a bad field marked, nothing saved), theme applied and stored,
privacy saved, a GDPR export with its progress, the way to Security; snapshots."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from textual.widgets import Checkbox, Input, ProgressBar, Select, TabbedContent

from core.db.engine import Database
from core.db.models.users import DataExport, PrivacySettings, User
from core.services.actor import Actor
from core.services.profile import ProfileView
from tests.service_users import add_user
from tests.tui.screen_helpers import NOW, WIDE, ScreenApp, no_blink, seed, settle
from tui.screens.security import SecurityScreen
from tui.screens.settings import SettingsScreen, apply_display


async def _me(db: Database) -> Actor:
    return await add_user(db, "ann@example.com", id="ann0000000000000000000001",
                          first_name="Ann", last_name="Lee", company="Lee Capital",
                          timezone="Europe/Paris", theme="dark",
                          created_at=NOW - timedelta(days=30))  # fmt: skip


async def test_profile_theme_privacy_export_and_security(db: Database, migrated_url: str) -> None:
    me = await _me(db)
    app = ScreenApp(migrated_url, me, SettingsScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#field-phone", Input).value = "call me maybe"
        screen.query_one("#field-position", Input).value = "Trader"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "phone" in str(screen.query_one("#form-error").render()).lower()
        assert screen.query_one("#field-phone").has_class("-invalid-field")
        async with db.session() as s:
            assert (await s.get(User, me.user_id)).position is None  # nothing saved
        screen.query_one("#field-phone", Input).value = "+33 1 23 45 67 89"
        await pilot.press("ctrl+s")
        await settle(pilot)
        async with db.session() as s:
            user = await s.get(User, me.user_id)
            assert (user.phone, user.position) == ("+33 1 23 45 67 89", "Trader")

        await pilot.press("ctrl+pagedown")  # to Display, from inside a field
        await settle(pilot)
        assert screen.query_one("#tabs", TabbedContent).active == "display"
        screen.query_one("#theme", Select).value = "blockbotx-light"
        await settle(pilot)
        assert app.theme == "blockbotx-light"
        screen.query_one("#field-timezone", Input).value = "Asia/Tokyo"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.user_zone == ZoneInfo("Asia/Tokyo")  # type: ignore[attr-defined]
        async with db.session() as s:
            user = await s.get(User, me.user_id)
            assert (user.theme, user.timezone) == ("blockbotx-light", "Asia/Tokyo")

        await pilot.press("ctrl+pagedown")  # to Privacy
        await settle(pilot)
        screen.query_one("#field-profile_visibility", Select).value = "public"
        screen.query_one("#field-marketing_emails_consent", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        async with db.session() as s:
            privacy = await s.scalar(select(PrivacySettings))
            assert privacy is not None
            assert (privacy.profile_visibility, privacy.marketing_emails_consent) == (
                "public",
                True,
            )

        await pilot.press("ctrl+e")  # export everything
        await settle(pilot)
        bar = screen.query_one("#export-progress", ProgressBar)
        assert bar.percentage == 1
        assert screen.query_one("#exports").row_count == 1
        async with db.session() as s:
            export = await s.scalar(select(DataExport))
        assert export is not None and export.status == "completed"
        assert export.file_url and Path(export.file_url).exists()
        Path(export.file_url).unlink()

        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, SecurityScreen)


def test_stored_theme_and_zone_apply(db: Database, migrated_url: str) -> None:  # type: ignore[no-untyped-def]
    class Probe:
        available_themes = ("blockbotx-dark", "blockbotx-light")
        theme = "blockbotx-dark"
        user_zone = None

    probe = Probe()
    view = ProfileView(email="a@b.c", first_name=None, last_name=None, bio=None, phone=None,
                       location=None, website=None, company=None, position=None,
                       timezone="America/New_York", language="en", theme="light", currency="USD")  # fmt: skip
    apply_display(probe, view)  # type: ignore[arg-type]
    assert probe.theme == "blockbotx-light"  # the seed's "light" means ours
    assert probe.user_zone == ZoneInfo("America/New_York")
    apply_display(probe, view.model_copy(update={"theme": "no-such-theme", "timezone": None}))  # type: ignore[arg-type]
    assert probe.theme == "blockbotx-light" and probe.user_zone is None


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    no_blink(pilot.app)


def test_profile_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    me = seed(migrated_url, _me)
    assert snap_compare(
        ScreenApp(migrated_url, me, SettingsScreen), terminal_size=WIDE, run_before=_ready
    )


def test_display_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    me = seed(migrated_url, _me)

    async def display(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("ctrl+pagedown")
        await _ready(pilot)

    assert snap_compare(
        ScreenApp(migrated_url, me, SettingsScreen), terminal_size=WIDE, run_before=display
    )


def test_privacy_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    me = seed(migrated_url, _me)

    async def privacy(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("ctrl+pagedown", "ctrl+pagedown")
        await _ready(pilot)

    assert snap_compare(
        ScreenApp(migrated_url, me, SettingsScreen), terminal_size=WIDE, run_before=privacy
    )
