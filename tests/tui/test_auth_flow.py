"""Sign-in, registration, 2FA, forced password change and sign-out, driven with Pilot against
the real test database."""

from __future__ import annotations

import asyncio
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from textual.widgets import Input
from textual.worker import Worker, WorkerState, get_current_worker

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.users import User
from core.security import totp
from core.services import accounts, twofactor
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
from tui.modals.two_factor_code import TwoFactorCodeModal
from tui.screens.forced_password import ForcedPasswordScreen
from tui.screens.login import LoginScreen
from tui.screens.overview import OverviewScreen
from tui.screens.register import RegisterScreen


async def test_first_registration_signs_in_as_superadmin_then_logs_out(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    app = make_app(migrated_url, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "first one, which becomes the superadmin" in screen_text(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, RegisterScreen)
        await type_into(pilot, "#email", "root@example.com", keys=True)
        await type_into(pilot, "#password", PASSWORD)
        await type_into(pilot, "#repeat", PASSWORD + "x")
        await pilot.press("enter")
        await settle(pilot)
        assert "differ" in screen_text(app)
        assert app.screen.query_one("#password", Input).value == ""  # not kept on screen
        await type_into(pilot, "#password", PASSWORD)
        await type_into(pilot, "#repeat", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert app.actor is not None and app.actor.role.value == "superadmin"
        assert app.sub_title == "root@example.com · superadmin"
        token_file = app.remembered.path
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen) and app.actor is None
        assert "signed out" in screen_text(app)
        assert not token_file.exists()


async def test_wrong_passwords_lock_with_the_time_left(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    clock = FrozenClock()
    auth = make_auth(clock)
    await accounts.register(
        db, email="ann@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    app = make_app(migrated_url, tmp_path, auth)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#email", "ann@example.com")
        for i in range(5):
            await type_into(pilot, "#password", f"not-it-{i}")
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen.query_one("#password", Input).value == ""
        text = screen_text(app)
        # The refusal, or the countdown that replaces it within a second.
        assert "locked for 15 more minutes" in text or "try again in 15:00" in text
        assert "not-it-4" not in text
        clock.advance(minutes=14, seconds=30)
        await wait_for(pilot, lambda: "try again in 0:30" in screen_text(app), what="countdown")
        clock.advance(seconds=31)
        await wait_for(
            pilot, lambda: "You can try again now" in screen_text(app), what="the lock to lift"
        )
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)


async def test_remembered_session_skips_the_login(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    auth = make_auth()
    await accounts.register(db, email="bo@example.com", password=PASSWORD, device=DEVICE, auth=auth)
    first = make_app(migrated_url, tmp_path, auth)
    async with first.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#email", "bo@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(first.screen, OverviewScreen)
    saved = first.remembered.load()
    second = make_app(migrated_url, tmp_path, auth)
    async with second.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert isinstance(second.screen, OverviewScreen)
        assert second.account.email == "bo@example.com"
    assert second.remembered.load() not in (None, saved)  # rotated on use
    # The spent token, presented again, is refused (and ends every session of the account).
    second.remembered.save(saved)
    third = make_app(migrated_url, tmp_path, auth)
    async with third.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert isinstance(third.screen, LoginScreen)
    assert third.remembered.load() is None


async def test_a_remembered_session_signing_in_before_registration_is_known_keeps_the_app(
    db: Database, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sign-in screen asks whether registration is open once it is drawn; a remembered
    session can sign in and pop the screen before the answer comes. An answer that comes as the
    screen's widgets are removed is dropped (it failed its worker, which ended the app: a
    flaky first step of many dashboard tests)."""
    auth = make_auth()
    await accounts.register(db, email="bo@example.com", password=PASSWORD, device=DEVICE, auth=auth)
    step = await accounts.login(
        db, email="bo@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    asking: list[Worker[Any]] = []
    real = accounts.registration_status

    async def late(*args: Any, **kwargs: Any) -> Any:
        worker = get_current_worker()
        asking.append(worker)
        status = await real(*args, **kwargs)
        while worker.node.query("#register"):  # until the popped screen's widgets are gone
            await asyncio.sleep(0)
        return status

    monkeypatch.setattr(accounts, "registration_status", late)
    app = make_app(migrated_url, tmp_path, auth)
    app.remembered.save(step.session.refresh_token)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), what="signed in")
        await wait_for(pilot, lambda: bool(asking) and asking[0].is_finished, what="the answer")
        assert asking[0].state == WorkerState.SUCCESS
        assert app.is_running and isinstance(app.screen, OverviewScreen)


async def test_two_factor_modal_takes_a_code_or_a_backup_code(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    clock = FrozenClock()
    auth = make_auth(clock)
    await accounts.register(db, email="cy@example.com", password=PASSWORD, device=DEVICE, auth=auth)
    me = (
        await accounts.login(
            db, email="cy@example.com", password=PASSWORD, device=DEVICE, auth=auth
        )
    ).session
    await twofactor.begin_enrolment(db, me.actor, auth)
    backup = await twofactor.confirm_enrolment(
        db, me.actor, totp.code_at(FIXED_SECRET, totp.time_step(clock.now())), auth
    )
    clock.advance(seconds=30)
    app = make_app(migrated_url, tmp_path, auth)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#email", "cy@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TwoFactorCodeModal)
        await type_into(
            pilot,
            "#code",
            "000000"
            if totp.code_at(FIXED_SECRET, totp.time_step(clock.now())) != "000000"
            else "111111",
        )
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TwoFactorCodeModal)
        assert "wrong or was already used" in screen_text(app)
        await type_into(pilot, "#code", backup.codes[0])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert backup.codes[0] not in screen_text(app)


async def test_forced_password_change_at_sign_in(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    auth = make_auth()
    reg = await accounts.register(
        db, email="di@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    async with db.session() as s, s.begin():
        await s.execute(
            update(User).where(User.id == reg.account.id).values(force_password_reset=True)
        )
    app = make_app(migrated_url, tmp_path, auth)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#email", "di@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ForcedPasswordScreen)
        await type_into(pilot, "#new", "short")
        await type_into(pilot, "#repeat", "short")
        await pilot.press("enter")
        await settle(pilot)
        assert "at least 12" in screen_text(app)
        await type_into(pilot, "#new", NEW_PASSWORD)
        await type_into(pilot, "#repeat", NEW_PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)


async def test_banned_account_sees_the_reason(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    auth = make_auth()
    reg = await accounts.register(
        db, email="eve@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    async with db.session() as s, s.begin():
        await s.execute(
            update(User)
            .where(User.id == reg.account.id)
            .values(
                status="banned", banned_at=auth.now() - timedelta(days=1), banned_reason="abuse"
            )
        )
    app = make_app(migrated_url, tmp_path, auth)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await type_into(pilot, "#email", "eve@example.com")
        await type_into(pilot, "#password", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "banned: abuse" in screen_text(app)


async def test_registration_with_a_referral_code_links_the_referrer(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from core.db.models.referrals import Referral
    from core.db.models.users import User

    await accounts.register(db, email="first@example.com", password=PASSWORD, device=DEVICE)
    async with db.session() as s:
        code = await s.scalar(select(User.referral_code).where(User.email == "first@example.com"))
    assert code
    app = make_app(migrated_url, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await type_into(pilot, "#email", "friend@example.com")
        await type_into(pilot, "#referral", "NOT-A-CODE")
        await type_into(pilot, "#password", PASSWORD)
        await type_into(pilot, "#repeat", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RegisterScreen)  # refused, nothing made
        async with db.session() as s:
            assert await s.scalar(select(User.id).where(User.email == "friend@example.com")) is None
        await type_into(pilot, "#referral", code)
        await type_into(pilot, "#password", PASSWORD)
        await type_into(pilot, "#repeat", PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert app.actor is not None
    async with db.session() as s:
        referral = await s.scalar(select(Referral))
        friend = await s.scalar(select(User.id).where(User.email == "friend@example.com"))
    assert referral is not None and referral.referred_id == friend
