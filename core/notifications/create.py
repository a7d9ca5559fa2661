"""The one entry point every part of the app calls to notify a user.

``notify`` writes inside the caller's transaction, so a notification exists exactly when the
change it reports was committed. The rows double as an outbox: delivery to channels other than
in-app is done afterwards by the delivery worker and never blocks the caller.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.notifications import (
    Notification,
    NotificationChannel,
    NotificationPriority,
    NotificationType,
)


async def notify(
    session: AsyncSession,
    *,
    user_id: str,
    type: NotificationType,
    title: str,
    message: str,
    priority: NotificationPriority = NotificationPriority.NORMAL,
    metadata: dict[str, Any] | None = None,
) -> list[str]:
    """Store the in-app notification; returns the ids of the rows written."""
    row = Notification(
        user_id=user_id,
        type=type,
        channel=NotificationChannel.IN_APP,
        priority=priority,
        title=title,
        message=message,
        metadata_=metadata,
    )
    session.add(row)
    await session.flush()
    return [row.id]
