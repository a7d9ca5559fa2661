"""How the sign-in and security screens look (120×40, frozen clock, fixed secret, no blink).

Each app seeds its data in ``run_before``, inside the app's own event loop, through the same
services the screens use.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from sqlalchemy import update
from textual.widgets import Input

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.users import User
from core.security import totp
from core.security.device import describe
from core.services import accounts, twofactor
from core.services.actor import SYSTEM
from tests.tui.auth_helpers import (
    DEVICE,
    FIXED_SECRET,
    PASSWORD,
    make_app,
    make_auth,
    settle,
    type_into,
)
from tui.app import BlockbotXApp

SIZE = (120, 40)


def seed(url: str, auth, fill) -> None:  # type: ignore[no-untyped-def]
    """Put data in the database before the app starts (in a loop of its own)."""

    async def go() -> None:
        database = Database(url)
        try:
            await fill(database, auth)
        finally:
            await database.dispose()

    asyncio.run(go())


def no_blink(app: BlockbotXApp) -> None:
    for field in app.screen.query(Input):
        field.cursor_blink = False


async def _register(app: BlockbotXApp, email: str = "ops@example.com") -> accounts.AuthSession:
    await accounts.register(app.db, email=email, password=PASSWORD, device=DEVICE, auth=app.auth)
    step = await accounts.login(
        app.db, email=email, password=PASSWORD, device=DEVICE, auth=app.auth
    )
    return step.session


async def _sign_in_form(pilot, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await type_into(pilot, "#email", email)
    await type_into(pilot, "#password", password)
    await pilot.press("enter")
    await settle(pilot)


def test_login_first_account(db: Database, migrated_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        no_blink(pilot.app)

    assert snap_compare(make_app(migrated_url, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_login_locked(db: Database, migrated_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    auth = make_auth()

    async def fill(database: Database, auth) -> None:  # type: ignore[no-untyped-def]
        for email in ("root@example.com", "ann@example.com"):
            await accounts.register(
                database, email=email, password=PASSWORD, device=DEVICE, auth=auth
            )
        for _ in range(4):
            with contextlib.suppress(accounts.AuthenticationFailed):
                await accounts.login(
                    database,
                    email="ann@example.com",
                    password="wrong guess",
                    device=DEVICE,
                    auth=auth,
                )

    seed(migrated_url, auth, fill)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _sign_in_form(pilot, "ann@example.com", "still-a-wrong-guess")
        await pilot.pause(1.2)  # the countdown ticks once
        no_blink(pilot.app)

    assert snap_compare(
        make_app(migrated_url, tmp_path, auth), terminal_size=SIZE, run_before=run_before
    )


def test_register_first_account(
    db: Database, migrated_url: str, tmp_path: Path, snap_compare
) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await type_into(pilot, "#email", "root@example.com")
        await type_into(pilot, "#password", "too short")
        await type_into(pilot, "#repeat", "too short")
        await pilot.press("enter")
        await settle(pilot)
        no_blink(pilot.app)

    assert snap_compare(make_app(migrated_url, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_forced_password_after_reset_token(
    db: Database, migrated_url: str, tmp_path: Path, snap_compare
) -> None:  # type: ignore[no-untyped-def]
    auth = make_auth()
    issued = []

    async def fill(database: Database, auth) -> None:  # type: ignore[no-untyped-def]
        await accounts.register(
            database, email="ops@example.com", password=PASSWORD, device=DEVICE, auth=auth
        )
        issued.append(await accounts.issue_reset_token(database, SYSTEM, "ops@example.com", auth))

    seed(migrated_url, auth, fill)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _sign_in_form(pilot, "ops@example.com", issued[0].token)
        no_blink(pilot.app)

    assert snap_compare(
        make_app(migrated_url, tmp_path, auth), terminal_size=SIZE, run_before=run_before
    )


def test_two_factor_modal(db: Database, migrated_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    auth = make_auth()

    async def fill(database: Database, auth) -> None:  # type: ignore[no-untyped-def]
        await accounts.register(
            database, email="ops@example.com", password=PASSWORD, device=DEVICE, auth=auth
        )
        me = (
            await accounts.login(
                database, email="ops@example.com", password=PASSWORD, device=DEVICE, auth=auth
            )
        ).session
        await twofactor.begin_enrolment(database, me.actor, auth)
        await twofactor.confirm_enrolment(
            database, me.actor, totp.code_at(FIXED_SECRET, totp.time_step(auth.now())), auth
        )

    seed(migrated_url, auth, fill)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _sign_in_form(pilot, "ops@example.com", PASSWORD)
        no_blink(pilot.app)

    assert snap_compare(
        make_app(migrated_url, tmp_path, auth), terminal_size=SIZE, run_before=run_before
    )


async def _security(pilot, tab: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    clock: FrozenClock = app.auth.clock  # type: ignore[assignment]
    me = await _register(app)
    clock.advance(hours=2)
    laptop = describe(ip="198.51.100.7", terminal="tmux", host="laptop", os_user="ops")
    await accounts.login(
        app.db, email="ops@example.com", password=PASSWORD, device=laptop, auth=app.auth
    )
    clock.advance(minutes=30)
    app.signed_in(me, remember=False)
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press(tab)
    await settle(pilot)


def test_security_sessions(db: Database, migrated_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _security(pilot, "3")
        no_blink(pilot.app)

    assert snap_compare(make_app(migrated_url, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_security_two_factor_enrolment(
    db: Database, migrated_url: str, tmp_path: Path, snap_compare
) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _security(pilot, "2")
        await pilot.press("enter")
        await settle(pilot)
        no_blink(pilot.app)

    assert snap_compare(make_app(migrated_url, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_security_api_keys(db: Database, migrated_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _security(pilot, "6")
        await type_into(pilot, "#key-name", "grafana")
        no_blink(pilot.app)

    assert snap_compare(make_app(migrated_url, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_security_password(db: Database, migrated_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _security(pilot, "1")
        await type_into(pilot, "#current", "not my password")
        await type_into(pilot, "#new", "another-fine-passphrase")
        await type_into(pilot, "#repeat", "another-fine-passphrase")
        await pilot.press("enter")
        await settle(pilot)
        no_blink(pilot.app)

    assert snap_compare(make_app(migrated_url, tmp_path), terminal_size=SIZE, run_before=run_before)


__all__ = ["User", "make_auth", "update"]
