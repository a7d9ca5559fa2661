"""TOTP enrolment and sign-in: enabled only after a good code, ±1 step, replay refused, backup
codes once each, password + code to disable or regenerate, the secret encrypted at rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.admin import AuditLog
from core.db.models.notifications import Notification, NotificationChannel, NotificationType
from core.db.models.users import TwoFactorAuth, User
from core.errors import Conflict, InvalidInput
from core.security import totp
from core.security.device import Device
from core.security.vault import VaultError
from core.services import accounts, twofactor
from core.services.authconfig import AuthConfig
from core.services.lockout import AccountLocked, AuthenticationFailed
from core.services.sessions import AuthSession
from tests.security.conftest import PASSWORD, sign_in, signed_up_and_in


def code(secret: str, clock: FrozenClock, steps: int = 0) -> str:
    return totp.code_at(secret, totp.time_step(clock.now()) + steps)


async def enrol(
    db: Database, auth: AuthConfig, clock: FrozenClock, session: AuthSession
) -> tuple[str, tuple[str, ...]]:
    enrolment = await twofactor.begin_enrolment(db, session.actor, auth)
    backup = await twofactor.confirm_enrolment(
        db, session.actor, code(enrolment.secret, clock), auth
    )
    clock.advance(seconds=30)  # the enrolment code's step is spent
    return enrolment.secret, backup.codes


async def test_enrolment_needs_a_correct_code(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    me = await signed_up_and_in(db, auth, device, "ivy@example.com")
    enrolment = await twofactor.begin_enrolment(db, me.actor, auth)
    assert enrolment.uri.startswith("otpauth://totp/BlockbotX:ivy%40example.com?secret=")
    assert enrolment.secret not in repr(enrolment)
    wrong = f"{(int(code(enrolment.secret, clock)) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidInput, match="doesn't match"):
        await twofactor.confirm_enrolment(db, me.actor, wrong, auth)
    assert (await twofactor.status(db, me.actor)).pending
    async with db.session() as s:
        assert not (await s.get(User, me.actor.user_id)).two_factor_enabled
        row = await s.scalar(select(TwoFactorAuth))
    assert enrolment.secret not in row.secret and row.secret.startswith("v1:")
    backup = await twofactor.confirm_enrolment(
        db, me.actor, code(enrolment.secret, clock, -1), auth
    )
    assert len(backup.codes) == 10 and len(set(backup.codes)) == 10
    status = await twofactor.status(db, me.actor)
    assert status.enabled and status.backup_codes_left == 10
    async with db.session() as s:
        assert (await s.get(User, me.actor.user_id)).two_factor_enabled
        stored = (await s.scalar(select(TwoFactorAuth))).backup_codes
        notes = await s.scalar(
            select(func.count()).where(
                Notification.type == NotificationType.TWO_FA_ENABLED,
                Notification.channel == NotificationChannel.IN_APP,
            )
        )
    assert not set(backup.codes) & set(stored) and len(stored) == 10
    assert notes == 1
    with pytest.raises(Conflict):
        await twofactor.begin_enrolment(db, me.actor, auth)


async def test_sign_in_with_totp_window_and_replay(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    me = await signed_up_and_in(db, auth, device, "jo@example.com")
    secret, _ = await enrol(db, auth, clock, me)
    step = await accounts.login(
        db, email="jo@example.com", password=PASSWORD, device=device, auth=auth
    )
    assert isinstance(step, accounts.NeedsTwoFactor)
    for far in (-2, 2):
        with pytest.raises(AuthenticationFailed, match="wrong or was already used"):
            await accounts.verify_two_factor(
                db, step.challenge, code(secret, clock, far), device=device, auth=auth
            )
    ahead = code(secret, clock, 1)
    done = await accounts.verify_two_factor(db, step.challenge, ahead, device=device, auth=auth)
    assert isinstance(done, accounts.SignedIn)
    # The same code (same time step) again, even within its window: refused.
    again = await accounts.login(
        db, email="jo@example.com", password=PASSWORD, device=device, auth=auth
    )
    with pytest.raises(AuthenticationFailed, match="already used"):
        await accounts.verify_two_factor(db, again.challenge, ahead, device=device, auth=auth)
    # An older step than the last one used is refused too.
    with pytest.raises(AuthenticationFailed):
        await accounts.verify_two_factor(
            db, again.challenge, code(secret, clock), device=device, auth=auth
        )
    clock.advance(seconds=60)
    assert isinstance(
        await accounts.verify_two_factor(
            db, again.challenge, code(secret, clock), device=device, auth=auth
        ),
        accounts.SignedIn,
    )


async def test_wrong_codes_count_toward_the_lockout(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    me = await signed_up_and_in(db, auth, device, "kit@example.com")
    secret, _ = await enrol(db, auth, clock, me)
    step = await accounts.login(
        db, email="kit@example.com", password=PASSWORD, device=device, auth=auth
    )
    wrong = f"{(int(code(secret, clock)) + 7) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            await accounts.verify_two_factor(db, step.challenge, wrong, device=device, auth=auth)
        # Knowing the password must not reset the count (or codes could be guessed forever).
        step = await accounts.login(
            db, email="kit@example.com", password=PASSWORD, device=device, auth=auth
        )
    with pytest.raises(AccountLocked):
        await accounts.verify_two_factor(db, step.challenge, wrong, device=device, auth=auth)
    with pytest.raises(AccountLocked):
        await accounts.verify_two_factor(
            db, step.challenge, code(secret, clock), device=device, auth=auth
        )


async def test_backup_codes_work_once_each(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    me = await signed_up_and_in(db, auth, device, "lu@example.com")
    _, codes = await enrol(db, auth, clock, me)
    step = await accounts.login(
        db, email="lu@example.com", password=PASSWORD, device=device, auth=auth
    )
    done = await accounts.verify_two_factor(
        db, step.challenge, codes[3].upper().replace("-", " "), device=device, auth=auth
    )
    assert isinstance(done, accounts.SignedIn)
    step = await accounts.login(
        db, email="lu@example.com", password=PASSWORD, device=device, auth=auth
    )
    with pytest.raises(AuthenticationFailed, match="already used"):
        await accounts.verify_two_factor(db, step.challenge, codes[3], device=device, auth=auth)
    assert (await twofactor.status(db, me.actor)).backup_codes_left == 9


async def test_disable_and_regenerate_need_password_and_code(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    me = await signed_up_and_in(db, auth, device, "mo@example.com")
    secret, codes = await enrol(db, auth, clock, me)
    with pytest.raises(AuthenticationFailed, match="password is wrong"):
        await twofactor.regenerate_backup_codes(
            db, me.actor, "wrong-password!", code(secret, clock), auth
        )
    with pytest.raises(AuthenticationFailed, match="code is wrong"):
        await twofactor.regenerate_backup_codes(
            db, me.actor, PASSWORD, "000000" if code(secret, clock) != "000000" else "111111", auth
        )
    fresh = await twofactor.regenerate_backup_codes(
        db, me.actor, PASSWORD, code(secret, clock), auth
    )
    assert not set(fresh.codes) & set(codes)
    step = await accounts.login(
        db, email="mo@example.com", password=PASSWORD, device=device, auth=auth
    )
    with pytest.raises(AuthenticationFailed):
        await accounts.verify_two_factor(db, step.challenge, codes[0], device=device, auth=auth)
    await twofactor.disable(db, me.actor, PASSWORD, fresh.codes[0], auth)
    assert not (await twofactor.status(db, me.actor)).enabled
    assert isinstance(
        await accounts.login(
            db, email="mo@example.com", password=PASSWORD, device=device, auth=auth
        ),
        accounts.SignedIn,
    )


async def test_a_secret_moved_to_another_users_row_fails_to_decrypt(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    a = await signed_up_and_in(db, auth, device, "a@example.com")
    b = await signed_up_and_in(db, auth, device, "b@example.com")
    await enrol(db, auth, clock, a)
    b_secret, _ = await enrol(db, auth, clock, b)
    async with db.session() as s, s.begin():
        a_row = await s.scalar(
            select(TwoFactorAuth).where(TwoFactorAuth.user_id == a.actor.user_id)
        )
        await s.execute(
            update(TwoFactorAuth)
            .where(TwoFactorAuth.user_id == b.actor.user_id)
            .values(secret=a_row.secret)
        )
    step = await accounts.login(
        db, email="b@example.com", password=PASSWORD, device=device, auth=auth
    )
    with pytest.raises(VaultError, match="failed to decrypt for this owner"):
        await accounts.verify_two_factor(
            db, step.challenge, code(b_secret, clock), device=device, auth=auth
        )
    with pytest.raises(VaultError):
        auth.get_vault().decrypt(
            a_row.secret, table="two_factor_auth", owner_id=b.actor.user_id, field="secret"
        )


async def test_sign_in_still_needs_a_session_after_password(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    me = await signed_up_and_in(db, auth, device, "ned@example.com")
    await enrol(db, auth, clock, me)
    before = await sign_in_count(db)
    step = await accounts.login(
        db, email="ned@example.com", password=PASSWORD, device=device, auth=auth
    )
    assert isinstance(step, accounts.NeedsTwoFactor)
    assert await sign_in_count(db) == before
    clock.advance(timedelta(minutes=6))
    with pytest.raises(AuthenticationFailed, match="expired"):
        await accounts.verify_two_factor(db, step.challenge, "123456", device=device, auth=auth)


async def sign_in_count(db: Database) -> int:
    from core.db.models.users import Session

    async with db.session() as s:
        return await s.scalar(select(func.count()).select_from(Session))


__all__ = ["sign_in"]


async def test_a_challenge_signs_in_once(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device
) -> None:
    """One password check, one sign-in: a second code (a later step, or a backup code) on the
    same challenge is refused, and the spent challenge is the only thing recorded."""
    me = await signed_up_and_in(db, auth, device, "once@example.com")
    secret, codes = await enrol(db, auth, clock, me)
    step = await accounts.login(
        db, email="once@example.com", password=PASSWORD, device=device, auth=auth
    )
    done = await accounts.verify_two_factor(
        db, step.challenge, code(secret, clock), device=device, auth=auth
    )
    assert isinstance(done, accounts.SignedIn)
    clock.advance(seconds=60)  # well within the challenge's five minutes; a fresh code
    with pytest.raises(accounts.ChallengeExpired):
        await accounts.verify_two_factor(
            db, step.challenge, code(secret, clock), device=device, auth=auth
        )
    with pytest.raises(accounts.ChallengeExpired):
        await accounts.verify_two_factor(db, step.challenge, codes[0], device=device, auth=auth)
    assert (await twofactor.status(db, me.actor)).backup_codes_left == 10  # nothing was spent
    # A fresh password check still signs in.
    fresh = await accounts.login(
        db, email="once@example.com", password=PASSWORD, device=device, auth=auth
    )
    assert isinstance(
        await accounts.verify_two_factor(
            db, fresh.challenge, code(secret, clock), device=device, auth=auth
        ),
        accounts.SignedIn,
    )
    async with db.session() as s:
        marks = (
            await s.scalars(
                select(AuditLog.details).where(AuditLog.action == accounts.CHALLENGE_PASSED)
            )
        ).all()
    assert len(marks) == 2 and step.challenge.nonce not in str(marks)
