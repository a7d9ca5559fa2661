"""Refresh tokens (rotation, absolute expiry, theft detection), sign-out, password change and
reset, the forced change, and users kept apart from each other's sessions and devices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.users import Session, User
from core.errors import InvalidInput, NotFound
from core.security import tokens
from core.security.device import Device
from core.services import accounts, sessions
from core.services.actor import SYSTEM
from core.services.authconfig import AuthConfig
from core.services.lockout import BAD_CREDENTIALS, AuthenticationFailed
from tests.security.conftest import (
    OTHER_PASSWORD,
    PASSWORD,
    other_device,
    sign_in,
    signed_up_and_in,
    signup,
)


async def test_refresh_rotates_and_reuse_ends_every_session(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    first = await signed_up_and_in(db, auth, device, "ann@example.com")
    laptop = await sign_in(db, auth, other_device(), "ann@example.com")
    clock.advance(hours=1)
    second = await accounts.refresh(db, first.refresh_token, device=device, auth=auth)
    assert second.refresh_token != first.refresh_token
    assert second.actor.session_id != first.actor.session_id
    assert second.expires_at == first.expires_at  # absolute: not extended by refreshing
    async with db.session() as s:
        stored = (await s.scalars(select(Session.refresh_token))).all()
    assert first.refresh_token not in stored and tokens.hash_token(second.refresh_token) in stored
    assert [x.current for x in await sessions.list_sessions(db, second.actor, auth)].count(
        True
    ) == 1
    # The spent token is presented again: someone copied it. Every session ends.
    with pytest.raises(AuthenticationFailed, match="used twice"):
        await accounts.refresh(db, first.refresh_token, device=other_device("192.0.2.9"), auth=auth)
    for token in (second.refresh_token, laptop.refresh_token):
        with pytest.raises(AuthenticationFailed, match="session has ended"):
            await accounts.refresh(db, token, device=device, auth=auth)
    assert await sessions.list_sessions(db, second.actor, auth) == []
    assert not await sessions.is_active(db, laptop.actor, auth)


async def test_sessions_expire_seven_days_after_sign_in(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    session = await signed_up_and_in(db, auth, device, "bea@example.com")
    assert session.expires_at == clock.now() + timedelta(days=7)
    clock.advance(days=6, hours=23)
    session = await accounts.refresh(db, session.refresh_token, device=device, auth=auth)
    clock.advance(hours=1)
    with pytest.raises(AuthenticationFailed, match="session has ended"):
        await accounts.refresh(db, session.refresh_token, device=device, auth=auth)


async def test_logout_and_end_sessions(db: Database, auth: AuthConfig, device: Device) -> None:
    here = await signed_up_and_in(db, auth, device, "cy@example.com")
    there = await sign_in(db, auth, other_device(), "cy@example.com")
    listed = await sessions.list_sessions(db, here.actor, auth)
    assert {x.id for x in listed} == {here.actor.session_id, there.actor.session_id}
    assert next(x for x in listed if x.current).device.startswith("xterm-256color on desk")
    await sessions.end_session(db, here.actor, there.actor.session_id, auth)
    with pytest.raises(AuthenticationFailed):
        await accounts.refresh(db, there.refresh_token, device=device, auth=auth)
    with pytest.raises(NotFound):
        await sessions.end_session(db, here.actor, there.actor.session_id, auth)
    await accounts.logout(db, here.actor, auth)
    assert not await sessions.is_active(db, here.actor, auth)
    with pytest.raises(AuthenticationFailed, match="session has ended"):
        await accounts.refresh(db, here.refresh_token, device=device, auth=auth)


async def test_users_cannot_touch_each_others_sessions_devices_or_history(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    a = await signed_up_and_in(db, auth, device, "a@example.com")
    b = await signed_up_and_in(db, auth, other_device(), "b@example.com")
    with pytest.raises(NotFound):
        await sessions.end_session(db, a.actor, b.actor.session_id, auth)
    assert {x.id for x in await sessions.list_sessions(db, a.actor, auth)} == {a.actor.session_id}
    b_devices = await sessions.list_devices(db, b.actor)
    with pytest.raises(NotFound):
        await sessions.forget_device(db, a.actor, b_devices[0].id, auth)
    assert [d.name for d in await sessions.list_devices(db, a.actor)] == [device.name]
    assert all(r.ip_address == device.ip_address for r in await sessions.login_history(db, a.actor))
    assert await sessions.is_active(db, b.actor, auth)
    assert len(await sessions.list_devices(db, b.actor)) == 1
    await sessions.forget_device(db, b.actor, b_devices[0].id, auth)
    assert await sessions.list_devices(db, b.actor) == []


async def test_change_password_needs_the_current_one_and_ends_other_sessions(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    here = await signed_up_and_in(db, auth, device, "dee@example.com")
    there = await sign_in(db, auth, other_device(), "dee@example.com")
    with pytest.raises(AuthenticationFailed, match="current password is wrong"):
        await accounts.change_password(db, here.actor, "not-my-password", OTHER_PASSWORD, auth)
    with pytest.raises(InvalidInput, match="at least 12"):
        await accounts.change_password(db, here.actor, PASSWORD, "short", auth)
    assert await accounts.change_password(db, here.actor, PASSWORD, OTHER_PASSWORD, auth) == 1
    assert await sessions.is_active(db, here.actor, auth)
    assert not await sessions.is_active(db, there.actor, auth)
    with pytest.raises(AuthenticationFailed, match=BAD_CREDENTIALS):
        await sign_in(db, auth, device, "dee@example.com")
    await sign_in(db, auth, device, "dee@example.com", OTHER_PASSWORD)


async def test_forced_password_change_before_any_session(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    reg = await signup(db, auth, device, "eli@example.com")
    old = await sign_in(db, auth, device, "eli@example.com")
    async with db.session() as s, s.begin():
        await s.execute(
            update(User).where(User.id == reg.account.id).values(force_password_reset=True)
        )
    with pytest.raises(AuthenticationFailed, match="new password"):
        await accounts.refresh(db, old.refresh_token, device=device, auth=auth)
    step = await accounts.login(
        db, email="eli@example.com", password=PASSWORD, device=device, auth=auth
    )
    assert isinstance(step, accounts.NeedsNewPassword) and step.reason == "forced"
    with pytest.raises(InvalidInput, match="different"):
        await accounts.set_new_password(db, step.challenge, PASSWORD, device=device, auth=auth)
    done = await accounts.set_new_password(
        db, step.challenge, OTHER_PASSWORD, device=device, auth=auth
    )
    assert isinstance(done, accounts.SignedIn)
    # The challenge is bound to the old password: it can't be replayed.
    with pytest.raises(AuthenticationFailed, match="expired"):
        await accounts.set_new_password(
            db, step.challenge, "another-fine-passphrase", device=device, auth=auth
        )
    await sign_in(db, auth, device, "eli@example.com", OTHER_PASSWORD)


async def test_challenges_cannot_be_forged_or_outlive_five_minutes(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    reg = await signup(db, auth, device, "fin@example.com")
    async with db.session() as s, s.begin():
        await s.execute(
            update(User).where(User.id == reg.account.id).values(force_password_reset=True)
        )
    step = await accounts.login(
        db, email="fin@example.com", password=PASSWORD, device=device, auth=auth
    )
    from dataclasses import replace

    forged = replace(step.challenge, expires_at=step.challenge.expires_at + timedelta(hours=1))
    with pytest.raises(AuthenticationFailed, match="expired"):
        await accounts.set_new_password(db, forged, OTHER_PASSWORD, device=device, auth=auth)
    with pytest.raises(AuthenticationFailed, match="expired"):
        await accounts.verify_two_factor(db, step.challenge, "123456", device=device, auth=auth)
    clock.advance(minutes=5)
    with pytest.raises(AuthenticationFailed, match="expired"):
        await accounts.set_new_password(
            db, step.challenge, OTHER_PASSWORD, device=device, auth=auth
        )


async def test_reset_token_is_single_use_and_expires(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    reg = await signup(db, auth, device, "gil@example.com")
    issued = await accounts.issue_reset_token(db, SYSTEM, "gil@example.com", auth)
    async with db.session() as s:
        user = await s.get(User, reg.account.id)
    assert user.reset_password_token == tokens.hash_token(issued.token)
    assert issued.expires_at == clock.now() + timedelta(minutes=30)
    step = await accounts.login(
        db, email="gil@example.com", password=issued.token, device=device, auth=auth
    )
    assert isinstance(step, accounts.NeedsNewPassword) and step.reason == "reset"
    with pytest.raises(AuthenticationFailed, match=BAD_CREDENTIALS):
        await accounts.login(
            db, email="gil@example.com", password=issued.token, device=device, auth=auth
        )
    done = await accounts.set_new_password(
        db, step.challenge, OTHER_PASSWORD, device=device, auth=auth
    )
    assert isinstance(done, accounts.SignedIn)
    late = await accounts.issue_reset_token(db, SYSTEM, "gil@example.com", auth)
    clock.advance(minutes=31)
    with pytest.raises(AuthenticationFailed, match=BAD_CREDENTIALS):
        await accounts.login(
            db, email="gil@example.com", password=late.token, device=device, auth=auth
        )
    with pytest.raises(NotFound):
        await accounts.issue_reset_token(db, SYSTEM, "nobody@example.com", auth)
