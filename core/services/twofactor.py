"""Two-factor authentication: TOTP enrolment, codes, backup codes.

The TOTP secret lives in ``two_factor_auth.secret`` as a vault ciphertext bound to the user;
``users.two_factor_enabled`` mirrors ``two_factor_auth.enabled`` (``users.two_factor_secret``
and ``users.two_factor_backup_codes`` stay empty: one copy of a secret is enough). Backup codes
are stored as SHA-256 hashes and removed from the array when used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import any_, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import Database
from core.db.models.notifications import NotificationPriority, NotificationType
from core.db.models.users import TwoFactorAuth, User
from core.errors import Conflict, InvalidInput
from core.notifications import notify
from core.security import totp
from core.services.actor import Actor
from core.services.audit import audit
from core.services.authconfig import DEFAULT_AUTH, AuthConfig
from core.services.lockout import (
    AccountLocked,
    AuthenticationFailed,
    locked_until,
    record_user_failure,
)
from core.services.sessions import session_device

TABLE = "two_factor_auth"
MAX_CODE_INPUT = 64


@dataclass(frozen=True, slots=True)
class TwoFactorStatus:
    enabled: bool
    pending: bool
    backup_codes_left: int


@dataclass(frozen=True, slots=True)
class Enrolment:
    """Shown once while enrolling; never logged (the secret is hidden from ``repr``)."""

    secret: str = field(repr=False)
    uri: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class BackupCodes:
    codes: tuple[str, ...] = field(repr=False)


def _code_input(code: object, *, field_name: str = "code") -> str:
    if not isinstance(code, str) or not code.strip():
        raise InvalidInput(
            "Enter the 6-digit code from your app or a backup code.", field=field_name
        )
    if len(code) > MAX_CODE_INPUT:
        raise InvalidInput("That is not a 6-digit code or a backup code.", field=field_name)
    return code.strip()


def _seal(auth: AuthConfig, user_id: str, secret: str) -> str:
    return auth.get_vault().encrypt(secret, table=TABLE, owner_id=user_id, field="secret")


def _open(auth: AuthConfig, row: TwoFactorAuth) -> str:
    return auth.get_vault().decrypt(row.secret, table=TABLE, owner_id=row.user_id, field="secret")


async def check_code(s: AsyncSession, user_id: str, code: str, auth: AuthConfig) -> str | None:
    """Accept a current TOTP code (once per time step) or an unused backup code.

    Returns "totp" or "backup" when accepted, None when not. The replay guard and the backup
    code removal are single conditional UPDATEs, so two simultaneous uses can't both pass.
    """
    row = await s.scalar(select(TwoFactorAuth).where(TwoFactorAuth.user_id == user_id))
    if row is None or not row.enabled:
        return None
    if totp.looks_like_totp(code):
        step = totp.matching_step(_open(auth, row), code, auth.now())
        if step is None:
            return None
        used = await s.scalar(
            update(TwoFactorAuth)
            .where(
                TwoFactorAuth.id == row.id,
                (TwoFactorAuth.last_used_step.is_(None)) | (TwoFactorAuth.last_used_step < step),
            )
            .values(last_used_step=step)
            .returning(TwoFactorAuth.id)
        )
        return "totp" if used else None
    hashed = totp.hash_backup_code(code)
    if hashed is None:
        return None
    used = await s.scalar(
        update(TwoFactorAuth)
        .where(TwoFactorAuth.id == row.id, literal(hashed) == any_(TwoFactorAuth.backup_codes))
        .values(backup_codes=func.array_remove(TwoFactorAuth.backup_codes, hashed))
        .returning(TwoFactorAuth.id)
    )
    return "backup" if used else None


async def status(db: Database, actor: Actor) -> TwoFactorStatus:
    async with db.session() as s:
        row = await s.scalar(select(TwoFactorAuth).where(TwoFactorAuth.user_id == actor.user_id))
    if row is None:
        return TwoFactorStatus(False, False, 0)
    return TwoFactorStatus(
        row.enabled, not row.enabled, len(row.backup_codes) if row.enabled else 0
    )


async def begin_enrolment(db: Database, actor: Actor, auth: AuthConfig = DEFAULT_AUTH) -> Enrolment:
    """A new secret (kept, encrypted, as pending) and its otpauth URI for the QR code."""
    now = auth.now()
    async with db.session() as s, s.begin():
        user = await _user(s, actor)
        row = await s.scalar(
            select(TwoFactorAuth).where(TwoFactorAuth.user_id == user.id).with_for_update()
        )
        if row is not None and row.enabled:
            raise Conflict("Two-factor authentication is already on; turn it off first.")
        secret = auth.new_totp_secret()
        if row is None:
            row = TwoFactorAuth(user_id=user.id, backup_codes=[], created_at=now, updated_at=now)
            s.add(row)
        row.secret = _seal(auth, user.id, secret)
        row.enabled = False
        row.backup_codes = []
        row.last_used_step = None
        return Enrolment(secret, totp.provisioning_uri(secret, user.email))


async def confirm_enrolment(
    db: Database, actor: Actor, code: str, auth: AuthConfig = DEFAULT_AUTH
) -> BackupCodes:
    """Turn 2FA on once a code from the new secret checks out; returns the backup codes."""
    code = _code_input(code)
    now = auth.now()
    async with db.session() as s, s.begin():
        user = await _user(s, actor, for_update=True)
        row = await s.scalar(
            select(TwoFactorAuth).where(TwoFactorAuth.user_id == user.id).with_for_update()
        )
        if row is None or row.enabled:
            raise Conflict("There is no two-factor enrolment to confirm; start again.")
        step = totp.matching_step(_open(auth, row), code, now)
        if step is None:
            raise InvalidInput(
                "That code doesn't match; check your app's clock and try again.", field="code"
            )
        codes = totp.new_backup_codes()
        row.enabled = True
        row.last_used_step = step
        row.backup_codes = [totp.hash_backup_code(c) for c in codes]  # type: ignore[misc]
        user.two_factor_enabled = True
        await audit(
            s, user_id=user.id, action="two_factor_enabled", at=now, ip_address=actor.ip_address
        )
        await notify(
            s,
            user_id=user.id,
            type=NotificationType.TWO_FA_ENABLED,
            title="Two-factor authentication is on",
            message=(
                "Signing in now needs a code from your authenticator app. If you didn't do "
                "this, change your password and contact an administrator."
            ),
            priority=NotificationPriority.HIGH,
        )
        return BackupCodes(tuple(codes))


async def _verify_password_and_code(
    s: AsyncSession, user: User, actor: Actor, password: str, code: str, auth: AuthConfig
) -> Exception | None:
    """Check both; a failure counts toward the lockout like a failed sign-in."""
    device = await session_device(s, actor)
    now = auth.now()
    until = locked_until(user, now)
    if until is not None:
        return AccountLocked(until, now)
    if not auth.hasher.verify(user.password, password):
        locked = await record_user_failure(s, user, device, auth, reason="bad_password")
        return locked or AuthenticationFailed("The password is wrong.")
    if await check_code(s, user.id, code, auth) is None:
        locked = await record_user_failure(s, user, device, auth, reason="bad_2fa_code")
        return locked or AuthenticationFailed("That code is wrong or was already used.")
    return None


async def disable(
    db: Database, actor: Actor, password: str, code: str, auth: AuthConfig = DEFAULT_AUTH
) -> None:
    password, code = _password_input(password), _code_input(code)
    async with db.session() as s, s.begin():
        user = await _user(s, actor, for_update=True)
        if not user.two_factor_enabled:
            raise Conflict("Two-factor authentication is already off.")
        error = await _verify_password_and_code(s, user, actor, password, code, auth)
        if error is None:
            await s.execute(delete(TwoFactorAuth).where(TwoFactorAuth.user_id == user.id))
            user.two_factor_enabled = False
            await audit(
                s,
                user_id=user.id,
                action="two_factor_disabled",
                at=auth.now(),
                ip_address=actor.ip_address,
            )
    if error is not None:
        raise error


async def regenerate_backup_codes(
    db: Database, actor: Actor, password: str, code: str, auth: AuthConfig = DEFAULT_AUTH
) -> BackupCodes:
    password, code = _password_input(password), _code_input(code)
    codes: list[str] = []
    async with db.session() as s, s.begin():
        user = await _user(s, actor, for_update=True)
        if not user.two_factor_enabled:
            raise Conflict("Turn on two-factor authentication first.")
        error = await _verify_password_and_code(s, user, actor, password, code, auth)
        if error is None:
            codes = totp.new_backup_codes()
            await s.execute(
                update(TwoFactorAuth)
                .where(TwoFactorAuth.user_id == user.id)
                .values(backup_codes=[totp.hash_backup_code(c) for c in codes])
            )
            await audit(
                s,
                user_id=user.id,
                action="backup_codes_regenerated",
                at=auth.now(),
                ip_address=actor.ip_address,
            )
    if error is not None:
        raise error
    return BackupCodes(tuple(codes))


def _password_input(password: object) -> str:
    if not isinstance(password, str) or not password:
        raise InvalidInput("Enter your password.", field="password")
    if len(password) > 4096:
        raise InvalidInput("The password is wrong.", field="password")
    return password


async def _user(s: AsyncSession, actor: Actor, *, for_update: bool = False) -> User:
    stmt = select(User).where(User.id == actor.user_id)
    if for_update:
        stmt = stmt.with_for_update()
    user = await s.scalar(stmt)
    if user is None:
        raise InvalidInput("This account no longer exists.")
    return user
