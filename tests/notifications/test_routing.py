"""Routing by type group and preferences, quiet hours and digest slots (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.db.models.notifications import NOTIFICATION_GROUPS, NotificationType
from core.db.models.notifications import NotificationChannel as C
from core.db.models.notifications import NotificationPriority as P
from core.notifications.preferences import Preferences
from core.notifications.routing import channels_for, group_of
from core.notifications.schedule import (
    in_quiet_hours,
    next_digest,
    quiet_hours_end,
    release_time,
)

T = NotificationType
DEFAULT = Preferences.defaults()
SECURITY = sorted(NOTIFICATION_GROUPS["security"])


def prefs(**changes: object) -> Preferences:
    return DEFAULT.model_copy(update=changes)


def test_every_seed_type_has_a_group_and_trades_win_over_bot_alerts() -> None:
    assert len(NotificationType) == 28
    assert {group_of(t) for t in NotificationType} == set(NOTIFICATION_GROUPS)
    assert group_of(T.TRADE_EXECUTED) == "trades"
    assert group_of(T.BOT_ERROR) == "bot_alerts"
    assert group_of(T.STRATEGY_PURCHASED) == "marketplace"


def test_defaults_are_in_app_and_email_only() -> None:
    assert channels_for(T.BOT_ERROR, P.HIGH, DEFAULT) == [C.IN_APP, C.EMAIL]
    # referral mail is marketing: opt-in
    assert channels_for(T.REFERRAL_JOINED, P.NORMAL, DEFAULT) == [C.IN_APP]
    assert channels_for(T.REFERRAL_JOINED, P.NORMAL, prefs(email_marketing=True)) == [
        C.IN_APP,
        C.EMAIL,
    ]


@pytest.mark.parametrize("type_", SECURITY)
def test_security_cannot_be_switched_off_in_app(type_: NotificationType) -> None:
    off = prefs(
        in_app_enabled=False,
        in_app_bot_alerts=False,
        in_app_trades=False,
        in_app_payments=False,
        in_app_support=False,
        email_enabled=False,
    )
    assert channels_for(type_, P.LOW, off) == [C.IN_APP]
    assert channels_for(T.TRADE_EXECUTED, P.CRITICAL, off) == []


@pytest.mark.parametrize(
    ("type_", "toggle"),
    [
        (T.BOT_STOPPED, "bot_alerts"),
        (T.STOP_LOSS_HIT, "trades"),
        (T.PAYMENT_FAILED, "payments"),
        (T.STRATEGY_REVIEW, "payments"),
        (T.TICKET_MESSAGE, "support"),
    ],
)
def test_group_toggles_per_channel(type_: NotificationType, toggle: str) -> None:
    assert channels_for(type_, P.NORMAL, prefs(**{f"in_app_{toggle}": False})) == [C.EMAIL]
    assert channels_for(type_, P.NORMAL, prefs(**{f"email_{toggle}": False})) == [C.IN_APP]


def test_telegram_needs_a_chat_id_and_honours_its_toggles() -> None:
    on = prefs(telegram_enabled=True, telegram_chat_id="42", email_enabled=False)
    assert channels_for(T.BOT_ERROR, P.NORMAL, prefs(telegram_enabled=True)) == [C.IN_APP, C.EMAIL]
    assert channels_for(T.BOT_ERROR, P.NORMAL, on) == [C.IN_APP, C.TELEGRAM]
    assert channels_for(
        T.TRADE_EXECUTED, P.NORMAL, on.model_copy(update={"telegram_trades": False})
    ) == [C.IN_APP]
    # payments only reach Telegram when CRITICAL; security always
    assert channels_for(T.PAYMENT_FAILED, P.HIGH, on) == [C.IN_APP]
    assert channels_for(T.PAYMENT_FAILED, P.CRITICAL, on) == [C.IN_APP, C.TELEGRAM]
    assert channels_for(T.PASSWORD_CHANGED, P.NORMAL, on) == [C.IN_APP, C.TELEGRAM]
    critical_only = on.model_copy(update={"telegram_critical_only": True})
    assert channels_for(T.BOT_ERROR, P.HIGH, critical_only) == [C.IN_APP]
    assert channels_for(T.BOT_ERROR, P.CRITICAL, critical_only) == [C.IN_APP, C.TELEGRAM]


def test_discord_push_and_sms() -> None:
    p = prefs(
        discord_enabled=True,
        discord_webhook_url="v1:x:y",
        push_enabled=True,
        sms_enabled=True,
        email_enabled=False,
    )
    assert channels_for(T.TAKE_PROFIT_HIT, P.NORMAL, p) == [C.IN_APP, C.DISCORD]
    assert channels_for(T.ACCOUNT_LOCKED, P.HIGH, p) == [C.IN_APP, C.DISCORD, C.PUSH, C.SMS]
    assert channels_for(T.BOT_ERROR, P.CRITICAL, p) == [C.IN_APP, C.DISCORD, C.PUSH, C.SMS]


NY = ZoneInfo("America/New_York")
QUIET = prefs(quiet_hours_enabled=True, quiet_hours_start=22, quiet_hours_end=7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_quiet_hours_wrap_midnight_in_the_users_zone() -> None:
    # 2026-01-15 03:30 UTC is 22:30 the evening before in New York (EST, UTC-5)
    assert in_quiet_hours(utc(2026, 1, 15, 3, 30), QUIET, NY)
    assert not in_quiet_hours(utc(2026, 1, 15, 2, 59), QUIET, NY)  # 21:59 local
    assert quiet_hours_end(utc(2026, 1, 15, 3, 30), QUIET, NY) == utc(2026, 1, 15, 12, 0)
    assert in_quiet_hours(utc(2026, 1, 15, 11, 59), QUIET, NY)  # 06:59 local
    assert not in_quiet_hours(utc(2026, 1, 15, 12, 0), QUIET, NY)


def test_quiet_hours_across_a_dst_change() -> None:
    # US DST starts 2026-03-08; 07:00 EDT that morning is 11:00 UTC (not 12:00)
    assert quiet_hours_end(utc(2026, 3, 8, 5, 0), QUIET, NY) == utc(2026, 3, 8, 11, 0)


def test_digest_slots() -> None:
    assert next_digest(utc(2026, 1, 15, 10, 20), "hourly", NY) == utc(2026, 1, 15, 11, 0)
    assert next_digest(utc(2026, 1, 15, 11, 0), "hourly", NY) == utc(2026, 1, 15, 12, 0)
    # daily at 09:00 New York = 14:00 UTC in winter
    assert next_digest(utc(2026, 1, 15, 10, 0), "daily", NY) == utc(2026, 1, 15, 14, 0)
    assert next_digest(utc(2026, 1, 15, 14, 0), "daily", NY) == utc(2026, 1, 16, 14, 0)
    # Kolkata is UTC+5:30: the hourly slot is the local top of the hour
    assert next_digest(utc(2026, 1, 15, 10, 20), "hourly", ZoneInfo("Asia/Kolkata")) == utc(
        2026, 1, 15, 10, 30
    )


def test_release_time_critical_and_in_app_pass_everything() -> None:
    p = QUIET.model_copy(update={"digest_mode": True, "digest_frequency": "hourly"})
    night = utc(2026, 1, 15, 4, 10)  # 23:10 in New York
    assert release_time(night, channel=C.EMAIL, priority=P.CRITICAL, p=p, tz=NY) == (night, False)
    assert release_time(night, channel=C.IN_APP, priority=P.LOW, p=p, tz=NY) == (night, False)
    # the digest slot 00:00 local is inside quiet hours: it moves to 07:00 local
    assert release_time(night, channel=C.EMAIL, priority=P.HIGH, p=p, tz=NY) == (
        utc(2026, 1, 15, 12, 0),
        True,
    )
    later = utc(2026, 1, 20, 0, 0)
    assert (
        release_time(night, channel=C.IN_APP, priority=P.LOW, p=p, tz=NY, requested=later)[0]
        == later
    )


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 23),
    end=st.integers(0, 23),
    moment=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
)
def test_quiet_end_is_never_quiet_and_never_earlier(start: int, end: int, moment: datetime) -> None:
    p = prefs(quiet_hours_enabled=True, quiet_hours_start=start, quiet_hours_end=end)
    released = quiet_hours_end(moment, p, NY)
    assert released >= moment
    assert not in_quiet_hours(released, p, NY)
    assert released - moment <= (datetime(2026, 1, 2) - datetime(2026, 1, 1))
