"""Administration: only administrators reach it (not by key, not by the command palette); an
admin suspends, then unbans a user, notes, blocks an address and switches maintenance on;
snapshots of the users list, a user's page and the audit log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text
from textual.command import CommandList, CommandPalette
from textual.widgets import Checkbox, Input, Select, TextArea

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.admin import AuditLog, BlockedIP, SystemSettings
from core.db.models.users import User
from core.services import accounts, admin
from core.services.actor import Actor, Role
from tests.service_users import add_user
from tests.tui.auth_helpers import DEVICE, PASSWORD, make_app, make_auth, palette_hits, wait_for
from tests.tui.screen_helpers import NOW, WIDE, ScreenApp, no_blink, seed, settle
from tui.app import BlockbotXApp
from tui.modals.form import FormModal
from tui.screens.admin import AdminScreen
from tui.screens.admin_users import UserScreen

ANN = "ann0000000000000000000001"


async def _signed_in_as_user(
    db: Database, url: str, tmp: Path, email: str = "ann@example.com"
) -> BlockbotXApp:
    auth = make_auth()
    for address in ("root@example.com", "ann@example.com"):  # the first account is superadmin
        await accounts.register(db, email=address, password=PASSWORD, device=DEVICE, auth=auth)
    step = await accounts.login(db, email=email, password=PASSWORD, device=DEVICE, auth=auth)
    app = make_app(url, tmp, auth, listen=False)
    app.remembered.save(step.session.refresh_token)
    return app


async def test_a_user_cannot_reach_admin_by_key_or_palette(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    app = await _signed_in_as_user(db, migrated_url, tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.actor is not None and not app.actor.is_admin
        home = app.current_mode
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == home and not isinstance(app.screen, AdminScreen)
        app.action_go("admin")  # however it is asked for
        await settle(pilot)
        assert app.current_mode == home
        assert any("needs an administrator" in n.message for n in app._notifications)

        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"go to")
        await wait_for(pilot, lambda: palette_hits(app), what="palette hits")
        hits = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert any("Support" in h for h in hits)  # the palette works...
        assert not any("Admin" in h for h in hits)  # ...and offers no admin screen
        await pilot.press("ctrl+a", "backspace", *"admin")
        await pilot.pause(0.5)
        hits = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert not any("Admin" in h for h in hits)
        await pilot.press("escape")

        # Even shown directly, the screen refuses and its services would too.
        await app.push_screen(AdminScreen())
        await settle(pilot)
        assert "needs an administrator" in str(app.screen.query_one("#refused").render())
        assert not app.screen.query("#users-table")


async def test_an_admin_opens_a_user_from_the_palette(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    app = await _signed_in_as_user(db, migrated_url, tmp_path, email="root@example.com")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"user ann@")
        await wait_for(
            pilot, lambda: "ann@example.com" in " ".join(palette_hits(app)), what="user hit"
        )
        hits = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert hits and "Admin: user ann@example.com" in hits[0]
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "admin"
        assert isinstance(app.screen, UserScreen)
        assert "ann@example.com" in str(app.screen.query_one("#user-facts").render())


async def _people(db: Database) -> tuple[Actor, Actor]:
    root = await add_user(db, "root@example.com", role=Role.SUPERADMIN, first_name="Root",
                          id="root000000000000000000001", created_at=NOW - timedelta(days=90))  # fmt: skip
    ops = await add_user(db, "ops@example.com", role=Role.ADMIN, id="ops0000000000000000000001",
                         created_at=NOW - timedelta(days=60))  # fmt: skip
    await add_user(db, "ann@example.com", first_name="Ann", last_name="Lee", id=ANN,
                         created_at=NOW - timedelta(days=30))  # fmt: skip
    await add_user(db, "bob@example.com", id="bob0000000000000000000001",
                   created_at=NOW - timedelta(days=10))  # fmt: skip
    return root, ops


async def _history(db: Database) -> Actor:
    root, ops = await _people(db)
    clock = FrozenClock(NOW - timedelta(days=2))
    for fn, args, kwargs in (
        (admin.suspend_user, ("bob0000000000000000000001",),
         {"until": NOW + timedelta(days=5), "reason": "Chargeback under review"}),
        (admin.add_note, (ANN, "Asked for an invoice with the company name."), {"category": "billing"}),
        (admin.block_ip, ("203.0.113.9",), {"reason": "Credential stuffing"}),
    ):  # fmt: skip
        clock.advance(hours=1)
        async with db.sessions.begin() as s:
            await fn(s, ops, *args, clock=clock, **kwargs)
    clock.advance(hours=1)
    async with db.sessions.begin() as s:
        # Fixed ids for the snapshots: the note's (shown in the audit details), and a stored
        # update time unlike the one written next (an unchanged value would let the column's
        # ON UPDATE now() win).
        await s.execute(text("UPDATE admin_notes SET id = 'note000000000000000000001'"))
        await s.execute(text(
            "UPDATE audit_logs SET details = jsonb_set(details, '{note_id}', "
            "'\"note000000000000000000001\"') WHERE action = 'admin_note_added'"
        ))  # fmt: skip
        await s.execute(text("UPDATE system_settings SET updated_at = '2000-01-01T00:00:00Z'"))
    async with db.sessions.begin() as s:
        await admin.update_system_settings(s, root, maintenance_message="Database upgrade on "
                                           "Sunday 02:00-03:00 UTC", clock=clock)  # fmt: skip
    return root


async def test_admin_suspends_then_unbans_a_user(db: Database, migrated_url: str) -> None:
    root, _ops = await _people(db)
    app = ScreenApp(migrated_url, root, AdminScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"ann@")
        table = app.screen.query_one("#users-table")
        await wait_for(pilot, lambda: table.row_count == 1, what="filtered users")
        assert table.row_count == 1
        await pilot.press("enter")  # back to the list, then open the user
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, UserScreen)
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        await pilot.press("ctrl+s")  # no reason: refused
        await settle(pilot)
        assert "Give a reason" in str(form.query_one("#form-error").render())
        form.query_one("#field-duration", Select).value = "7d"
        form.query_one("#field-reason", TextArea).load_text("Abusive messages to support")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, UserScreen)
        assert "suspended until 2026-01-08 12:00" in str(
            app.screen.query_one("#user-facts").render()
        )

        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#field-content", TextArea).load_text("Warned by email first.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.query_one("#notes").row_count == 1

        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Status active" in str(app.screen.query_one("#user-facts").render())
    async with db.session() as s:
        user = await s.get(User, ANN)
        assert user is not None and user.status == "active" and user.suspended_until is None
        actions = list(await s.scalars(select(AuditLog.action)))
    # the app's clock is frozen: the three rows share one timestamp, so their order is no fact
    assert sorted(actions) == ["admin_note_added", "admin_user_suspended", "admin_user_unbanned"]


async def test_admin_blocks_an_address_and_turns_maintenance_on(
    db: Database, migrated_url: str
) -> None:
    root, _ops = await _people(db)
    app = ScreenApp(migrated_url, root, AdminScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        for _ in range(3):  # users → audit → security log → blocked IPs
            await pilot.press("greater_than_sign")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        form = app.screen
        form.query_one("#field-ip_address", Input).value = "not an ip"
        form.query_one("#field-reason", Input).value = "Scanner"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "not an IPv4 or IPv6 address" in str(form.query_one("#form-error").render())
        form.query_one("#field-ip_address", Input).value = "2001:db8::1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.query_one("#blocked-table").row_count == 1

        await pilot.press("greater_than_sign")
        await settle(pilot)
        app.screen.query_one("#maintenance", Checkbox).value = True
        app.screen.query_one("#maintenance-message", Input).value = "Upgrading, back at 14:00 UTC"
        await pilot.press("ctrl+s")
        await settle(pilot)
    async with db.session() as s:
        blocked = await s.scalar(select(BlockedIP))
        assert blocked is not None and blocked.ip_address == "2001:db8::1"
        assert blocked.expires_at == NOW + timedelta(hours=24)
        settings = await s.get(SystemSettings, "singleton")
        assert settings is not None and settings.maintenance_mode
        assert settings.maintenance_message == "Upgrading, back at 14:00 UTC"


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    no_blink(pilot.app)


def test_users_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    root = seed(migrated_url, _history)
    assert snap_compare(
        ScreenApp(migrated_url, root, AdminScreen), terminal_size=WIDE, run_before=_ready
    )


def test_user_page_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    root = seed(migrated_url, _history)
    app = ScreenApp(migrated_url, root, lambda: UserScreen(ANN))
    assert snap_compare(app, terminal_size=WIDE, run_before=_ready)


def test_audit_log_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    root = seed(migrated_url, _history)

    async def audit_tab(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("greater_than_sign")
        await _ready(pilot)

    assert snap_compare(
        ScreenApp(migrated_url, root, AdminScreen), terminal_size=WIDE, run_before=audit_tab
    )


def test_system_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    root = seed(migrated_url, _history)

    async def system_tab(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("less_than_sign")
        await _ready(pilot)

    assert snap_compare(
        ScreenApp(migrated_url, root, AdminScreen), terminal_size=WIDE, run_before=system_tab
    )
