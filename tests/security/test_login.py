"""Register and sign in against real PostgreSQL: roles, lockout, throttling, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.admin import AuditLog, BlockedIP, SecurityLog, SystemSettings
from core.db.models.notifications import Notification, NotificationChannel, NotificationType
from core.db.models.users import KnownDevice, LoginHistory, User
from core.errors import Conflict, Forbidden, InvalidInput
from core.security.device import Device
from core.security.passwords import Hasher
from core.services import accounts
from core.services.actor import Role
from core.services.authconfig import AuthConfig
from core.services.lockout import (
    BAD_CREDENTIALS,
    AccountLocked,
    AddressRefused,
    AuthenticationFailed,
)
from tests.security.conftest import PASSWORD, other_device, sign_in, signup


async def _user(db: Database, email: str) -> User:
    async with db.session() as s:
        user = await s.scalar(select(User).where(User.email == email))
        assert user is not None
        return user


async def _notifications(db: Database, user_id: str, type: NotificationType) -> int:
    async with db.session() as s:
        return await s.scalar(
            select(func.count()).where(
                Notification.user_id == user_id,
                Notification.type == type,
                Notification.channel == NotificationChannel.IN_APP,
            )
        )


async def test_first_account_is_superadmin_then_users(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    first = await signup(db, auth, device, "Root@Example.com ")
    second = await signup(db, auth, device, "bob@example.com")
    assert first.first_account and first.account.role is Role.SUPERADMIN
    assert first.account.email == "root@example.com"
    assert not second.first_account and second.account.role is Role.USER
    with pytest.raises(Conflict):
        await signup(db, auth, device, "BOB@example.com")
    stored = await _user(db, "bob@example.com")
    assert stored.password.startswith("$argon2id$") and PASSWORD not in stored.password


async def test_registration_closed_and_maintenance(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    await signup(db, auth, device, "root@example.com")
    await signup(db, auth, device, "user@example.com")
    async with db.session() as s, s.begin():
        await s.execute(update(SystemSettings).values(registrations_open=False))
    with pytest.raises(Forbidden, match="Registration is closed"):
        await signup(db, auth, device, "late@example.com")
    async with db.session() as s, s.begin():
        await s.execute(
            update(SystemSettings).values(
                maintenance_mode=True, maintenance_message="Back at noon."
            )
        )
    with pytest.raises(Forbidden, match="Back at noon"):
        await sign_in(db, auth, device, "user@example.com")
    admin = await sign_in(db, auth, device, "root@example.com")
    assert admin.actor.role is Role.SUPERADMIN


async def test_lockout_after_fifth_failure_and_unlock_after_window(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    await signup(db, auth, device, "root@example.com")
    reg = await signup(db, auth, device, "carol@example.com")
    for attempt in range(1, 5):
        with pytest.raises(AuthenticationFailed, match=BAD_CREDENTIALS) as err:
            await accounts.login(
                db, email="carol@example.com", password=f"wrong-{attempt}", device=device, auth=auth
            )
        assert not isinstance(err.value, AccountLocked)
        clock.advance(seconds=10)
    with pytest.raises(AccountLocked, match="locked for 15 more minutes"):
        await accounts.login(
            db, email="carol@example.com", password="wrong-5", device=device, auth=auth
        )
    user = await _user(db, "carol@example.com")
    assert user.locked_until == clock.now() + timedelta(minutes=15)
    assert await _notifications(db, reg.account.id, NotificationType.ACCOUNT_LOCKED) == 1
    # Locked: even the right password is refused, with the time left.
    clock.advance(minutes=5)
    with pytest.raises(AccountLocked, match="locked for 10 more minutes"):
        await accounts.login(
            db, email="carol@example.com", password=PASSWORD, device=device, auth=auth
        )
    clock.advance(minutes=10, seconds=1)
    session = await sign_in(db, auth, device, "carol@example.com")
    assert session.account.email == "carol@example.com"
    user = await _user(db, "carol@example.com")
    assert user.failed_login_attempts == 0
    async with db.session() as s:
        history = (
            await s.scalars(
                select(LoginHistory.success)
                .where(LoginHistory.user_id == reg.account.id)
                .order_by(LoginHistory.created_at)
            )
        ).all()
    assert history == [False] * 6 + [True]


async def test_unknown_email_looks_like_wrong_password(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    calls: list[str] = []

    class CountingHasher(Hasher):
        def verify(self, stored: str, password: str) -> bool:
            calls.append("verify")
            return super().verify(stored, password)

    counting = AuthConfig(
        clock=clock,
        hasher=CountingHasher(time_cost=1, memory_cost=8, parallelism=1),
        vault=auth.vault,
    )
    await signup(db, counting, device, "dave@example.com")
    messages = {}
    for email in ("dave@example.com", "nobody@example.com"):
        calls.clear()
        with pytest.raises(AuthenticationFailed) as err:
            await accounts.login(
                db, email=email, password="not-the-password", device=device, auth=counting
            )
        messages[email] = (type(err.value), str(err.value), len(calls))
    assert messages["dave@example.com"] == messages["nobody@example.com"]
    # ... and an unknown email "locks" after five failures exactly like a real account.
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            await accounts.login(
                db,
                email="nobody@example.com",
                password="guess",
                device=other_device(),
                auth=counting,
            )
    with pytest.raises(AccountLocked, match="15 more minutes"):
        await accounts.login(
            db, email="nobody@example.com", password="guess", device=other_device(), auth=counting
        )
    clock.advance(minutes=3)
    with pytest.raises(AccountLocked, match="12 more minutes"):
        await accounts.login(
            db, email="nobody@example.com", password="guess", device=other_device(), auth=counting
        )
    clock.advance(minutes=13)
    with pytest.raises(AuthenticationFailed, match=BAD_CREDENTIALS):
        await accounts.login(
            db, email="nobody@example.com", password="guess", device=other_device(), auth=counting
        )


async def test_one_address_is_throttled_then_blocked(
    db: Database, auth: AuthConfig, clock: FrozenClock
) -> None:
    attacker = other_device("192.0.2.66")
    for i in range(auth.ip_throttle_after):
        with pytest.raises(AuthenticationFailed, match=BAD_CREDENTIALS):
            await accounts.login(
                db, email=f"u{i}@example.com", password="guess", device=attacker, auth=auth
            )
    with pytest.raises(AddressRefused, match="Too many failed sign-ins from your address"):
        await accounts.login(
            db, email="x@example.com", password="guess", device=attacker, auth=auth
        )
    for _ in range(auth.ip_block_after - auth.ip_throttle_after - 1):
        with pytest.raises(AddressRefused):
            await accounts.login(
                db, email="x@example.com", password="guess", device=attacker, auth=auth
            )
    async with db.session() as s:
        block = await s.scalar(select(BlockedIP).where(BlockedIP.ip_address == "192.0.2.66"))
    assert block is not None and block.expires_at == clock.now() + auth.ip_block_for
    clock.advance(minutes=30)  # the throttle window has passed, the block has not
    with pytest.raises(AddressRefused, match="blocked for 30 more minutes"):
        await accounts.login(
            db, email="x@example.com", password="guess", device=attacker, auth=auth
        )
    # Another address is unaffected.
    with pytest.raises(AuthenticationFailed, match=BAD_CREDENTIALS):
        await accounts.login(
            db,
            email="x@example.com",
            password="guess",
            device=other_device("192.0.2.67"),
            auth=auth,
        )
    clock.advance(minutes=31)
    with pytest.raises(AuthenticationFailed, match=BAD_CREDENTIALS):
        await accounts.login(
            db, email="x@example.com", password="guess", device=attacker, auth=auth
        )


async def test_banned_and_suspended_users_cannot_sign_in(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    await signup(db, auth, device, "root@example.com")
    await signup(db, auth, device, "eve@example.com")
    await signup(db, auth, device, "sam@example.com")
    async with db.session() as s, s.begin():
        await s.execute(
            update(User)
            .where(User.email == "eve@example.com")
            .values(status="banned", banned_at=clock.now(), banned_reason="fraud")
        )
        await s.execute(
            update(User)
            .where(User.email == "sam@example.com")
            .values(
                status="suspended",
                suspended_until=clock.now() + timedelta(days=2),
                suspended_reason="chargeback",
            )
        )
    with pytest.raises(Forbidden, match="banned: fraud"):
        await sign_in(db, auth, device, "eve@example.com")
    with pytest.raises(Forbidden, match=r"suspended until 2026-01-03 12:00 UTC: chargeback"):
        await sign_in(db, auth, device, "sam@example.com")
    # A wrong password on a banned account says nothing about the ban.
    with pytest.raises(AuthenticationFailed, match=BAD_CREDENTIALS):
        await accounts.login(
            db, email="eve@example.com", password="wrong-password", device=device, auth=auth
        )
    clock.advance(days=2, seconds=1)
    assert (await sign_in(db, auth, device, "sam@example.com")).account.email == "sam@example.com"


async def test_new_device_is_remembered_and_notified(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    reg = await signup(db, auth, device, "fay@example.com")
    first = await sign_in(db, auth, device, "fay@example.com")
    assert not first.new_device  # the registration device is already known
    second = await sign_in(db, auth, other_device(), "fay@example.com")
    assert second.new_device
    assert second.actor.ip_address == "198.51.100.7"
    assert await _notifications(db, reg.account.id, NotificationType.LOGIN_NEW_DEVICE) == 1
    async with db.session() as s:
        devices = await s.scalar(select(func.count()).where(KnownDevice.user_id == reg.account.id))
        actions = (
            await s.scalars(select(AuditLog.action).where(AuditLog.user_id == reg.account.id))
        ).all()
    assert devices == 2
    assert actions.count("login") == 2 and "account_created" in actions


async def test_password_hash_is_upgraded_on_login(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    await signup(db, auth, device, "gus@example.com")
    stronger = AuthConfig(
        clock=clock, hasher=Hasher(time_cost=2, memory_cost=16, parallelism=1), vault=auth.vault
    )
    await sign_in(db, stronger, device, "gus@example.com")
    user = await _user(db, "gus@example.com")
    assert "t=2" in user.password and not stronger.hasher.needs_rehash(user.password)
    await sign_in(db, stronger, device, "gus@example.com")


async def test_bad_input_is_refused_before_anything_is_written(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    for email, password in (("", PASSWORD), ("not-an-email", PASSWORD), ("a@example.com", "")):
        with pytest.raises(InvalidInput):
            await accounts.login(db, email=email, password=password, device=device, auth=auth)
    with pytest.raises(InvalidInput, match="at least 12"):
        await signup(db, auth, device, "h@example.com", "short")
    with pytest.raises(InvalidInput, match="most common"):
        await signup(db, auth, device, "h@example.com", "password123456")
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(SecurityLog)) == 0
        assert await s.scalar(select(func.count()).select_from(User)) == 0


async def test_operator_creates_accounts_with_a_role(
    db: Database, auth: AuthConfig, device: Device
) -> None:
    from core.services.actor import SYSTEM, Actor

    admin = await accounts.create_account(
        db, SYSTEM, email="ops@example.com", password=PASSWORD, role="admin", auth=auth
    )
    assert admin.role is Role.ADMIN
    with pytest.raises(Forbidden):
        await accounts.create_account(
            db,
            Actor(admin.id, Role.ADMIN),
            email="x@example.com",
            password=PASSWORD,
            role="superadmin",
            auth=auth,
        )
    with pytest.raises(Forbidden):
        await accounts.create_account(
            db, Actor("u", Role.USER), email="y@example.com", password=PASSWORD, auth=auth
        )
    with pytest.raises(InvalidInput, match="Unknown role"):
        await accounts.create_account(
            db, SYSTEM, email="z@example.com", password=PASSWORD, role="root", auth=auth
        )
