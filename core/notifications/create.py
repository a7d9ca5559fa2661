"""The one entry point every part of the app calls to notify a user.

``notify`` writes inside the caller's transaction, so a notification exists exactly when the
change it reports was committed. It writes one row per channel the user's preferences route the
notification to (see ``routing``); the rows double as an outbox: the in-app row is delivered at
once (and pushed live on commit), the others are sent afterwards by ``deliver_due``, so a channel
that is down never blocks the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.notifications import (
    Notification,
    NotificationChannel,
    NotificationPreference,
    NotificationPriority,
    NotificationType,
)
from core.db.models.users import User
from core.errors import InvalidInput, NotFound
from core.notifications import live
from core.notifications.preferences import Preferences, user_zone
from core.notifications.routing import channels_for
from core.notifications.schedule import release_time

UNDELIVERABLE = {
    NotificationChannel.PUSH: (
        "Push notifications are not available: no push provider is configured in BlockbotX."
    ),
    NotificationChannel.SMS: ("SMS is not available: no SMS provider is configured in BlockbotX."),
}
TITLE_MAX = 200


def _coerce(value: Any, enum: type, field: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(f"Unknown notification {field} {value!r}.", field=field) from None


async def load_recipient(session: AsyncSession, user_id: str) -> tuple[User, Preferences]:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id!r} to notify.")
    row = await session.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    return user, Preferences.of(row)


def notification_rows(
    user: User,
    prefs: Preferences,
    *,
    type: NotificationType,
    title: str,
    message: str,
    priority: NotificationPriority = NotificationPriority.NORMAL,
    metadata: dict[str, Any] | None = None,
    scheduled_for: datetime | None = None,
    now: datetime,
) -> list[Notification]:
    """The rows of one notification to ``user`` (one per routed channel), not yet added: what
    ``notify`` writes, for callers that write many notifications in one statement."""
    type_ = _coerce(type, NotificationType, "type")
    priority = _coerce(priority, NotificationPriority, "priority")
    title = title.strip()
    if not title:
        raise InvalidInput("A notification needs a title.", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"A title is at most {TITLE_MAX} characters.", field="title")
    if scheduled_for is not None and scheduled_for.tzinfo is None:
        raise InvalidInput("scheduled_for must carry a time zone.", field="scheduled_for")

    tz = user_zone(user.timezone)
    rows: list[Notification] = []
    for channel in channels_for(type_, priority, prefs):
        at, digest = release_time(
            now, channel=channel, priority=priority, p=prefs, tz=tz, requested=scheduled_for
        )
        row = Notification(
            user_id=user.id,
            type=type_,
            channel=channel,
            priority=priority,
            title=title,
            message=message,
            metadata_=metadata,
            scheduled_for=at if at > now else None,
            digest=digest,
            attempts=0,
            created_at=now,
        )
        if channel in UNDELIVERABLE:
            row.delivered, row.failure_reason, row.next_attempt_at = (
                False,
                UNDELIVERABLE[channel],
                None,
            )
        elif channel is NotificationChannel.IN_APP and at <= now:
            row.delivered, row.delivered_at, row.next_attempt_at = True, now, None
        else:
            row.delivered, row.next_attempt_at = False, at
        rows.append(row)
    return rows


async def notify(
    session: AsyncSession,
    *,
    user_id: str,
    type: NotificationType,
    title: str,
    message: str,
    priority: NotificationPriority = NotificationPriority.NORMAL,
    metadata: dict[str, Any] | None = None,
    scheduled_for: datetime | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[str]:
    """Store the notification on every routed channel; returns the ids of the rows written."""
    user, prefs = await load_recipient(session, user_id)
    rows = notification_rows(
        user,
        prefs,
        type=type,
        title=title,
        message=message,
        priority=priority,
        metadata=metadata,
        scheduled_for=scheduled_for,
        now=clock.now(),
    )
    session.add_all(rows)
    await session.flush()
    await live.publish(
        session, [r for r in rows if r.channel is NotificationChannel.IN_APP and r.delivered]
    )
    return [r.id for r in rows]
