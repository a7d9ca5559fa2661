"""The notification inbox and preferences, for the acting user.

Functions take ``(session, actor, ...)`` and run in the caller's transaction: the caller commits
(``async with db.sessions.begin() as session``). The inbox is the user's IN_APP rows that are
due; rows of other channels are delivery records, shown by ``delivery_status``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.notifications import (
    Notification,
    NotificationChannel,
    NotificationPreference,
    NotificationPriority,
    NotificationType,
)
from core.errors import InvalidInput
from core.notifications.preferences import Channels, Preferences
from core.notifications.schedule import DIGEST_FREQUENCIES
from core.security.vault import get_vault
from core.services.actor import Actor, get_owned, require_admin
from core.services.plans import CHANNEL_SWITCH, Limit, check_limit
from core.services.validation import parse

MAX_PAGE = 500
_TELEGRAM_CHAT = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")
_DISCORD_HOSTS = {"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"}
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_NULLABLE = {"telegram_chat_id", "quiet_hours_start", "quiet_hours_end"}


class NotificationView(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: str
    type: NotificationType
    channel: NotificationChannel
    priority: NotificationPriority
    title: str
    message: str
    metadata: dict[str, Any] | None = Field(validation_alias="metadata_")
    read: bool
    delivered: bool
    delivered_at: datetime | None
    failure_reason: str | None
    scheduled_for: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime


def _view(row: Notification) -> NotificationView:
    return NotificationView.model_validate(row)


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    if offset < 0:
        raise InvalidInput("offset can't be negative.", field="offset")


def _enums(values: Iterable[Any] | None, enum: type, field: str) -> list[Any] | None:
    if values is None:
        return None
    try:
        return [enum(v) for v in values]
    except ValueError as exc:
        raise InvalidInput(f"Unknown {field}: {exc}", field=field) from None


def _inbox(actor: Actor):
    return select(Notification).where(
        Notification.user_id == actor.user_id,
        Notification.channel == NotificationChannel.IN_APP,
        Notification.delivered.is_(True),
    )


async def list_notifications(
    session: AsyncSession,
    actor: Actor,
    *,
    unread_only: bool = False,
    types: Iterable[NotificationType | str] | None = None,
    priorities: Iterable[NotificationPriority | str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[NotificationView]:
    """The actor's inbox: unread first, newest first within each."""
    _page(limit, offset)
    stmt = _inbox(actor)
    if unread_only:
        stmt = stmt.where(Notification.read.is_(False))
    if (wanted := _enums(types, NotificationType, "type")) is not None:
        stmt = stmt.where(Notification.type.in_(wanted))
    if (levels := _enums(priorities, NotificationPriority, "priority")) is not None:
        stmt = stmt.where(Notification.priority.in_(levels))
    stmt = stmt.order_by(Notification.read, Notification.created_at.desc(), Notification.id.desc())
    rows = await session.scalars(stmt.limit(limit).offset(offset))
    return [_view(r) for r in rows]


async def unread_count(session: AsyncSession, actor: Actor) -> int:
    stmt = select(func.count()).select_from(
        _inbox(actor).where(Notification.read.is_(False)).subquery()
    )
    return int(await session.scalar(stmt) or 0)


async def mark_read(session: AsyncSession, actor: Actor, notification_id: str) -> NotificationView:
    row = await get_owned(session, Notification, notification_id, actor, what="notification")
    row.read = True
    await session.flush()
    return _view(row)


async def mark_all_read(session: AsyncSession, actor: Actor) -> int:
    """Mark every unread notification of the actor read; returns how many changed."""
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read.is_(False))
        .values(read=True)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delivery_status(
    session: AsyncSession, actor: Actor, *, limit: int = 50
) -> list[NotificationView]:
    """The actor's recent deliveries on channels other than in-app, newest first."""
    _page(limit, 0)
    rows = await session.scalars(
        select(Notification)
        .where(
            Notification.user_id == actor.user_id,
            Notification.channel != NotificationChannel.IN_APP,
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [_view(r) for r in rows]


async def list_failed_deliveries(
    session: AsyncSession, actor: Actor, *, limit: int = 100
) -> list[NotificationView]:
    """Operators: deliveries given up on or still retrying, across all users (admins only)."""
    actor = await require_admin(session, actor)
    _page(limit, 0)
    rows = await session.scalars(
        select(Notification)
        .where(Notification.delivered.is_(False), Notification.failure_reason.is_not(None))
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [_view(r) for r in rows]


# --- preferences -------------------------------------------------------------------------


class PreferencesView(Channels):
    """Preferences as shown to their owner; the Discord webhook URL is never shown back."""

    discord_webhook_set: bool


class PreferencesUpdate(BaseModel):
    """A partial change; fields left out keep their value. ``discord_webhook_url=""`` clears."""

    model_config = ConfigDict(extra="forbid")

    email_enabled: bool | None = None
    email_bot_alerts: bool | None = None
    email_trades: bool | None = None
    email_payments: bool | None = None
    email_support: bool | None = None
    email_marketing: bool | None = None
    in_app_enabled: bool | None = None
    in_app_bot_alerts: bool | None = None
    in_app_trades: bool | None = None
    in_app_payments: bool | None = None
    in_app_support: bool | None = None
    telegram_enabled: bool | None = None
    telegram_chat_id: str | None = None
    telegram_bot_alerts: bool | None = None
    telegram_trades: bool | None = None
    telegram_critical_only: bool | None = None
    discord_enabled: bool | None = None
    discord_webhook_url: str | None = None
    discord_critical_only: bool | None = None
    push_enabled: bool | None = None
    sms_enabled: bool | None = None
    digest_mode: bool | None = None
    digest_frequency: str | None = None
    quiet_hours_enabled: bool | None = None
    quiet_hours_start: int | None = Field(default=None, ge=0, le=23)
    quiet_hours_end: int | None = Field(default=None, ge=0, le=23)

    @field_validator("digest_frequency")
    @classmethod
    def _frequency(cls, v: str | None) -> str | None:
        if v is not None and v not in DIGEST_FREQUENCIES:
            raise ValueError(f"must be one of {', '.join(DIGEST_FREQUENCIES)}")
        return v

    @field_validator("telegram_chat_id")
    @classmethod
    def _chat_id(cls, v: str | None) -> str | None:
        if v is None or v.strip() == "":
            return v
        v = v.strip()
        if not _TELEGRAM_CHAT.match(v):
            raise ValueError("must be a numeric chat id (e.g. 123456789) or a @channelname")
        return v

    @field_validator("discord_webhook_url")
    @classmethod
    def _webhook(cls, v: str | None) -> str | None:
        if v is None or v.strip() == "":
            return v
        v = v.strip()
        parts = urlsplit(v)
        host = (parts.hostname or "").lower()
        is_discord = (
            parts.scheme == "https"
            and host in _DISCORD_HOSTS
            and parts.path.startswith("/api/webhooks/")
        )
        is_local = parts.scheme in ("http", "https") and host in _LOCAL_HOSTS
        if not (is_discord or is_local):
            raise ValueError(
                "must be a Discord webhook URL (https://discord.com/api/webhooks/…) "
                "or a relay on this machine"
            )
        return v


def _show(p: Preferences) -> PreferencesView:
    data = p.model_dump()
    data["discord_webhook_set"] = data.pop("discord_webhook_url") is not None
    return PreferencesView(**data)


async def _row(session: AsyncSession, actor: Actor) -> NotificationPreference | None:
    return await session.scalar(
        select(NotificationPreference)
        .where(NotificationPreference.user_id == actor.user_id)
        .with_for_update()
    )


async def get_preferences(session: AsyncSession, actor: Actor) -> PreferencesView:
    return _show(Preferences.of(await _row(session, actor)))


def merge_preferences(
    current: Preferences, changes: PreferencesUpdate | dict[str, Any], *, owner_id: str
) -> Preferences:
    """``current`` with ``changes`` applied, checked as a whole; raises InvalidInput."""
    given = parse(PreferencesUpdate, changes).model_dump(exclude_unset=True)
    merged = current.model_dump()
    for name, value in given.items():
        if value is None and name not in _NULLABLE:
            raise InvalidInput(f"{name} can't be empty.", field=name)
        if name == "discord_webhook_url":
            value = (
                get_vault().encrypt(
                    value,
                    table="notification_preferences",
                    owner_id=owner_id,
                    field="discord_webhook_url",
                )
                if value
                else None
            )
        elif name == "telegram_chat_id" and value == "":
            value = None
        merged[name] = value
    _check(merged)
    return Preferences(**merged)


async def update_preferences(
    session: AsyncSession, actor: Actor, changes: PreferencesUpdate | dict[str, Any]
) -> PreferencesView:
    """Apply a partial change after checking the result is coherent; nothing changes on error."""
    row = await _row(session, actor)
    before = Preferences.of(row)
    merged = merge_preferences(before, changes, owner_id=actor.user_id).model_dump()
    for channel, switch in CHANNEL_SWITCH.items():  # switching a channel on needs a plan for it
        if merged[switch] and not getattr(before, switch):
            await check_limit(session, actor.user_id, Limit.NOTIFICATION_CHANNEL, channel=channel)
    if row is None:
        row = NotificationPreference(user_id=actor.user_id, **merged)
        session.add(row)
    else:
        for name, value in merged.items():
            setattr(row, name, value)
    await session.flush()
    return _show(Preferences(**merged))


def _check(p: dict[str, Any]) -> None:
    if p["telegram_enabled"] and not p["telegram_chat_id"]:
        raise InvalidInput(
            "Set a Telegram chat id before switching Telegram on.", field="telegram_chat_id"
        )
    if p["discord_enabled"] and not p["discord_webhook_url"]:
        raise InvalidInput(
            "Set a Discord webhook URL before switching Discord on.", field="discord_webhook_url"
        )
    if p["quiet_hours_enabled"]:
        start, end = p["quiet_hours_start"], p["quiet_hours_end"]
        if start is None or end is None:
            raise InvalidInput(
                "Quiet hours need a start and an end hour (0-23).", field="quiet_hours_start"
            )
        if start == end:
            raise InvalidInput(
                "Quiet hours can't start and end at the same hour.", field="quiet_hours_end"
            )
