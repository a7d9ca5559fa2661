"""The Overview's analytics: portfolio, bot performance, trading and DeFi figures over a period."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from core.api.auth import Context, Reader
from core.services import analytics
from core.services.analytics import AnalyticsView

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get("/{period}", summary="Every analytics figure over a period (docs/commerce.md)")
async def period(
    caller: Reader, ctx: Context, period: Literal["24h", "7d", "30d", "90d", "1y", "all"]
) -> dict[str, AnalyticsView]:
    """Cached figures, recomputed first when older than five minutes."""
    async with ctx.transaction() as s:
        return await analytics.get_period(s, caller.actor, period, clock=ctx.clock)
