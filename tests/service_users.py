"""Users for service tests: plain rows with a role, a time zone and optionally a paid plan,
and the matching Actor."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from core.db.engine import Database
from core.db.models.billing import Subscription
from core.db.models.users import User
from core.services.actor import Actor, Role
from core.services.profile import REGISTERED_THEME


async def add_user(
    db: Database,
    email: str,
    *,
    role: Role = Role.USER,
    timezone: str | None = None,
    plan: str | None = None,
    **fields: object,
) -> Actor:
    """``plan`` (basic, pro, enterprise) gives the user that plan until 2100, for tests of
    features a plan must allow (live trading, Telegram and Discord notifications...)."""
    async with db.sessions.begin() as session:
        user = User(
            email=email,
            password="$argon2id$not-a-real-hash",
            role=role.value,
            timezone=timezone,
            theme=REGISTERED_THEME,
        )
        for name, value in fields.items():
            setattr(user, name, value)
        session.add(user)
        await session.flush()
        if plan is not None:
            session.add(
                Subscription(
                    user_id=user.id,
                    plan=plan,
                    status="active",
                    billing_cycle="yearly",
                    amount=Decimal(0),
                    started_at=datetime(2020, 1, 1, tzinfo=UTC),
                    expires_at=datetime(2100, 1, 1, tzinfo=UTC),
                    is_complimentary=True,
                    grant_reason="test user",
                )
            )
        return Actor(user_id=user.id, role=role)
