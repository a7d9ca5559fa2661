"""Sessions (refresh tokens), known devices and login history.

A session is a chain of rows: signing in writes the first, every refresh writes a successor
(``parent_id``) with a fresh token and revokes its parent with the reason ``rotated``. The
expiry is absolute: seven days from sign-in, never extended by refreshing. Presenting a token
whose row was already rotated means two parties hold it, so every session of the user ends.
Tokens are stored as SHA-256 hashes only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import Database
from core.db.models.notifications import NotificationPriority, NotificationType
from core.db.models.users import KnownDevice, LoginHistory, Session, User
from core.errors import NotFound, ServiceError
from core.notifications import notify
from core.security import tokens
from core.security.device import LOCAL, Device
from core.services.actor import Actor, Role, get_owned, owned_by, recheck
from core.services.audit import audit
from core.services.authconfig import DEFAULT_AUTH, AuthConfig

ROTATED = "rotated"
HISTORY_LIMIT = 200
_ID = re.compile(r"[a-z0-9]{1,64}")


def check_id(value: object, what: str) -> str:
    """An id as the database holds them (CUID2); anything else is simply not found."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise NotFound(f"No {what} {str(value)[:40]!r}.")
    return value


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: str
    email: str
    role: Role
    first_name: str | None
    last_name: str | None
    two_factor_enabled: bool

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.email


@dataclass(frozen=True, slots=True)
class AuthSession:
    """A signed-in session. ``refresh_token`` is the one secret: shown to nobody, kept only by
    the remembered-session store, and hidden from ``repr`` so it can't reach a log line."""

    actor: Actor
    account: AccountInfo
    expires_at: datetime
    refresh_token: str = field(repr=False)
    new_device: bool = False


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: str
    device: str
    ip_address: str
    signed_in_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    current: bool


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: str
    name: str
    ip_address: str
    first_seen: datetime
    last_used_at: datetime
    trusted: bool


@dataclass(frozen=True, slots=True)
class LoginRecord:
    at: datetime
    ip_address: str
    device: str
    success: bool
    failure_reason: str | None


def account_info(user: User) -> AccountInfo:
    return AccountInfo(
        id=user.id,
        email=user.email,
        role=Role.of(user.role),
        first_name=user.first_name,
        last_name=user.last_name,
        two_factor_enabled=user.two_factor_enabled,
    )


def _actor(user: User, row: Session) -> Actor:
    info = account_info(user)
    return Actor(user_id=user.id, role=info.role, session_id=row.id, ip_address=row.ip_address)


async def issue(s: AsyncSession, user: User, device: Device, auth: AuthConfig) -> AuthSession:
    """Start a new session for ``user`` (sign-in), remembering the device; caller commits."""
    now = auth.now()
    token = tokens.new_token(tokens.REFRESH_PREFIX)
    row = Session(
        user_id=user.id,
        refresh_token=tokens.hash_token(token),
        expires_at=now + auth.session_lifetime,
        ip_address=device.ip_address,
        user_agent=device.user_agent,
        created_at=now,
        last_used_at=now,
    )
    s.add(row)
    # Rows of sessions past their absolute expiry serve no one any more, not even theft checks.
    await s.execute(delete(Session).where(Session.user_id == user.id, Session.expires_at <= now))
    new_device = await remember_device(s, user, device, auth)
    s.add(
        LoginHistory(
            user_id=user.id,
            ip_address=device.ip_address,
            user_agent=device.user_agent,
            success=True,
            created_at=now,
        )
    )
    await s.flush()
    await audit(
        s,
        user_id=user.id,
        action="login",
        at=now,
        ip_address=device.ip_address,
        details={"session_id": row.id, "device": device.name, "new_device": new_device},
    )
    return AuthSession(_actor(user, row), account_info(user), row.expires_at, token, new_device)


async def remember_device(s: AsyncSession, user: User, device: Device, auth: AuthConfig) -> bool:
    """Record the device; True (and a LOGIN_NEW_DEVICE notification) when it is new."""
    now = auth.now()
    known = await s.scalar(
        select(KnownDevice).where(
            KnownDevice.user_id == user.id, KnownDevice.device_fingerprint == device.fingerprint
        )
    )
    if known is not None:
        known.last_used_at = now
        known.ip_address = device.ip_address
        return False
    has_devices = await s.scalar(
        select(KnownDevice.id).where(KnownDevice.user_id == user.id).limit(1)
    )
    s.add(
        KnownDevice(
            user_id=user.id,
            device_fingerprint=device.fingerprint,
            device_name=device.name,
            ip_address=device.ip_address,
            last_used_at=now,
            created_at=now,
        )
    )
    if has_devices is None:
        return False  # the account's very first device (registration) is not news
    await notify(
        s,
        user_id=user.id,
        type=NotificationType.LOGIN_NEW_DEVICE,
        title="Sign-in from a new device",
        message=(
            f"Your account was signed in from {device.name} at {now:%Y-%m-%d %H:%M} UTC. "
            "If this wasn't you, end that session in Security settings and change your password."
        ),
        priority=NotificationPriority.HIGH,
        metadata={"ip_address": device.ip_address, "device": device.name},
    )
    return True


async def rotate(
    s: AsyncSession, old: Session, user: User, device: Device, auth: AuthConfig
) -> AuthSession:
    now = auth.now()
    token = tokens.new_token(tokens.REFRESH_PREFIX)
    old.revoked_at = now
    old.revoked_reason = ROTATED
    row = Session(
        user_id=user.id,
        refresh_token=tokens.hash_token(token),
        expires_at=old.expires_at,
        ip_address=device.ip_address,
        user_agent=device.user_agent,
        created_at=old.created_at,
        last_used_at=now,
        parent_id=old.id,
    )
    s.add(row)
    await s.flush()
    return AuthSession(_actor(user, row), account_info(user), row.expires_at, token)


async def revoke_all(
    s: AsyncSession, user_id: str, now: datetime, reason: str, *, keep: str | None = None
) -> int:
    stmt = (
        update(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None), Session.expires_at > now)
        .values(revoked_at=now, revoked_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(Session.id != keep)
    result = await s.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def session_device(s: AsyncSession, actor: Actor) -> Device:
    """The device of the actor's session, for security records made while signed in."""
    agent = None
    if actor.session_id is not None:
        agent = await s.scalar(select(Session.user_agent).where(Session.id == actor.session_id))
    agent = agent or "blockbotx; no session"
    return Device(actor.ip_address or LOCAL, agent, agent.removeprefix("blockbotx-tui; "))


def _active(now: datetime):
    return (Session.revoked_at.is_(None)) & (Session.expires_at > now)


async def current(db: Database, actor: Actor, auth: AuthConfig = DEFAULT_AUTH) -> Actor | None:
    """The session's actor as the database has them now (role re-read), or None when the
    session was ended elsewhere, has expired, or its account is gone, banned or suspended."""
    if actor.session_id is None:
        return None
    async with db.session() as s:
        found = await s.scalar(
            owned_by(select(Session.id), Session.user_id, actor).where(
                Session.id == actor.session_id, _active(auth.now())
            )
        )
        if found is None:
            return None
        try:
            return await recheck(s, actor, clock=auth.clock)
        except ServiceError:
            return None


async def is_active(db: Database, actor: Actor, auth: AuthConfig = DEFAULT_AUTH) -> bool:
    """Is the actor's session still valid (see ``current``)?"""
    return await current(db, actor, auth) is not None


async def list_sessions(
    db: Database, actor: Actor, auth: AuthConfig = DEFAULT_AUTH
) -> list[SessionInfo]:
    async with db.session() as s:
        rows = await s.scalars(
            owned_by(select(Session), Session.user_id, actor)
            .where(_active(auth.now()))
            .order_by(Session.last_used_at.desc().nulls_last(), Session.id)
        )
        return [
            SessionInfo(
                id=r.id,
                device=(r.user_agent or "unknown").removeprefix("blockbotx-tui; "),
                ip_address=r.ip_address or "unknown",
                signed_in_at=r.created_at,
                last_used_at=r.last_used_at,
                expires_at=r.expires_at,
                current=r.id == actor.session_id,
            )
            for r in rows
        ]


async def end_session(
    db: Database, actor: Actor, session_id: str, auth: AuthConfig = DEFAULT_AUTH
) -> None:
    """End one of the actor's own sessions (another user's id is reported as not found)."""
    now = auth.now()
    async with db.session() as s, s.begin():
        session_id = check_id(session_id, "session")
        row = await get_owned(s, Session, session_id, actor, what="session", for_update=True)
        if row.revoked_at is not None or row.expires_at <= now:
            raise NotFound(f"No session {session_id!r}.")
        row.revoked_at = now
        row.revoked_reason = "ended_by_user"
        await audit(
            s,
            user_id=actor.user_id,
            action="session_ended",
            at=now,
            ip_address=actor.ip_address,
            details={"session_id": row.id},
        )


async def end_other_sessions(db: Database, actor: Actor, auth: AuthConfig = DEFAULT_AUTH) -> int:
    now = auth.now()
    async with db.session() as s, s.begin():
        count = await revoke_all(s, actor.user_id, now, "ended_by_user", keep=actor.session_id)
        await audit(
            s,
            user_id=actor.user_id,
            action="sessions_ended",
            at=now,
            ip_address=actor.ip_address,
            details={"count": count},
        )
    return count


async def list_devices(db: Database, actor: Actor) -> list[DeviceInfo]:
    async with db.session() as s:
        rows = await s.scalars(
            owned_by(select(KnownDevice), KnownDevice.user_id, actor).order_by(
                KnownDevice.last_used_at.desc(), KnownDevice.id
            )
        )
        return [
            DeviceInfo(r.id, r.device_name, r.ip_address, r.created_at, r.last_used_at, r.trusted)
            for r in rows
        ]


async def forget_device(
    db: Database, actor: Actor, device_id: str, auth: AuthConfig = DEFAULT_AUTH
) -> None:
    """Forget a known device: its next sign-in notifies again as a new device."""
    async with db.session() as s, s.begin():
        device_id = check_id(device_id, "device")
        row = await get_owned(s, KnownDevice, device_id, actor, what="device", for_update=True)
        await s.delete(row)
        await audit(
            s,
            user_id=actor.user_id,
            action="device_forgotten",
            at=auth.now(),
            ip_address=actor.ip_address,
            details={"device": row.device_name},
        )


async def login_history(db: Database, actor: Actor, limit: int = 50) -> list[LoginRecord]:
    limit = max(1, min(int(limit), HISTORY_LIMIT))
    async with db.session() as s:
        rows = await s.scalars(
            owned_by(select(LoginHistory), LoginHistory.user_id, actor)
            .order_by(LoginHistory.created_at.desc(), LoginHistory.id.desc())
            .limit(limit)
        )
        return [
            LoginRecord(
                r.created_at,
                r.ip_address,
                (r.user_agent or "unknown").removeprefix("blockbotx-tui; "),
                r.success,
                r.failure_reason,
            )
            for r in rows
        ]
