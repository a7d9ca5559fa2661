"""The Security settings screen, driven by keyboard with Pilot against the real database."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from core.clock import FrozenClock
from core.db.engine import Database
from core.security import totp
from core.security.device import describe
from core.services import accounts, api_keys, sessions, twofactor
from tests.tui.auth_helpers import (
    DEVICE,
    FIXED_SECRET,
    NEW_PASSWORD,
    PASSWORD,
    make_app,
    make_auth,
    screen_text,
    settle,
    type_into,
    wait_for,
)
from tui.modals.confirm import ConfirmModal
from tui.modals.show_once import ShowOnceModal
from tui.screens.overview import OverviewScreen
from tui.screens.security import SecurityScreen


async def signed_in_app(db: Database, url: str, tmp: Path, clock: FrozenClock):  # type: ignore[no-untyped-def]
    auth = make_auth(clock)
    await accounts.register(
        db, email="sec@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    here = (
        await accounts.login(
            db, email="sec@example.com", password=PASSWORD, device=DEVICE, auth=auth
        )
    ).session
    laptop = describe(ip="198.51.100.7", terminal="tmux", host="laptop", os_user="sec")
    clock.advance(minutes=5)
    there = (
        await accounts.login(
            db, email="sec@example.com", password=PASSWORD, device=laptop, auth=auth
        )
    ).session
    app = make_app(url, tmp, auth)
    app.remembered.save(here.refresh_token)
    return app, auth, there


async def test_security_screen_by_keyboard(db: Database, migrated_url: str, tmp_path: Path) -> None:
    clock = FrozenClock()
    app, auth, there = await signed_in_app(db, migrated_url, tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, SecurityScreen)

        # Sessions: two, end the laptop's.
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#sessions-table", DataTable)
        assert table.row_count == 2
        marks = [table.get_row_at(i)[0] for i in range(2)]
        assert sorted(marks) == ["", "●"]
        other_row = marks.index("")
        table.move_cursor(row=other_row)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.query_one("#sessions-table", DataTable).row_count == 1
        assert not await sessions.is_active(db, there.actor, auth)

        # Devices and history are listed.
        await pilot.press("4")
        await settle(pilot)
        assert app.screen.query_one("#devices-table", DataTable).row_count == 2
        await pilot.press("5")
        await settle(pilot)
        assert app.screen.query_one("#history-table", DataTable).row_count == 2

        # Two-factor: enrol with the QR code, confirm, see the backup codes once.
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.screen.query("#qr")), what="the QR code")
        assert "Key: JBSW Y3DP" in screen_text(app)
        await type_into(
            pilot, "#confirm-code", totp.code_at(FIXED_SECRET, totp.time_step(clock.now()))
        )
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ShowOnceModal), what="the backup codes"
        )
        codes = str(app.screen.query_one("#secret").render()).split()
        assert len(codes) == 10
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SecurityScreen)
        text = screen_text(app)
        assert "is on" in text and "Backup codes left: 10" in text
        assert FIXED_SECRET not in text and not app.screen.query("#qr")
        assert not any(code in text for code in codes)
        assert (await twofactor.status(db, app.actor)).enabled

        # API keys: create (shown once), then revoke.
        await pilot.press("6")
        await settle(pilot)
        await type_into(pilot, "#key-name", "grafana")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ShowOnceModal)
        key = str(app.screen.query_one("#secret").render()).strip()
        assert key.startswith("bbx_")
        await pilot.press("enter")
        await settle(pilot)
        keys = app.screen.query_one("#keys-table", DataTable)
        assert keys.row_count == 1 and key not in screen_text(app)
        keys.focus()
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        [listed] = await api_keys.list_api_keys(db, app.actor)
        assert listed.revoked_at is not None

        # Password: change it; the old one stops working.
        await pilot.press("1")
        await settle(pilot)
        await type_into(pilot, "#current", PASSWORD)
        await type_into(pilot, "#new", NEW_PASSWORD)
        await type_into(pilot, "#repeat", NEW_PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert PASSWORD not in screen_text(app)
        await pilot.press("escape")  # out of the password field first
        await settle(pilot)
        assert isinstance(app.screen, SecurityScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
    step = await accounts.login(
        db, email="sec@example.com", password=NEW_PASSWORD, device=DEVICE, auth=auth
    )
    assert isinstance(step, accounts.NeedsTwoFactor)
