"""Who is acting, and the checks every service call makes with it.

Every service function takes an ``Actor`` first. Reads of user-owned rows go through
``owned_by`` / ``get_owned`` so that the ownership filter is part of the query itself and a
row belonging to someone else is indistinguishable from a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound

M = TypeVar("M")


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


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


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("This needs an administrator.")


def require_superadmin(actor: Actor) -> None:
    if not actor.is_superadmin:
        raise Forbidden("This needs a superadmin.")


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
    from sqlalchemy import select

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
