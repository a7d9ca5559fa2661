"""Which channels a notification goes to: its type's group, its priority, the user's toggles.

The seed groups the 28 types (``NOTIFICATION_GROUPS``) and gives per-channel toggles for some
groups only. The mapping, also in docs/notifications.md:

=============  ==================  ==================  =============================
group          in-app              email               Telegram / Discord
=============  ==================  ==================  =============================
bot_alerts     in_app_bot_alerts   email_bot_alerts    telegram_bot_alerts / always
trades         in_app_trades       email_trades        telegram_trades / always
payments       in_app_payments     email_payments      CRITICAL only
marketplace    in_app_payments     email_payments      CRITICAL only
support        in_app_support      email_support       CRITICAL only
referral       (master only)       email_marketing     CRITICAL only
security       always              email master only   always
=============  ==================  ==================  =============================

Every channel also needs its master toggle (``*_enabled``) except in-app for security types,
which can't be switched off. ``*_critical_only`` narrows Telegram / Discord to CRITICAL.
PUSH and SMS (when switched on) carry CRITICAL and security notifications only.
Trade types sit in both ``bot_alerts`` and ``trades``; the narrower ``trades`` toggles win.
"""

from __future__ import annotations

from core.db.models.notifications import (
    NOTIFICATION_GROUPS,
    NotificationChannel,
    NotificationPriority,
    NotificationType,
)
from core.notifications.preferences import Preferences

Channel = NotificationChannel

_GROUP_OF: dict[NotificationType, str] = {}
for _name in ("bot_alerts", "payments", "support", "marketplace", "referral", "security", "trades"):
    for _type in NOTIFICATION_GROUPS[_name]:
        _GROUP_OF[_type] = _name  # "trades" last: it overrides "bot_alerts"
del _name, _type

SECURITY = "security"


def group_of(type_: NotificationType) -> str:
    return _GROUP_OF[type_]


def _in_app(group: str, p: Preferences) -> bool:
    if group == SECURITY:
        return True  # security notices can't be switched off in-app
    toggle = {
        "bot_alerts": p.in_app_bot_alerts,
        "trades": p.in_app_trades,
        "payments": p.in_app_payments,
        "marketplace": p.in_app_payments,
        "support": p.in_app_support,
        "referral": True,
    }[group]
    return p.in_app_enabled and toggle


def _email(group: str, p: Preferences) -> bool:
    toggle = {
        "bot_alerts": p.email_bot_alerts,
        "trades": p.email_trades,
        "payments": p.email_payments,
        "marketplace": p.email_payments,
        "support": p.email_support,
        "referral": p.email_marketing,
        SECURITY: True,
    }[group]
    return p.email_enabled and toggle


def _chat(
    group: str, critical: bool, *, bot_alerts: bool, trades: bool, critical_only: bool
) -> bool:
    by_group = {"bot_alerts": bot_alerts, "trades": trades, SECURITY: True}.get(group, critical)
    return by_group and (critical or not critical_only)


def channels_for(
    type_: NotificationType, priority: NotificationPriority, p: Preferences
) -> list[NotificationChannel]:
    """The channels to write a row for, in-app first."""
    group = group_of(type_)
    critical = priority is NotificationPriority.CRITICAL
    chosen: list[NotificationChannel] = []
    if _in_app(group, p):
        chosen.append(Channel.IN_APP)
    if _email(group, p):
        chosen.append(Channel.EMAIL)
    if (
        p.telegram_enabled
        and p.telegram_chat_id
        and _chat(
            group,
            critical,
            bot_alerts=p.telegram_bot_alerts,
            trades=p.telegram_trades,
            critical_only=p.telegram_critical_only,
        )
    ):
        chosen.append(Channel.TELEGRAM)
    if (
        p.discord_enabled
        and p.discord_webhook_url
        and _chat(
            group, critical, bot_alerts=True, trades=True, critical_only=p.discord_critical_only
        )
    ):
        chosen.append(Channel.DISCORD)
    urgent = critical or group == SECURITY
    if p.push_enabled and urgent:
        chosen.append(Channel.PUSH)
    if p.sms_enabled and urgent:
        chosen.append(Channel.SMS)
    return chosen
