"""Live push of in-app notifications to open dashboards, through ``core.events``.

Published in the writer's transaction, so dashboards hear of a notification on commit only:
``Event(kind="notification", user_id=..., data={id, type, priority, title})``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.notifications import Notification
from core.events import Event, publish_in

KIND = "notification"
_TITLE_LIMIT = 200


def event_for(row: Notification) -> Event:
    data = {
        "id": row.id,
        "type": str(row.type),
        "priority": str(row.priority),
        "title": row.title[:_TITLE_LIMIT],
    }
    # What happened, for the types that cover several things (a bot paused or stopped).
    action = (row.metadata_ or {}).get("action")
    if action is not None:
        data["action"] = str(action)
    return Event(KIND, row.user_id, data)


async def publish(session: AsyncSession, rows: list[Notification]) -> None:
    for row in rows:
        await publish_in(session, event_for(row))
