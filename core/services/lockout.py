"""Brute-force defences: per-account lockout, per-address throttling and blocking.

- An account is locked for ``lockout`` after ``max_failed_attempts`` failures in a row (wrong
  password, wrong 2FA code, wrong current password); a success resets the count.
- An email with no account gets the same treatment, counted in ``security_logs`` by a hash of
  the email, so "locked" can't be used to learn which emails have accounts.
- An address with ``ip_throttle_after`` failed or refused attempts within ``ip_window`` is
  refused until the window slides past them; at ``ip_block_after`` it goes on ``blocked_ips``
  until ``ip_block_for`` has passed.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.admin import BlockedIP, SecurityLog
from core.db.models.notifications import NotificationPriority, NotificationType
from core.db.models.users import LoginHistory, User
from core.errors import Forbidden
from core.notifications import notify
from core.security.device import Device
from core.services.audit import SecurityEvent, security_event
from core.services.authconfig import AuthConfig

BAD_CREDENTIALS = "Wrong email or password."
_COUNTED = (
    SecurityEvent.AUTH_FAILURE,
    SecurityEvent.RATE_LIMIT,
    SecurityEvent.REGISTRATION_REFUSED,
)
_PHANTOM_MEMORY = timedelta(hours=24)


class AuthenticationFailed(Forbidden):
    """Credentials or a session were not accepted; the message is safe to show as it is."""


class AccountLocked(AuthenticationFailed):
    def __init__(self, until: datetime, now: datetime) -> None:
        self.until = until
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        super().__init__(
            f"Too many failed attempts: this account is locked for {minutes} more "
            f"minute{'s' if minutes != 1 else ''}."
        )


class AddressRefused(AuthenticationFailed):
    def __init__(self, message: str, until: datetime | None) -> None:
        self.until = until
        super().__init__(message)


def email_hash(email: str) -> str:
    return hashlib.sha256(f"blockbotx-email|{email}".encode("utf-8", "surrogatepass")).hexdigest()


def _minutes(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


async def guard_address(s: AsyncSession, device: Device, auth: AuthConfig) -> AddressRefused | None:
    """Refuse a blocked or throttled address (recording the refusal), else None."""
    now = auth.now()
    ip = device.ip_address
    block = await s.scalar(select(BlockedIP).where(BlockedIP.ip_address == ip))
    if block is not None and (block.expires_at is None or block.expires_at > now):
        await _refused(s, device, auth, reason="blocked")
        when = f" for {_minutes(block.expires_at, now)} more minutes" if block.expires_at else ""
        return AddressRefused(
            f"Sign-in from your address ({ip}) is blocked{when}.", block.expires_at
        )
    times = await _recent_attempts(s, ip, auth)
    if len(times) >= auth.ip_throttle_after:
        until = times[len(times) - auth.ip_throttle_after] + auth.ip_window
        await _refused(s, device, auth, reason="throttled")
        return AddressRefused(
            f"Too many failed sign-ins from your address; try again in {_minutes(until, now)} "
            "minutes.",
            until,
        )
    return None


async def _recent_attempts(s: AsyncSession, ip: str, auth: AuthConfig) -> list[datetime]:
    rows = await s.scalars(
        select(SecurityLog.created_at)
        .where(
            SecurityLog.ip_address == ip,
            SecurityLog.type.in_(_COUNTED),
            SecurityLog.created_at > auth.now() - auth.ip_window,
        )
        .order_by(SecurityLog.created_at)
    )
    return list(rows)


async def _refused(s: AsyncSession, device: Device, auth: AuthConfig, *, reason: str) -> None:
    await security_event(
        s,
        type=SecurityEvent.RATE_LIMIT,
        at=auth.now(),
        ip_address=device.ip_address,
        user_agent=device.user_agent,
        metadata={"reason": reason},
    )
    await s.flush()
    await _maybe_block(s, device, auth)


async def count_address_failure(
    s: AsyncSession,
    device: Device,
    auth: AuthConfig,
    *,
    type: str,
    user_id: str | None,
    reason: str,
    email: str | None = None,
) -> None:
    metadata: dict[str, str] = {"reason": reason}
    if email is not None:
        metadata["email_hash"] = email_hash(email)
    await security_event(
        s,
        type=type,
        at=auth.now(),
        ip_address=device.ip_address,
        user_agent=device.user_agent,
        user_id=user_id,
        metadata=metadata,
    )
    await s.flush()
    await _maybe_block(s, device, auth)


async def _maybe_block(s: AsyncSession, device: Device, auth: AuthConfig) -> None:
    if len(await _recent_attempts(s, device.ip_address, auth)) < auth.ip_block_after:
        return
    now = auth.now()
    until = now + auth.ip_block_for
    stmt = insert(BlockedIP).values(
        ip_address=device.ip_address,
        reason="Too many failed sign-in attempts",
        blocked_at=now,
        expires_at=until,
        created_by="system",
        metadata_={"attempts": auth.ip_block_after},
    )
    # An expired block is renewed; a live (or permanent, admin-made) one is left as it is.
    await s.execute(
        stmt.on_conflict_do_update(
            index_elements=[BlockedIP.ip_address],
            set_={"blocked_at": now, "expires_at": until, "reason": stmt.excluded.reason},
            where=(BlockedIP.expires_at.is_not(None)) & (BlockedIP.expires_at <= now),
        )
    )
    await security_event(
        s,
        type=SecurityEvent.IP_BLOCKED,
        at=now,
        ip_address=device.ip_address,
        user_agent=device.user_agent,
        metadata={"until": until.isoformat()},
    )


def locked_until(user: User, now: datetime) -> datetime | None:
    return user.locked_until if user.locked_until and user.locked_until > now else None


async def record_user_failure(
    s: AsyncSession, user: User, device: Device, auth: AuthConfig, *, reason: str
) -> AccountLocked | None:
    """Count one failure against ``user`` (row locked by the caller); lock at the limit."""
    now = auth.now()
    user.failed_login_attempts = (user.failed_login_attempts or 0) + 1
    s.add(
        LoginHistory(
            user_id=user.id,
            ip_address=device.ip_address,
            user_agent=device.user_agent,
            success=False,
            failure_reason=reason,
            created_at=now,
        )
    )
    await count_address_failure(
        s, device, auth, type=SecurityEvent.AUTH_FAILURE, user_id=user.id, reason=reason
    )
    if user.failed_login_attempts < auth.max_failed_attempts:
        return None
    user.locked_until = now + auth.lockout
    user.failed_login_attempts = 0
    await security_event(
        s,
        type=SecurityEvent.ACCOUNT_LOCKED,
        at=now,
        ip_address=device.ip_address,
        user_agent=device.user_agent,
        user_id=user.id,
        metadata={"until": user.locked_until.isoformat()},
    )
    await notify(
        s,
        user_id=user.id,
        type=NotificationType.ACCOUNT_LOCKED,
        title="Account locked",
        message=(
            f"After {auth.max_failed_attempts} failed attempts your account is locked until "
            f"{user.locked_until:%Y-%m-%d %H:%M} UTC. The last attempt came from "
            f"{device.ip_address}. If this wasn't you, change your password."
        ),
        priority=NotificationPriority.HIGH,
        metadata={"ip_address": device.ip_address, "locked_until": user.locked_until.isoformat()},
    )
    return AccountLocked(user.locked_until, now)


async def phantom_lock(s: AsyncSession, email: str, auth: AuthConfig) -> datetime | None:
    """The lock an unknown email is under, mirroring a real account's (see module doc)."""
    last = await s.scalar(
        select(func.max(SecurityLog.created_at)).where(
            SecurityLog.type == SecurityEvent.ACCOUNT_LOCKED,
            SecurityLog.user_id.is_(None),
            SecurityLog.metadata_["email_hash"].astext == email_hash(email),
        )
    )
    if last is not None and last + auth.lockout > auth.now():
        return last + auth.lockout
    return None


async def record_phantom_failure(
    s: AsyncSession, email: str, device: Device, auth: AuthConfig
) -> AccountLocked | None:
    now = auth.now()
    await count_address_failure(
        s,
        device,
        auth,
        type=SecurityEvent.AUTH_FAILURE,
        user_id=None,
        reason="unknown_email",
        email=email,
    )
    h = email_hash(email)
    since = await s.scalar(
        select(func.max(SecurityLog.created_at)).where(
            SecurityLog.type == SecurityEvent.ACCOUNT_LOCKED,
            SecurityLog.user_id.is_(None),
            SecurityLog.metadata_["email_hash"].astext == h,
        )
    )
    floor = max(since, now - _PHANTOM_MEMORY) if since else now - _PHANTOM_MEMORY
    failures = await s.scalar(
        select(func.count()).where(
            SecurityLog.type == SecurityEvent.AUTH_FAILURE,
            SecurityLog.user_id.is_(None),
            SecurityLog.metadata_["email_hash"].astext == h,
            SecurityLog.created_at > floor,
        )
    )
    if (failures or 0) < auth.max_failed_attempts:
        return None
    await security_event(
        s,
        type=SecurityEvent.ACCOUNT_LOCKED,
        at=now,
        ip_address=device.ip_address,
        user_agent=device.user_agent,
        metadata={"email_hash": h},
    )
    return AccountLocked(now + auth.lockout, now)
