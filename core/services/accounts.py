"""Accounts: register, sign in (password → 2FA → new password when required), refresh, sign
out, change and reset passwords, and the operator's ``user create``.

Sign-in is a small state machine. ``login`` checks the password and answers with the next
step: ``SignedIn``, ``NeedsTwoFactor`` or ``NeedsNewPassword``. The two later steps carry a
``Challenge``: the user id, the step, an expiry and a MAC (key derived from the master key) over
those and a digest of the current password hash, so it can't be forged, outlive five minutes,
or survive a password change. No session exists until every step has passed.

Failures are written (attempt counters, login history, security log) in the same transaction
that then commits, and only afterwards is the error raised; a rejected *input* (bad email
format, empty password) is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import Database
from core.db.models.admin import AuditLog, SystemSettings
from core.db.models.notifications import NotificationPriority, NotificationType
from core.db.models.users import Session, User
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from core.notifications import notify
from core.security import passwords, tokens
from core.security.device import Device
from core.services import profile, referrals, sessions, twofactor
from core.services.actor import Actor, Role, require_admin, status_refusal
from core.services.audit import SecurityEvent, audit, security_event
from core.services.authconfig import DEFAULT_AUTH, AuthConfig
from core.services.lockout import (
    BAD_CREDENTIALS,
    AccountLocked,
    AuthenticationFailed,
    count_address_failure,
    guard_address,
    locked_until,
    phantom_lock,
    record_phantom_failure,
    record_user_failure,
)
from core.services.sessions import AccountInfo, AuthSession

MAX_EMAIL = 254
MAX_NAME = 100
MAX_PASSWORD_INPUT = 4096
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FIRST_ACCOUNT_LOCK = 0x0B0B_0001  # advisory lock: two first registrations can't both be superadmin

TWO_FACTOR = "two_factor"
NEW_PASSWORD = "new_password"
SESSION_ENDED = "Your session has ended; sign in again."


class ChallengeExpired(AuthenticationFailed):
    """The sign-in in progress is too old, forged, or overtaken by a password change."""

    def __init__(self) -> None:
        super().__init__("This sign-in has expired; start again.")


@dataclass(frozen=True, slots=True)
class Challenge:
    user_id: str
    email: str
    stage: str
    reason: str
    """Why a new password is needed after this step: "" (none), "forced" or "reset"."""
    expires_at: datetime
    nonce: str = field(repr=False)
    state: str = field(repr=False)
    signature: str = field(repr=False)

    def payload(self) -> str:
        return "|".join(
            (
                self.user_id,
                self.email,
                self.stage,
                self.reason,
                self.expires_at.isoformat(),
                self.nonce,
                self.state,
            )
        )


@dataclass(frozen=True, slots=True)
class SignedIn:
    session: AuthSession


@dataclass(frozen=True, slots=True)
class NeedsTwoFactor:
    challenge: Challenge


@dataclass(frozen=True, slots=True)
class NeedsNewPassword:
    challenge: Challenge

    @property
    def reason(self) -> str:
        return self.challenge.reason


LoginStep = SignedIn | NeedsTwoFactor | NeedsNewPassword


@dataclass(frozen=True, slots=True)
class Registered:
    account: AccountInfo
    first_account: bool


@dataclass(frozen=True, slots=True)
class ResetToken:
    email: str
    token: str = field(repr=False)
    expires_at: datetime


# ---------------------------------------------------------------------------- input checks


def normalize_email(email: object) -> str:
    if not isinstance(email, str):
        raise InvalidInput("Enter your email address.", field="email")
    email = email.strip().lower()
    if not email:
        raise InvalidInput("Enter your email address.", field="email")
    if len(email) > MAX_EMAIL or not _EMAIL.match(email) or not email.isprintable():
        raise InvalidInput("That doesn't look like an email address.", field="email")
    return email


def _password_input(password: object, *, field_name: str = "password") -> str:
    if not isinstance(password, str) or not password:
        raise InvalidInput("Enter your password.", field=field_name)
    if len(password) > MAX_PASSWORD_INPUT:
        raise InvalidInput(BAD_CREDENTIALS, field=field_name)
    return password


def _name(value: object, label: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"The {label} must be text.", field=label.replace(" ", "_"))
    value = value.strip()
    if len(value) > MAX_NAME or not value.isprintable():
        raise InvalidInput(
            f"The {label} must be printable text of at most {MAX_NAME} characters.",
            field=label.replace(" ", "_"),
        )
    return value or None


# ---------------------------------------------------------------------------- challenges


def _state(user: User) -> str:
    return hashlib.sha256(f"{user.password}|{user.id}".encode()).hexdigest()[:32]


def _challenge(user: User, stage: str, reason: str, auth: AuthConfig) -> Challenge:
    draft = Challenge(
        user.id,
        user.email,
        stage,
        reason,
        auth.now() + auth.challenge_lifetime,
        secrets.token_hex(8),
        _state(user),
        "",
    )
    signature = tokens.sign(auth.signing_key("login-challenge"), draft.payload())
    return replace(draft, signature=signature)


def _check_challenge(challenge: object, stage: str, auth: AuthConfig) -> Challenge:
    expired = ChallengeExpired()
    if not isinstance(challenge, Challenge) or challenge.stage != stage:
        raise expired
    if not tokens.verify_signature(
        auth.signing_key("login-challenge"), challenge.payload(), challenge.signature
    ):
        raise expired
    if challenge.expires_at <= auth.now():
        raise expired
    return challenge


async def _challenged_user(s: AsyncSession, challenge: Challenge) -> User:
    user = await s.scalar(select(User).where(User.id == challenge.user_id).with_for_update())
    if user is None or _state(user) != challenge.state:
        raise ChallengeExpired()
    return user


CHALLENGE_PASSED = "two_factor_passed"


def _challenge_mark(challenge: Challenge) -> str:
    return hashlib.sha256(f"challenge|{challenge.nonce}".encode()).hexdigest()[:32]


async def _challenge_was_passed(s: AsyncSession, challenge: Challenge, auth: AuthConfig) -> bool:
    """A challenge whose code was accepted once is spent (the user row lock orders attempts)."""
    found = await s.scalar(
        select(AuditLog.id)
        .where(
            AuditLog.user_id == challenge.user_id,
            AuditLog.action == CHALLENGE_PASSED,
            AuditLog.created_at >= challenge.expires_at - auth.challenge_lifetime,  # its issue
            AuditLog.details["challenge"].astext == _challenge_mark(challenge),
        )
        .limit(1)
    )
    return found is not None


# ---------------------------------------------------------------------------- account rules


async def _settings(s: AsyncSession) -> SystemSettings:
    row = await s.get(SystemSettings, "singleton")
    return (
        row if row is not None else SystemSettings(maintenance_mode=False, registrations_open=True)
    )


async def _maintenance_refusal(s: AsyncSession, user: User) -> Forbidden | None:
    settings = await _settings(s)
    if settings.maintenance_mode and user.role not in (Role.ADMIN, Role.SUPERADMIN):
        return Forbidden(
            settings.maintenance_message
            or "BlockbotX is in maintenance; only administrators can sign in right now."
        )
    return None


async def _refuse(
    s: AsyncSession, user: User, device: Device, auth: AuthConfig, error: Forbidden, reason: str
) -> Forbidden:
    await record_history(s, user, device, auth, success=False, reason=reason)
    return error


async def record_history(
    s: AsyncSession,
    user: User,
    device: Device,
    auth: AuthConfig,
    *,
    success: bool,
    reason: str | None,
) -> None:
    from core.db.models.users import LoginHistory

    s.add(
        LoginHistory(
            user_id=user.id,
            ip_address=device.ip_address,
            user_agent=device.user_agent,
            success=success,
            failure_reason=reason,
            created_at=auth.now(),
        )
    )


async def _run(db: Database, step) -> LoginStep:
    """Run ``step(session)`` in a transaction that commits even when the step refuses: the
    step returns (not raises) its refusal so the failure bookkeeping is kept."""
    async with db.session() as s, s.begin():
        outcome = await step(s)
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


# ---------------------------------------------------------------------------- registration


async def _insert_user(
    s: AsyncSession,
    *,
    email: str,
    password_hash: str,
    role: Role,
    first: str | None,
    last: str | None,
    auth: AuthConfig,
) -> User:
    if await s.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this email already exists.")
    now = auth.now()
    user = User(
        email=email,
        password=password_hash,
        role=role.value,
        first_name=first,
        last_name=last,
        theme=profile.REGISTERED_THEME,
        created_at=now,
        updated_at=now,
    )
    s.add(user)
    await s.flush()
    return user


async def register(
    db: Database,
    *,
    email: str,
    password: str,
    device: Device,
    first_name: str | None = None,
    last_name: str | None = None,
    referral_code: str | None = None,
    auth: AuthConfig = DEFAULT_AUTH,
) -> Registered:
    """Self-registration (when open). The first account on an empty database is superadmin.
    ``referral_code`` links the new account to the user who referred it (an unknown code is
    an InvalidInput and no account is made)."""
    email = normalize_email(email)
    if referral_code and referral_code.strip():
        referrals.normalize_code(referral_code)
    passwords.check_policy(password, email=email)
    first, last = _name(first_name, "first name"), _name(last_name, "last name")
    password_hash = auth.hasher.hash(password)

    async def step(s: AsyncSession):
        refused = await guard_address(s, device, auth)
        if refused is not None:
            return refused
        await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FIRST_ACCOUNT_LOCK})
        first_account = not await s.scalar(select(func.count()).select_from(User))
        settings = await _settings(s)
        if not first_account and not settings.registrations_open:
            return Forbidden("Registration is closed; ask an administrator for an account.")
        if not first_account and settings.maintenance_mode:
            return Forbidden("BlockbotX is in maintenance; registration is paused.")
        if await s.scalar(select(User.id).where(User.email == email)) is not None:
            await count_address_failure(
                s,
                device,
                auth,
                type=SecurityEvent.REGISTRATION_REFUSED,
                user_id=None,
                reason="email_taken",
                email=email,
            )
            return Conflict("An account with this email already exists.")
        role = Role.SUPERADMIN if first_account else Role.USER
        user = await _insert_user(
            s,
            email=email,
            password_hash=password_hash,
            role=role,
            first=first,
            last=last,
            auth=auth,
        )
        await referrals.ensure_code(s, user.id)
        await referrals.link_referral(s, user.id, referral_code, clock=auth.clock)
        await sessions.remember_device(s, user, device, auth)
        await audit(
            s,
            user_id=user.id,
            action="account_created",
            at=auth.now(),
            ip_address=device.ip_address,
            details={"role": role.value, "first_account": first_account, "via": "registration"},
        )
        return Registered(sessions.account_info(user), first_account)

    return await _run(db, step)  # type: ignore[return-value]


async def create_account(
    db: Database,
    actor: Actor,
    *,
    email: str,
    password: str,
    role: Role | str = Role.USER,
    first_name: str | None = None,
    last_name: str | None = None,
    auth: AuthConfig = DEFAULT_AUTH,
) -> AccountInfo:
    """An administrator (or the operator's CLI) creates an account; registration rules don't apply."""
    async with db.session() as s:
        actor = await require_admin(s, actor)
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(
            f"Unknown role {role!r}: use user, admin or superadmin.", field="role"
        ) from None
    if role is Role.SUPERADMIN and not actor.is_superadmin:
        raise Forbidden("Only a superadmin can create another superadmin.")
    email = normalize_email(email)
    passwords.check_policy(password, email=email)
    first, last = _name(first_name, "first name"), _name(last_name, "last name")
    password_hash = auth.hasher.hash(password)
    async with db.session() as s, s.begin():
        user = await _insert_user(
            s,
            email=email,
            password_hash=password_hash,
            role=role,
            first=first,
            last=last,
            auth=auth,
        )
        await audit(
            s,
            user_id=user.id,
            action="account_created",
            at=auth.now(),
            ip_address=actor.ip_address,
            details={"role": role.value, "created_by": actor.user_id},
        )
        return sessions.account_info(user)


# ---------------------------------------------------------------------------- sign-in


async def login(
    db: Database, *, email: str, password: str, device: Device, auth: AuthConfig = DEFAULT_AUTH
) -> LoginStep:
    email = normalize_email(email)
    password = _password_input(password)

    async def step(s: AsyncSession):
        now = auth.now()
        refused = await guard_address(s, device, auth)
        if refused is not None:
            return refused
        user = await s.scalar(select(User).where(User.email == email).with_for_update())
        if user is None:
            until = await phantom_lock(s, email, auth)
            if until is not None:
                await count_address_failure(
                    s, device, auth, type=SecurityEvent.RATE_LIMIT, user_id=None, reason="locked"
                )
                return AccountLocked(until, now)
            auth.hasher.burn(password)
            locked = await record_phantom_failure(s, email, device, auth)
            return locked or AuthenticationFailed(BAD_CREDENTIALS)
        until = locked_until(user, now)
        if until is not None:
            await record_history(s, user, device, auth, success=False, reason="locked")
            await count_address_failure(
                s, device, auth, type=SecurityEvent.RATE_LIMIT, user_id=user.id, reason="locked"
            )
            return AccountLocked(until, now)
        via_reset = False
        if not auth.hasher.verify(user.password, password):
            if (
                user.reset_password_expiry is not None
                and user.reset_password_expiry > now
                and tokens.same_hash(password, user.reset_password_token)
            ):
                via_reset = True
                user.reset_password_token = None
                user.reset_password_expiry = None
            else:
                locked = await record_user_failure(s, user, device, auth, reason="bad_password")
                return locked or AuthenticationFailed(BAD_CREDENTIALS)
        refusal = status_refusal(user, now) or await _maintenance_refusal(s, user)
        if refusal is not None:
            return await _refuse(s, user, device, auth, refusal, "refused")
        if not via_reset and auth.hasher.needs_rehash(user.password):
            user.password = auth.hasher.hash(password)
        reason = "reset" if via_reset else "forced" if user.force_password_reset else ""
        return await _next_step(s, user, device, auth, after_password=True, reason=reason)

    return await _run(db, step)


async def _next_step(
    s: AsyncSession,
    user: User,
    device: Device,
    auth: AuthConfig,
    *,
    after_password: bool,
    reason: str,
) -> LoginStep:
    if after_password and user.two_factor_enabled:
        return NeedsTwoFactor(_challenge(user, TWO_FACTOR, reason, auth))
    if reason:
        return NeedsNewPassword(_challenge(user, NEW_PASSWORD, reason, auth))
    # The failure count is reset only here, when every factor passed: resetting it after the
    # password alone would let someone who knows it guess 2FA codes forever.
    user.failed_login_attempts = 0
    user.locked_until = None
    return SignedIn(await sessions.issue(s, user, device, auth))


async def verify_two_factor(
    db: Database,
    challenge: Challenge,
    code: str,
    *,
    device: Device,
    auth: AuthConfig = DEFAULT_AUTH,
) -> LoginStep:
    """The second step: a TOTP code (each time step once) or an unused backup code."""
    challenge = _check_challenge(challenge, TWO_FACTOR, auth)
    code = twofactor._code_input(code)

    async def step(s: AsyncSession):
        now = auth.now()
        user = await _challenged_user(s, challenge)
        if await _challenge_was_passed(s, challenge, auth):
            return ChallengeExpired()  # one password check, one sign-in
        until = locked_until(user, now)
        if until is not None:
            await record_history(s, user, device, auth, success=False, reason="locked")
            return AccountLocked(until, now)
        used = await twofactor.check_code(s, user.id, code, auth)
        if used is None:
            locked = await record_user_failure(s, user, device, auth, reason="bad_2fa_code")
            return locked or AuthenticationFailed("That code is wrong or was already used.")
        await audit(
            s,
            user_id=user.id,
            action=CHALLENGE_PASSED,
            at=now,
            ip_address=device.ip_address,
            details={"challenge": _challenge_mark(challenge), "with": used},
        )
        if used == "backup":
            await audit(
                s, user_id=user.id, action="backup_code_used", at=now, ip_address=device.ip_address
            )
        refusal = status_refusal(user, now) or await _maintenance_refusal(s, user)
        if refusal is not None:
            return await _refuse(s, user, device, auth, refusal, "refused")
        return await _next_step(
            s, user, device, auth, after_password=False, reason=challenge.reason
        )

    return await _run(db, step)


async def set_new_password(
    db: Database,
    challenge: Challenge,
    new_password: str,
    *,
    device: Device,
    auth: AuthConfig = DEFAULT_AUTH,
) -> LoginStep:
    """The last step when a new password is required (admin's force reset, or a reset token)."""
    challenge = _check_challenge(challenge, NEW_PASSWORD, auth)
    passwords.check_policy(new_password, email=challenge.email, field="new_password")
    new_hash = auth.hasher.hash(new_password)

    async def step(s: AsyncSession):
        user = await _challenged_user(s, challenge)
        if auth.hasher.verify(user.password, new_password):
            return InvalidInput(
                "Choose a password different from the old one.", field="new_password"
            )
        await _store_new_password(
            s, user, new_hash, device.ip_address, auth, via=challenge.reason, keep=None
        )
        return await _next_step(s, user, device, auth, after_password=False, reason="")

    return await _run(db, step)


async def _store_new_password(
    s: AsyncSession,
    user: User,
    new_hash: str,
    ip: str | None,
    auth: AuthConfig,
    *,
    via: str,
    keep: str | None,
) -> int:
    now = auth.now()
    user.password = new_hash
    user.force_password_reset = False
    user.reset_password_token = None
    user.reset_password_expiry = None
    ended = await sessions.revoke_all(s, user.id, now, "password_changed", keep=keep)
    await audit(
        s,
        user_id=user.id,
        action="password_changed",
        at=now,
        ip_address=ip,
        details={"via": via or "change", "sessions_ended": ended},
    )
    await notify(
        s,
        user_id=user.id,
        type=NotificationType.PASSWORD_CHANGED,
        title="Password changed",
        message=(
            f"Your password was changed at {now:%Y-%m-%d %H:%M} UTC"
            f"{f' from {ip}' if ip else ''}. If this wasn't you, contact an administrator."
        ),
        priority=NotificationPriority.HIGH,
    )
    return ended


# ---------------------------------------------------------------------------- sessions


async def refresh(
    db: Database, refresh_token: str, *, device: Device, auth: AuthConfig = DEFAULT_AUTH
) -> AuthSession:
    """Trade a refresh token for a new one (the old one is spent); detects token reuse."""
    if (
        not isinstance(refresh_token, str)
        or not refresh_token.startswith(tokens.REFRESH_PREFIX)
        or len(refresh_token) > 200
    ):
        raise AuthenticationFailed(SESSION_ENDED)

    async def step(s: AsyncSession):
        now = auth.now()
        row = await s.scalar(
            select(Session)
            .where(Session.refresh_token == tokens.hash_token(refresh_token))
            .with_for_update()
        )
        if row is None or row.expires_at <= now:
            return AuthenticationFailed(SESSION_ENDED)
        user = await s.scalar(select(User).where(User.id == row.user_id).with_for_update())
        assert user is not None  # sessions cascade with their user
        if row.revoked_at is not None:
            if row.revoked_reason != sessions.ROTATED:
                return AuthenticationFailed(SESSION_ENDED)
            ended = await sessions.revoke_all(s, user.id, now, "token_reuse")
            await security_event(
                s,
                type=SecurityEvent.TOKEN_REUSE,
                at=now,
                ip_address=device.ip_address,
                user_agent=device.user_agent,
                user_id=user.id,
                metadata={
                    "reason": "refresh_token_reuse",
                    "session_id": row.id,
                    "sessions_ended": ended,
                },
            )
            await audit(
                s,
                user_id=user.id,
                action="token_reuse_detected",
                at=now,
                ip_address=device.ip_address,
                details={"sessions_ended": ended},
            )
            return AuthenticationFailed(
                "This session's token was used twice, so it may have been copied: every session "
                "of this account has been ended. Sign in again."
            )
        refusal = status_refusal(user, now)
        if refusal is not None:
            await sessions.revoke_all(s, user.id, now, "account_disabled")
            return refusal
        if user.force_password_reset:
            row.revoked_at, row.revoked_reason = now, "password_reset_required"
            return AuthenticationFailed("You must choose a new password: sign in again.")
        maintenance = await _maintenance_refusal(s, user)
        if maintenance is not None:
            return maintenance
        return await sessions.rotate(s, row, user, device, auth)

    return await _run(db, step)  # type: ignore[return-value]


async def logout(db: Database, actor: Actor, auth: AuthConfig = DEFAULT_AUTH) -> None:
    if actor.session_id is None:
        return
    now = auth.now()
    async with db.session() as s, s.begin():
        row = await s.scalar(
            select(Session)
            .where(Session.id == actor.session_id, Session.user_id == actor.user_id)
            .with_for_update()
        )
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at, row.revoked_reason = now, "logout"
        await audit(
            s,
            user_id=actor.user_id,
            action="logout",
            at=now,
            ip_address=actor.ip_address,
            details={"session_id": row.id},
        )


async def get_account(db: Database, actor: Actor) -> AccountInfo:
    async with db.session() as s:
        user = await s.get(User, actor.user_id)
        if user is None:
            raise NotFound("This account no longer exists.")
        return sessions.account_info(user)


# ---------------------------------------------------------------------------- passwords


async def change_password(
    db: Database,
    actor: Actor,
    current_password: str,
    new_password: str,
    auth: AuthConfig = DEFAULT_AUTH,
) -> int:
    """Change the password (current one required); ends every other session. Returns how many."""
    current_password = _password_input(current_password, field_name="current_password")
    account = await get_account(db, actor)
    passwords.check_policy(new_password, email=account.email, field="new_password")
    if new_password == current_password:
        raise InvalidInput(
            "Choose a password different from the current one.", field="new_password"
        )
    new_hash = auth.hasher.hash(new_password)
    ended = 0

    async def step(s: AsyncSession):
        nonlocal ended
        now = auth.now()
        user = await s.scalar(select(User).where(User.id == actor.user_id).with_for_update())
        if user is None:
            return NotFound("This account no longer exists.")
        until = locked_until(user, now)
        if until is not None:
            return AccountLocked(until, now)
        if not auth.hasher.verify(user.password, current_password):
            device = await sessions.session_device(s, actor)
            locked = await record_user_failure(s, user, device, auth, reason="bad_current_password")
            return locked or AuthenticationFailed("The current password is wrong.")
        ended = await _store_new_password(
            s, user, new_hash, actor.ip_address, auth, via="change", keep=actor.session_id
        )
        return None

    await _run(db, step)
    return ended


async def issue_reset_token(
    db: Database, actor: Actor, email: str, auth: AuthConfig = DEFAULT_AUTH
) -> ResetToken:
    """An operator issues a single-use reset token (30 minutes). Only its hash is stored; the
    clear token goes back to the operator, who hands it to the user. The user is notified
    (without the token). Signing in with the token as the password asks for a new password
    (after 2FA, if on); any earlier token stops working, and the lock is lifted."""
    email = normalize_email(email)
    token = tokens.new_token(tokens.RESET_PREFIX)
    now = auth.now()
    async with db.session() as s, s.begin():
        actor = await require_admin(s, actor)
        user = await s.scalar(select(User).where(User.email == email).with_for_update())
        if user is None:
            raise NotFound(f"No account {email!r}.")
        user.reset_password_token = tokens.hash_token(token)
        user.reset_password_expiry = now + auth.reset_token_lifetime
        user.locked_until = None
        user.failed_login_attempts = 0
        await audit(
            s,
            user_id=user.id,
            action="password_reset_issued",
            at=now,
            ip_address=actor.ip_address,
            details={"by": actor.user_id, "expires_at": user.reset_password_expiry.isoformat()},
        )
        await notify(
            s,
            user_id=user.id,
            type=NotificationType.PASSWORD_CHANGED,
            title="Password reset issued",
            message=(
                f"An operator issued a one-time password reset token for your account at "
                f"{now:%Y-%m-%d %H:%M} UTC, valid for {int(auth.reset_token_lifetime.total_seconds() // 60)} "
                "minutes. Sign in with that token as your password and choose a new password. "
                "If you didn't ask for this, contact an administrator."
            ),
            priority=NotificationPriority.HIGH,
        )
        return ResetToken(email, token, user.reset_password_expiry)


@dataclass(frozen=True, slots=True)
class RegistrationStatus:
    open: bool
    first_account: bool
    """The database has no account yet: whoever registers becomes superadmin."""


async def registration_status(db: Database) -> RegistrationStatus:
    async with db.session() as s:
        first = not await s.scalar(select(func.count()).select_from(User))
        settings = await _settings(s)
    return RegistrationStatus(
        first or (settings.registrations_open and not settings.maintenance_mode), first
    )
