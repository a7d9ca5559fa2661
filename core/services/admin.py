"""Administration: users (search, suspend, ban, unban, force a password reset, roles, notes),
the audit and security logs, the IP blocklist and the system settings.

Every function takes ``(session, actor, ...)``, refuses anyone who is not an administrator *in
the database right now* (a role taken away mid-session stops working at once) with a clear
``Forbidden``, and writes every change to ``audit_logs`` (the acting admin's id, the action,
the target and the reason) in the same transaction. Enforcing the resulting state at sign-in
(banned, suspended, maintenance, blocked addresses) is the accounts service's job.

Ranks: an admin moderates users; a superadmin moderates users and admins and alone changes
roles. Nobody moderates themselves or someone of their own rank, so two superadmins can't lock
each other out and the last superadmin can't demote themselves.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.admin import AdminNote, AuditLog, BlockedIP, SecurityLog, SystemSettings
from core.db.models.users import User
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.services.actor import Actor, Role, require_admin, require_superadmin
from core.services.audit import audit
from core.services.rows import loaded
from core.services.sessions import revoke_all

RANK = {Role.USER.value: 0, Role.ADMIN.value: 1, Role.SUPERADMIN.value: 2}
NOTE_CATEGORIES = ("general", "billing", "security", "compliance")
REASON_MAX = 500
NOTE_MAX = 10_000
MAX_PAGE = 500


# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserSummary:
    id: str
    email: str
    first_name: str | None
    last_name: str | None
    role: str
    status: str
    suspended_until: datetime | None
    suspended_reason: str | None
    banned_at: datetime | None
    banned_reason: str | None
    force_password_reset: bool
    two_factor_enabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NoteView:
    id: str
    user_id: str
    author_id: str
    content: str
    category: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    user_id: str
    action: str
    details: dict[str, Any] | None
    ip_address: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SecurityEntry:
    id: str
    type: str
    user_id: str | None
    ip_address: str
    user_agent: str
    metadata: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BlockedAddress:
    ip_address: str
    reason: str
    blocked_at: datetime
    expires_at: datetime | None
    created_by: str | None


@dataclass(frozen=True, slots=True)
class SystemSettingsView:
    maintenance_mode: bool
    maintenance_message: str | None
    registrations_open: bool
    updated_at: datetime
    updated_by: str | None


def _summary(u: User) -> UserSummary:
    return UserSummary(
        u.id, u.email, u.first_name, u.last_name, u.role, u.status, u.suspended_until,
        u.suspended_reason, u.banned_at, u.banned_reason, u.force_password_reset,
        u.two_factor_enabled, u.created_at,
    )  # fmt: skip


# --- checks --------------------------------------------------------------------------------


async def _admin(session: AsyncSession, actor: Actor, *, superadmin: bool = False) -> str:
    """The actor's role as stored; Forbidden unless it is (still) admin enough."""
    check = require_superadmin if superadmin else require_admin
    return (await check(session, actor)).role.value


async def _target(session: AsyncSession, actor_role: str, actor: Actor, user_id: str) -> User:
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound(f"No user {user_id!r}.")
    if user.id == actor.user_id:
        raise Forbidden("You can't do this to your own account.")
    if RANK.get(user.role, 0) >= RANK[actor_role]:
        raise Forbidden(f"A {actor_role} can't change the account of a {user.role}.")
    return user


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(
            "Give a reason (it is shown to the user and kept in the audit log).", field="reason"
        )
    if len(text) > REASON_MAX:
        raise InvalidInput(f"A reason is at most {REASON_MAX} characters.", field="reason")
    return text


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE} and offset not negative.", field="limit")


def _aware(moment: datetime | None, field: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput(f"{field} must carry a time zone.", field=field)
    return moment


async def _log(
    session: AsyncSession, actor: Actor, action: str, clock: Clock, **details: Any
) -> None:
    await audit(
        session,
        user_id=actor.user_id,
        action=action,
        at=clock.now(),
        ip_address=actor.ip_address,
        details={k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in details.items()},
    )


# --- users ---------------------------------------------------------------------------------


async def search_users(
    session: AsyncSession,
    actor: Actor,
    query: str | None = None,
    *,
    status: str | None = None,
    role: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[UserSummary]:
    """Users whose email or name contains ``query`` (any case), newest first."""
    await _admin(session, actor)
    _page(limit, offset)
    stmt = select(User)
    if query and query.strip():
        like = (
            "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        full_name = func.concat_ws(" ", User.first_name, User.last_name)
        stmt = stmt.where(
            or_(User.email.ilike(like), full_name.ilike(like), User.id == query.strip())
        )
    if status:
        stmt = stmt.where(User.status == status)
    if role:
        if role not in RANK:
            raise InvalidInput(f"role must be one of {', '.join(RANK)}.", field="role")
        stmt = stmt.where(User.role == role)
    rows = await session.scalars(
        stmt.order_by(User.created_at.desc(), User.id).limit(limit).offset(offset)
    )
    return [_summary(u) for u in rows]


async def get_user(session: AsyncSession, actor: Actor, user_id: str) -> UserSummary:
    await _admin(session, actor)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id!r}.")
    return _summary(user)


async def suspend_user(
    session: AsyncSession,
    actor: Actor,
    user_id: str,
    *,
    until: datetime,
    reason: str,
    clock: Clock = SYSTEM_CLOCK,
) -> UserSummary:
    """Suspend until ``until`` (sign-in refused until then)."""
    role = await _admin(session, actor)
    reason = _reason(reason)
    _aware(until, "until")
    if until <= clock.now():
        raise InvalidInput("A suspension must end in the future.", field="until")
    user = await _target(session, role, actor, user_id)
    if user.status == "banned":
        raise Conflict("This account is banned; unban it before suspending it.")
    user.status, user.suspended_until, user.suspended_reason = "suspended", until, reason
    await revoke_all(session, user.id, clock.now(), "suspended")  # open dashboards sign out
    await _log(
        session,
        actor,
        "admin_user_suspended",
        clock,
        target_user_id=user.id,
        until=until,
        reason=reason,
    )
    return _summary(await loaded(session, user))


async def ban_user(
    session: AsyncSession, actor: Actor, user_id: str, *, reason: str, clock: Clock = SYSTEM_CLOCK
) -> UserSummary:
    role = await _admin(session, actor)
    reason = _reason(reason)
    user = await _target(session, role, actor, user_id)
    if user.status == "banned":
        raise Conflict("This account is already banned.")
    user.status, user.banned_at, user.banned_reason, user.banned_by = (
        "banned",
        clock.now(),
        reason,
        actor.user_id,
    )
    user.suspended_until = user.suspended_reason = None
    await revoke_all(session, user.id, clock.now(), "banned")  # open dashboards sign out
    await _log(session, actor, "admin_user_banned", clock, target_user_id=user.id, reason=reason)
    return _summary(await loaded(session, user))


async def unban_user(
    session: AsyncSession, actor: Actor, user_id: str, *, clock: Clock = SYSTEM_CLOCK
) -> UserSummary:
    """Lift a ban or a suspension: the account is active again."""
    role = await _admin(session, actor)
    user = await _target(session, role, actor, user_id)
    if user.status not in ("banned", "suspended"):
        raise Conflict("This account is neither banned nor suspended.")
    before = user.status
    user.status = "active"
    user.banned_at = user.banned_reason = user.banned_by = None
    user.suspended_until = user.suspended_reason = None
    await _log(session, actor, "admin_user_unbanned", clock, target_user_id=user.id, was=before)
    return _summary(await loaded(session, user))


async def force_password_reset(
    session: AsyncSession, actor: Actor, user_id: str, *, clock: Clock = SYSTEM_CLOCK
) -> UserSummary:
    """The user must choose a new password at their next sign-in."""
    role = await _admin(session, actor)
    user = await _target(session, role, actor, user_id)
    user.force_password_reset = True
    await _log(session, actor, "admin_password_reset_forced", clock, target_user_id=user.id)
    return _summary(await loaded(session, user))


async def change_role(
    session: AsyncSession, actor: Actor, user_id: str, role: str, *, clock: Clock = SYSTEM_CLOCK
) -> UserSummary:
    """Superadmins only: make someone a user, an admin or a superadmin."""
    actor_role = await _admin(session, actor, superadmin=True)
    if role not in RANK:
        raise InvalidInput(f"role must be one of {', '.join(RANK)}.", field="role")
    user = await _target(session, actor_role, actor, user_id)
    if user.role == role:
        raise Conflict(f"This account is already a {role}.")
    before, user.role = user.role, role
    await _log(
        session,
        actor,
        "admin_role_changed",
        clock,
        target_user_id=user.id,
        before=before,
        after=role,
    )
    return _summary(await loaded(session, user))


async def add_note(
    session: AsyncSession,
    actor: Actor,
    user_id: str,
    content: str,
    *,
    category: str = "general",
    clock: Clock = SYSTEM_CLOCK,
) -> NoteView:
    await _admin(session, actor)
    text = (content or "").strip()
    if not text or len(text) > NOTE_MAX:
        raise InvalidInput(f"A note is 1 to {NOTE_MAX} characters.", field="content")
    if category not in NOTE_CATEGORIES:
        raise InvalidInput(
            f"category must be one of {', '.join(NOTE_CATEGORIES)}.", field="category"
        )
    if await session.get(User, user_id) is None:
        raise NotFound(f"No user {user_id!r}.")
    now = clock.now()
    note = AdminNote(
        user_id=user_id,
        author_id=actor.user_id,
        content=text,
        category=category,
        created_at=now,
        updated_at=now,
    )
    session.add(note)
    await session.flush()
    await _log(
        session,
        actor,
        "admin_note_added",
        clock,
        target_user_id=user_id,
        note_id=note.id,
        category=category,
    )
    return NoteView(
        note.id, note.user_id, note.author_id, note.content, note.category, note.created_at
    )


async def list_notes(session: AsyncSession, actor: Actor, user_id: str) -> list[NoteView]:
    await _admin(session, actor)
    rows = await session.scalars(
        select(AdminNote)
        .where(AdminNote.user_id == user_id)
        .order_by(AdminNote.created_at.desc(), AdminNote.id)
    )
    return [
        NoteView(n.id, n.user_id, n.author_id, n.content, n.category, n.created_at) for n in rows
    ]


# --- logs ----------------------------------------------------------------------------------


def _window(
    stmt: Select[Any],
    column: ColumnElement[Any] | QueryableAttribute[Any],
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    if _aware(since, "since") is not None:
        stmt = stmt.where(column >= since)
    if _aware(until, "until") is not None:
        stmt = stmt.where(column < until)
    return stmt


async def list_audit_logs(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    await _admin(session, actor)
    _page(limit, offset)
    stmt = _window(select(AuditLog), AuditLog.created_at, since, until)
    if user_id:
        stmt = stmt.where(AuditLog.user_id == user_id)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    rows = await session.scalars(
        stmt.order_by(AuditLog.created_at.desc(), AuditLog.id).limit(limit).offset(offset)
    )
    return [
        AuditEntry(r.id, r.user_id, r.action, r.details, r.ip_address, r.created_at) for r in rows
    ]


async def list_security_logs(
    session: AsyncSession,
    actor: Actor,
    *,
    type: str | None = None,
    ip_address: str | None = None,
    user_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[SecurityEntry]:
    await _admin(session, actor)
    _page(limit, offset)
    stmt = _window(select(SecurityLog), SecurityLog.created_at, since, until)
    if type:
        stmt = stmt.where(SecurityLog.type == type)
    if ip_address:
        stmt = stmt.where(SecurityLog.ip_address == _ip(ip_address))
    if user_id:
        stmt = stmt.where(SecurityLog.user_id == user_id)
    rows = await session.scalars(
        stmt.order_by(SecurityLog.created_at.desc(), SecurityLog.id).limit(limit).offset(offset)
    )
    return [
        SecurityEntry(
            r.id, r.type, r.user_id, r.ip_address, r.user_agent, r.metadata_, r.created_at
        )
        for r in rows
    ]


# --- IP blocklist --------------------------------------------------------------------------


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address((text or "").strip()))
    except ValueError:
        raise InvalidInput(
            f"{text!r} is not an IPv4 or IPv6 address.", field="ip_address"
        ) from None


def _blocked(row: BlockedIP) -> BlockedAddress:
    return BlockedAddress(
        row.ip_address, row.reason, row.blocked_at, row.expires_at, row.created_by
    )


async def block_ip(
    session: AsyncSession,
    actor: Actor,
    ip_address: str,
    *,
    reason: str,
    expires_at: datetime | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> BlockedAddress:
    """Block an address until ``expires_at`` (None: until unblocked). Re-blocking updates it."""
    await _admin(session, actor)
    ip, reason, now = _ip(ip_address), _reason(reason), clock.now()
    if (until := _aware(expires_at, "expires_at")) is not None and until <= now:
        raise InvalidInput("A block must expire in the future (or never).", field="expires_at")
    row = await session.scalar(
        select(BlockedIP).where(BlockedIP.ip_address == ip).with_for_update()
    )
    if row is None:
        row = BlockedIP(ip_address=ip)
        session.add(row)
    row.reason, row.blocked_at, row.expires_at, row.created_by = (
        reason,
        now,
        expires_at,
        actor.user_id,
    )
    await _log(
        session,
        actor,
        "admin_ip_blocked",
        clock,
        ip_address=ip,
        reason=reason,
        expires_at=expires_at,
    )
    return _blocked(await loaded(session, row))


async def unblock_ip(
    session: AsyncSession, actor: Actor, ip_address: str, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    await _admin(session, actor)
    ip = _ip(ip_address)
    row = await session.scalar(select(BlockedIP).where(BlockedIP.ip_address == ip))
    if row is None:
        raise NotFound(f"{ip} is not blocked.")
    await session.delete(row)
    await _log(session, actor, "admin_ip_unblocked", clock, ip_address=ip)
    await session.flush()


async def list_blocked_ips(
    session: AsyncSession,
    actor: Actor,
    *,
    include_expired: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> list[BlockedAddress]:
    await _admin(session, actor)
    stmt = select(BlockedIP)
    if not include_expired:
        stmt = stmt.where(or_(BlockedIP.expires_at.is_(None), BlockedIP.expires_at > clock.now()))
    rows = await session.scalars(stmt.order_by(BlockedIP.blocked_at.desc(), BlockedIP.ip_address))
    return [_blocked(r) for r in rows]


# --- system settings -----------------------------------------------------------------------


async def read_system_settings(session: AsyncSession) -> SystemSettingsView:
    """For everyone (the sign-in screen shows the maintenance message before anyone signs in)."""
    row = await session.get(SystemSettings, "singleton")
    if row is None:  # the migration inserts it; a hand-made database may lack it
        row = SystemSettings(id="singleton")
        session.add(row)
        await session.flush()
    row = await loaded(session, row)
    return SystemSettingsView(
        row.maintenance_mode,
        row.maintenance_message,
        row.registrations_open,
        row.updated_at,
        row.updated_by,
    )


async def update_system_settings(
    session: AsyncSession,
    actor: Actor,
    *,
    maintenance_mode: bool | None = None,
    maintenance_message: str | None = None,
    registrations_open: bool | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> SystemSettingsView:
    await _admin(session, actor)
    await read_system_settings(session)
    row = await session.scalar(
        select(SystemSettings).where(SystemSettings.id == "singleton").with_for_update()
    )
    assert row is not None
    changes: dict[str, Any] = {}
    if maintenance_mode is not None:
        changes["maintenance_mode"] = maintenance_mode
    if maintenance_message is not None:
        text = maintenance_message.strip()
        if len(text) > REASON_MAX:
            raise InvalidInput(
                f"The maintenance message is at most {REASON_MAX} characters.",
                field="maintenance_message",
            )
        changes["maintenance_message"] = text or None
    if registrations_open is not None:
        changes["registrations_open"] = registrations_open
    if not changes:
        raise InvalidInput("Nothing to change.")
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = actor.user_id, clock.now()
    await _log(session, actor, "admin_system_settings_changed", clock, **changes)
    return await read_system_settings(session)
