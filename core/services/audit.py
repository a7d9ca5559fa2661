"""Writing the audit trail (what a user did) and the security log (what happened to the system).

``audit_logs`` rows belong to a user (logins, key changes, 2FA changes, admin actions);
``security_logs`` rows may have no user (a failed login for an unknown email, a blocked address,
a vault rotation). Both are written in the caller's transaction and never hold a secret: callers
pass ids, names and outcomes, never passwords, codes or tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.admin import AuditLog, SecurityLog


class SecurityEvent:
    """The ``security_logs.type`` values this app writes."""

    AUTH_FAILURE = "auth_failure"
    RATE_LIMIT = "rate_limit"
    IP_BLOCKED = "ip_blocked"
    ACCOUNT_LOCKED = "account_locked"
    TOKEN_REUSE = "suspicious_activity"
    REGISTRATION_REFUSED = "registration_refused"
    VAULT_ROTATED = "vault_rotated"


async def audit(
    session: AsyncSession,
    *,
    user_id: str,
    action: str,
    at: datetime,
    ip_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLog(
            user_id=user_id, action=action, details=details, ip_address=ip_address, created_at=at
        )
    )


async def security_event(
    session: AsyncSession,
    *,
    type: str,
    at: datetime,
    ip_address: str,
    user_agent: str,
    user_id: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    session.add(
        SecurityLog(
            type=type,
            user_id=user_id,
            ip_address=ip_address,
            user_agent=user_agent,
            metadata_=metadata,
            created_at=at,
        )
    )
