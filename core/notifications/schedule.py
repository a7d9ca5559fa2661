"""When a notification may go out: quiet hours and digest batching, in the user's time zone.

Quiet hours are whole local hours ``[start, end)``; a window with start > end wraps midnight
(22 → 7 is quiet from 22:00 to 06:59). Digests go out at the top of the next local hour
(hourly) or at 09:00 local time (daily). CRITICAL notifications ignore both. In-app rows are
never held by quiet hours or digests: they are the inbox, only ``scheduled_for`` delays them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

from core.db.models.notifications import NotificationChannel, NotificationPriority
from core.notifications.preferences import Preferences

DAILY_DIGEST_HOUR = 9
DIGEST_FREQUENCIES = ("realtime", "hourly", "daily")


def _at_local(day: datetime, hour: int, tz: tzinfo) -> datetime:
    """``hour``:00 local on ``day``'s local date, as UTC (DST gaps resolve forward)."""
    local = datetime.combine(day.date(), time(hour), tzinfo=tz)
    return local.astimezone(UTC)


def in_quiet_hours(moment: datetime, p: Preferences, tz: tzinfo) -> bool:
    start, end = p.quiet_hours_start, p.quiet_hours_end
    if not p.quiet_hours_enabled or start is None or end is None or start == end:
        return False
    hour = moment.astimezone(tz).hour
    return start <= hour < end if start < end else hour >= start or hour < end


def quiet_hours_end(moment: datetime, p: Preferences, tz: tzinfo) -> datetime:
    """The first moment at or after ``moment`` outside quiet hours."""
    if not in_quiet_hours(moment, p, tz):
        return moment
    assert p.quiet_hours_end is not None
    local = moment.astimezone(tz)
    candidate = _at_local(local, p.quiet_hours_end, tz)
    if candidate <= moment:
        candidate = _at_local(local + timedelta(days=1), p.quiet_hours_end, tz)
    return candidate


def next_digest(moment: datetime, frequency: str, tz: tzinfo) -> datetime:
    """The digest slot strictly after ``moment``."""
    local = moment.astimezone(tz)
    if frequency == "hourly":
        return (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(
            UTC
        )
    slot = _at_local(local, DAILY_DIGEST_HOUR, tz)
    if slot <= moment:
        slot = _at_local(local + timedelta(days=1), DAILY_DIGEST_HOUR, tz)
    return slot


def digest_applies(p: Preferences) -> bool:
    return p.digest_mode and p.digest_frequency in ("hourly", "daily")


def release_time(
    now: datetime,
    *,
    channel: NotificationChannel,
    priority: NotificationPriority,
    p: Preferences,
    tz: tzinfo,
    requested: datetime | None = None,
) -> tuple[datetime, bool]:
    """When this channel's row may be sent, and whether it waits for the digest."""
    at = max(now, requested) if requested is not None else now
    if channel is NotificationChannel.IN_APP or priority is NotificationPriority.CRITICAL:
        return at, False
    digest = digest_applies(p)
    if digest:
        at = next_digest(at, p.digest_frequency, tz)
    return quiet_hours_end(at, p, tz), digest
