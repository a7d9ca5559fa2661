"""Who is acting, and the checks every service call makes with it.

Every service function takes an ``Actor`` first. Reads of user-owned rows go through
``owned_by`` / ``get_owned`` so that the ownership filter is part of the query itself and a
row belonging to someone else is indistinguishable from a missing one.

An Actor is a claim made at sign-in; the database is the truth. ``recheck`` re-reads the
account's role and standing, so a change of role, a ban or a suspension takes effect on the
next call of every open session. Every privileged path goes through it (``require_admin`` and
``require_superadmin`` do), and so must every entry point that keeps an Actor across calls
(the dashboard's session check, a bot chat) or builds one per request (API keys).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.errors import Forbidden, NotFound

M = TypeVar("M")


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"

    @classmethod
    def of(cls, stored: str) -> Role:
        """The role a ``users.role`` value grants (anything unknown grants nothing extra)."""
        return cls(stored) if stored in cls._value2member_map_ else cls.USER


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    role: Role = Role.USER
    session_id: str | None = None
    ip_address: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERADMIN)

    @property
    def is_superadmin(self) -> bool:
        return self.role is Role.SUPERADMIN


SYSTEM = Actor(user_id="system", role=Role.SUPERADMIN)
"""The engine and scheduled jobs act as the system; never handed to a person's session."""


class Standing(Protocol):
    """The columns of a user that say whether the account may act now."""

    status: str
    banned_at: datetime | None
    banned_reason: str | None
    suspended_until: datetime | None
    suspended_reason: str | None


def status_refusal(user: Standing, now: datetime) -> Forbidden | None:
    """Why a banned or suspended account may not act (an ended suspension lets it in)."""
    if user.status == "banned" or user.banned_at is not None:
        reason = f": {user.banned_reason}" if user.banned_reason else ""
        return Forbidden(f"This account is banned{reason}.")
    until = user.suspended_until
    if (until is not None and until > now) or (user.status == "suspended" and until is None):
        when = f" until {until:%Y-%m-%d %H:%M} UTC" if until is not None else ""
        reason = f": {user.suspended_reason}" if user.suspended_reason else ""
        return Forbidden(f"This account is suspended{when}{reason}.")
    return None


async def recheck(session: AsyncSession, actor: Actor, *, clock: Clock = SYSTEM_CLOCK) -> Actor:
    """The actor with the role the database holds now; Forbidden if the account is gone,
    banned or suspended. ``SYSTEM`` (the engine, scheduled jobs) has no account to re-read."""
    if actor == SYSTEM:
        return actor
    from core.db.models.users import User  # the models load after the dashboard's first frame

    row = (
        await session.execute(
            select(
                User.role,
                User.status,
                User.banned_at,
                User.banned_reason,
                User.suspended_until,
                User.suspended_reason,
            ).where(User.id == actor.user_id)
        )
    ).first()
    if row is None:
        raise Forbidden("This account no longer exists.")
    refusal = status_refusal(row, clock.now())
    if refusal is not None:
        raise refusal
    role = Role.of(row.role)
    return actor if role is actor.role else replace(actor, role=role)


async def require_admin(session: AsyncSession, actor: Actor) -> Actor:
    """The re-checked actor if they are (still) an administrator; else Forbidden."""
    current = await recheck(session, actor)
    if not current.is_admin:
        raise Forbidden("This needs an administrator.")
    return current


async def require_superadmin(session: AsyncSession, actor: Actor) -> Actor:
    """The re-checked actor if they are (still) a superadmin; else Forbidden."""
    current = await recheck(session, actor)
    if not current.is_superadmin:
        raise Forbidden("This needs a superadmin.")
    return current


def owned_by(stmt: Select[Any], owner_column: Any, actor: Actor) -> Select[Any]:
    """Restrict a select to the actor's own rows (admins see everyone's only when asked)."""
    return stmt.where(owner_column == actor.user_id)


async def get_owned(
    session: AsyncSession,
    model: type[M],
    object_id: str,
    actor: Actor,
    *,
    owner_attr: str = "user_id",
    what: str | None = None,
    for_update: bool = False,
) -> M:
    """Load ``model`` by id if the actor owns it; otherwise NotFound (never Forbidden: no leak)."""
    stmt = select(model).where(model.id == object_id)  # type: ignore[attr-defined]
    stmt = owned_by(stmt, getattr(model, owner_attr), actor)
    if for_update:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise NotFound(
            f"No {what or str(getattr(model, '__tablename__', 'row')).rstrip('s').replace('_', ' ')} {object_id!r}."
        )
    return row
