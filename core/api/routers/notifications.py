"""The in-app inbox: list, mark read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from core.api.auth import Context, Reader
from core.services import notifications
from core.services.notifications import MAX_PAGE, NotificationView

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", summary="Your notifications: unread first, newest first")
async def list_notifications(
    caller: Reader,
    ctx: Context,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[NotificationView]:
    async with ctx.transaction() as s:
        return await notifications.list_notifications(
            s, caller.actor, unread_only=unread_only, limit=limit, offset=offset
        )


@router.post("/{notification_id}/read", summary="Mark a notification read (scope read)")
async def mark_read(
    caller: Reader, ctx: Context, notification_id: Annotated[str, Path(max_length=64)]
) -> NotificationView:
    async with ctx.transaction() as s:
        return await notifications.mark_read(s, caller.actor, notification_id)
