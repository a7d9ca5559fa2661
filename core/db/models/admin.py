"""Admin and system: audit logs, admin notes, security logs, IP blocklist, system settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import (
    Base,
    Timestamp,
    created_at_column,
    fk,
    id_column,
    updated_at_column,
)


class AuditLog(Base):
    """An audit trail entry for an action a user performed."""

    __tablename__ = "audit_logs"
    __table_args__ = (Index(None, "user_id"), Index(None, "action"), Index(None, "created_at"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    action: Mapped[str]
    details: Mapped[dict[str, Any] | None]
    ip_address: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()


class AdminNote(Base):
    """A CRM-style note an admin (author_id) attached to a user account (user_id)."""

    __tablename__ = "admin_notes"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    author_id: Mapped[str] = mapped_column(fk("users.id"))
    content: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(default="general", server_default="general")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class SecurityLog(Base):
    """A security event; kept (user_id set to null) when the user is deleted."""

    __tablename__ = "security_logs"
    __table_args__ = (
        Index(None, "type"),
        Index(None, "ip_address"),
        Index(None, "user_id"),
        Index(None, "created_at"),
    )

    id: Mapped[str] = id_column()
    type: Mapped[str]
    user_id: Mapped[str | None] = mapped_column(fk("users.id", ondelete="SET NULL"))
    ip_address: Mapped[str]
    user_agent: Mapped[str]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    created_at: Mapped[datetime] = created_at_column()


class BlockedIP(Base):
    """A blocked IP address; expires_at null means a permanent block."""

    __tablename__ = "blocked_ips"
    __table_args__ = (Index(None, "ip_address"), Index(None, "expires_at"))

    id: Mapped[str] = id_column()
    ip_address: Mapped[str] = mapped_column(unique=True)
    reason: Mapped[str]
    blocked_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    expires_at: Mapped[datetime | None]
    created_by: Mapped[str | None]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")


class SystemSettings(Base):
    """Global system configuration: a single row whose id is always "singleton"."""

    __tablename__ = "system_settings"
    __table_args__ = (CheckConstraint("id = 'singleton'", name="singleton"),)

    id: Mapped[str] = mapped_column(
        String(), primary_key=True, default="singleton", server_default="singleton"
    )
    maintenance_mode: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    maintenance_message: Mapped[str | None]
    registrations_open: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    updated_at: Mapped[datetime] = updated_at_column()
    updated_by: Mapped[str | None]


__all__ = ["AdminNote", "AuditLog", "BlockedIP", "SecurityLog", "SystemSettings"]
