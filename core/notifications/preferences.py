"""A user's notification preferences as plain data, with the seed's defaults when no row exists."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

from core.db.models.notifications import NotificationPreference

_BOOKKEEPING = {"id", "user_id", "created_at", "updated_at"}


def _column_defaults() -> dict[str, Any]:
    """Defaults read off the model's columns, so they are written down in one place only."""
    defaults: dict[str, Any] = {}
    for column in NotificationPreference.__table__.columns:
        if column.name in _BOOKKEEPING:
            continue
        default = column.default
        defaults[column.name] = None if default is None else default.arg
    return defaults


DEFAULTS = _column_defaults()


class Channels(BaseModel):
    """The preferences every channel decision reads (all but the Discord webhook, which is a
    secret: routing holds its ciphertext, its owner only sees whether one is set)."""

    model_config = ConfigDict(frozen=True)

    email_enabled: bool
    email_bot_alerts: bool
    email_trades: bool
    email_payments: bool
    email_support: bool
    email_marketing: bool
    in_app_enabled: bool
    in_app_bot_alerts: bool
    in_app_trades: bool
    in_app_payments: bool
    in_app_support: bool
    telegram_enabled: bool
    telegram_chat_id: str | None
    telegram_bot_alerts: bool
    telegram_trades: bool
    telegram_critical_only: bool
    discord_enabled: bool
    discord_critical_only: bool
    push_enabled: bool
    sms_enabled: bool
    digest_mode: bool
    digest_frequency: str
    quiet_hours_enabled: bool
    quiet_hours_start: int | None
    quiet_hours_end: int | None


class Preferences(Channels):
    """Everything routing needs. ``discord_webhook_url`` here is the vault ciphertext."""

    discord_webhook_url: str | None

    @classmethod
    def defaults(cls) -> Preferences:
        return cls(**DEFAULTS)

    @classmethod
    def of(cls, row: NotificationPreference | None) -> Preferences:
        if row is None:
            return cls.defaults()
        return cls(**{name: getattr(row, name) for name in DEFAULTS})


def user_zone(name: str | None) -> tzinfo:
    """The user's IANA time zone; unset or unknown names fall back to UTC."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
