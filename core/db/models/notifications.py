"""Notifications: multi-channel notifications, per-user preferences and the notification enums."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, fk, id_column, updated_at_column


class NotificationType(enum.StrEnum):
    """What a notification is about (the seed's 28 values, in its order)."""

    # Bot alerts
    BOT_CREATED = "BOT_CREATED"
    BOT_STARTED = "BOT_STARTED"
    BOT_STOPPED = "BOT_STOPPED"
    BOT_ERROR = "BOT_ERROR"
    TRADE_EXECUTED = "TRADE_EXECUTED"
    STOP_LOSS_HIT = "STOP_LOSS_HIT"
    TAKE_PROFIT_HIT = "TAKE_PROFIT_HIT"
    DAILY_REPORT = "DAILY_REPORT"
    WEEKLY_REPORT = "WEEKLY_REPORT"
    # Payment & subscription
    PAYMENT_SUCCESS = "PAYMENT_SUCCESS"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    SUBSCRIPTION_CREATED = "SUBSCRIPTION_CREATED"
    SUBSCRIPTION_UPGRADED = "SUBSCRIPTION_UPGRADED"
    SUBSCRIPTION_CANCELLED = "SUBSCRIPTION_CANCELLED"
    SUBSCRIPTION_RENEWED = "SUBSCRIPTION_RENEWED"
    # Support
    TICKET_CREATED = "TICKET_CREATED"
    TICKET_MESSAGE = "TICKET_MESSAGE"
    TICKET_STATUS_CHANGED = "TICKET_STATUS_CHANGED"
    TICKET_CLOSED = "TICKET_CLOSED"
    # Marketplace
    STRATEGY_PURCHASED = "STRATEGY_PURCHASED"
    STRATEGY_REVIEW = "STRATEGY_REVIEW"
    # Referral
    REFERRAL_JOINED = "REFERRAL_JOINED"
    REFERRAL_ACTIVATED = "REFERRAL_ACTIVATED"
    REWARD_EARNED = "REWARD_EARNED"
    # Security
    LOGIN_NEW_DEVICE = "LOGIN_NEW_DEVICE"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"
    TWO_FA_ENABLED = "TWO_FA_ENABLED"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"


class NotificationChannel(enum.StrEnum):
    """Where a notification is delivered."""

    EMAIL = "EMAIL"
    IN_APP = "IN_APP"
    TELEGRAM = "TELEGRAM"
    DISCORD = "DISCORD"
    PUSH = "PUSH"
    SMS = "SMS"


class NotificationPriority(enum.StrEnum):
    """How urgent a notification is."""

    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


_T = NotificationType

NOTIFICATION_GROUPS: dict[str, frozenset[NotificationType]] = {
    "bot_alerts": frozenset(
        {
            _T.BOT_CREATED,
            _T.BOT_STARTED,
            _T.BOT_STOPPED,
            _T.BOT_ERROR,
            _T.TRADE_EXECUTED,
            _T.STOP_LOSS_HIT,
            _T.TAKE_PROFIT_HIT,
            _T.DAILY_REPORT,
            _T.WEEKLY_REPORT,
        }
    ),
    "trades": frozenset({_T.TRADE_EXECUTED, _T.STOP_LOSS_HIT, _T.TAKE_PROFIT_HIT}),
    "payments": frozenset(
        {
            _T.PAYMENT_SUCCESS,
            _T.PAYMENT_FAILED,
            _T.SUBSCRIPTION_CREATED,
            _T.SUBSCRIPTION_UPGRADED,
            _T.SUBSCRIPTION_CANCELLED,
            _T.SUBSCRIPTION_RENEWED,
        }
    ),
    "support": frozenset(
        {_T.TICKET_CREATED, _T.TICKET_MESSAGE, _T.TICKET_STATUS_CHANGED, _T.TICKET_CLOSED}
    ),
    "marketplace": frozenset({_T.STRATEGY_PURCHASED, _T.STRATEGY_REVIEW}),
    "referral": frozenset({_T.REFERRAL_JOINED, _T.REFERRAL_ACTIVATED, _T.REWARD_EARNED}),
    "security": frozenset(
        {_T.LOGIN_NEW_DEVICE, _T.PASSWORD_CHANGED, _T.TWO_FA_ENABLED, _T.ACCOUNT_LOCKED}
    ),
}
"""Notification types by preference group. ``trades`` overlaps ``bot_alerts`` (the seed lists
trade alerts under bot alerts, while preferences have separate ``*_trades`` toggles)."""

del _T


class Notification(Base):
    """A notification for a user on one channel, with scheduling and delivery tracking."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index(None, "user_id"),
        Index(None, "read"),
        Index(None, "delivered"),
        Index(None, "created_at"),
        Index(None, "type"),
        Index(None, "channel"),
        Index(None, "priority"),
        # The delivery worker's query: undelivered rows whose next attempt is due.
        Index(None, "delivered", "next_attempt_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    type: Mapped[NotificationType] = mapped_column(
        Enum(
            NotificationType,
            name="notification_type",
            values_callable=lambda e: [m.value for m in e],
        )
    )
    channel: Mapped[NotificationChannel] = mapped_column(
        Enum(
            NotificationChannel,
            name="notification_channel",
            values_callable=lambda e: [m.value for m in e],
        )
    )
    priority: Mapped[NotificationPriority] = mapped_column(
        Enum(
            NotificationPriority,
            name="notification_priority",
            values_callable=lambda e: [m.value for m in e],
        ),
        default=NotificationPriority.NORMAL,
        server_default=NotificationPriority.NORMAL.value,
    )
    title: Mapped[str]
    message: Mapped[str] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    read: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    delivered: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    delivered_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None]
    scheduled_for: Mapped[datetime | None]
    # Delivery bookkeeping (migration 0004): how often delivery was tried, when to try next
    # (null once delivered or given up), and whether the row waits for the user's digest.
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None]
    digest: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class NotificationPreference(Base):
    """A user's per-channel notification preferences and quiet hours (one per user)."""

    __tablename__ = "notification_preferences"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"), unique=True)
    email_enabled: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    email_bot_alerts: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    email_trades: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    email_payments: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    email_support: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    email_marketing: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    in_app_enabled: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    in_app_bot_alerts: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    in_app_trades: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    in_app_payments: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    in_app_support: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    telegram_enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    telegram_chat_id: Mapped[str | None]
    telegram_bot_alerts: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    telegram_trades: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    telegram_critical_only: Mapped[bool] = mapped_column(
        default=False, server_default=text("false")
    )
    # Channels the seed has no toggles for (migration 0004). The Discord webhook URL carries a
    # token, so it is stored vault-encrypted.
    discord_enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    discord_webhook_url: Mapped[str | None]
    discord_critical_only: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    push_enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    sms_enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    digest_mode: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    digest_frequency: Mapped[str] = mapped_column(default="realtime", server_default="realtime")
    quiet_hours_enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    quiet_hours_start: Mapped[int | None]
    quiet_hours_end: Mapped[int | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


__all__ = [
    "NOTIFICATION_GROUPS",
    "Notification",
    "NotificationChannel",
    "NotificationPreference",
    "NotificationPriority",
    "NotificationType",
]
