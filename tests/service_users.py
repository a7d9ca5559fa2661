"""Users for service tests: plain rows with a role and a time zone, and the matching Actor."""

from __future__ import annotations

from core.db.engine import Database
from core.db.models.users import User
from core.services.actor import Actor, Role


async def add_user(
    db: Database,
    email: str,
    *,
    role: Role = Role.USER,
    timezone: str | None = None,
    **fields: object,
) -> Actor:
    async with db.sessions.begin() as session:
        user = User(
            email=email, password="$argon2id$not-a-real-hash", role=role.value, timezone=timezone
        )
        for name, value in fields.items():
            setattr(user, name, value)
        session.add(user)
        await session.flush()
        return Actor(user_id=user.id, role=role)
