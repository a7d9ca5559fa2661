"""Users and authentication: users, sessions, 2FA, login history, devices, privacy, exports, API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import (
    Base,
    TextArray,
    Timestamp,
    created_at_column,
    fk,
    id_column,
    updated_at_column,
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index(None, "email"), Index(None, "status"))

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(unique=True)
    password: Mapped[str]
    first_name: Mapped[str | None]
    last_name: Mapped[str | None]
    avatar: Mapped[str | None]
    bio: Mapped[str | None]
    phone: Mapped[str | None]
    location: Mapped[str | None]
    website: Mapped[str | None]
    company: Mapped[str | None]
    position: Mapped[str | None]
    email_verified: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    email_verified_at: Mapped[datetime | None]
    email_verification_token: Mapped[str | None]
    email_verification_expiry: Mapped[datetime | None]
    reset_password_token: Mapped[str | None]
    reset_password_expiry: Mapped[datetime | None]
    two_factor_enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    two_factor_secret: Mapped[str | None]
    two_factor_backup_codes: Mapped[list[str]] = mapped_column(
        TextArray, default=list, server_default=text("'{}'::varchar[]")
    )
    failed_login_attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(default="active", server_default="active")
    banned_at: Mapped[datetime | None]
    banned_reason: Mapped[str | None]
    banned_by: Mapped[str | None]
    suspended_until: Mapped[datetime | None]
    suspended_reason: Mapped[str | None]
    force_password_reset: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    role: Mapped[str] = mapped_column(default="user", server_default="user")
    timezone: Mapped[str | None]
    language: Mapped[str] = mapped_column(default="en", server_default="en")
    theme: Mapped[str] = mapped_column(default="light", server_default="light")
    currency: Mapped[str] = mapped_column(default="USD", server_default="USD")
    referral_code: Mapped[str | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Session(Base):
    """A refresh-token session (7-day expiry). The token is stored hashed."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index(None, "user_id"),
        Index(None, "refresh_token"),
        Index(None, "expires_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    refresh_token: Mapped[str] = mapped_column(unique=True)
    expires_at: Mapped[datetime]
    ip_address: Mapped[str | None]
    user_agent: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()
    # Rotation chain (revision 0002): every refresh writes a new row whose parent is the row it
    # replaced; the old row stays, revoked, so presenting its token again reveals token theft.
    parent_id: Mapped[str | None] = mapped_column(fk("sessions.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None]
    last_used_at: Mapped[datetime | None]


class TwoFactorAuth(Base):
    __tablename__ = "two_factor_auth"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"), unique=True)
    secret: Mapped[str]
    backup_codes: Mapped[list[str]] = mapped_column(TextArray)
    enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # The last accepted TOTP time step (revision 0002): a code is accepted only for a later step.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class LoginHistory(Base):
    __tablename__ = "login_history"
    __table_args__ = (Index(None, "user_id"), Index(None, "created_at"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    ip_address: Mapped[str]
    user_agent: Mapped[str | None]
    success: Mapped[bool]
    failure_reason: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()


class KnownDevice(Base):
    __tablename__ = "known_devices"
    __table_args__ = (UniqueConstraint("user_id", "device_fingerprint"), Index(None, "user_id"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    device_fingerprint: Mapped[str]
    device_name: Mapped[str]
    ip_address: Mapped[str]
    last_used_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    trusted: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()


class PrivacySettings(Base):
    __tablename__ = "privacy_settings"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"), unique=True)
    profile_visibility: Mapped[str] = mapped_column(default="private", server_default="private")
    show_email: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    show_phone: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    allow_messages_from: Mapped[str] = mapped_column(default="contacts", server_default="contacts")
    data_usage_consent: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    marketing_emails_consent: Mapped[bool] = mapped_column(
        default=False, server_default=text("false")
    )
    third_party_data_sharing: Mapped[bool] = mapped_column(
        default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class DataExport(Base):
    __tablename__ = "data_exports"
    __table_args__ = (Index(None, "user_id"), Index(None, "status"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    export_type: Mapped[str]
    status: Mapped[str]
    file_url: Mapped[str | None]
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class ApiKey(Base):
    """Nexgent addition: programmatic access keys. Only a hash and a visible prefix are stored."""

    __tablename__ = "api_keys"
    __table_args__ = (Index(None, "user_id"), Index(None, "key_prefix"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    name: Mapped[str]
    key_hash: Mapped[str] = mapped_column(unique=True)
    key_prefix: Mapped[str]
    scopes: Mapped[list[str]] = mapped_column(
        TextArray, default=list, server_default=text("'{}'::varchar[]")
    )
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


__all__ = [
    "ApiKey",
    "DataExport",
    "KnownDevice",
    "LoginHistory",
    "PrivacySettings",
    "Session",
    "TwoFactorAuth",
    "User",
]
