"""The key owner's account and balances."""

from __future__ import annotations

from datetime import UTC, datetime, time

from fastapi import APIRouter

from core.api.auth import Context, Reader
from core.services.accounts import get_account
from core.services.overview import Overview, overview
from core.services.sessions import AccountInfo

router = APIRouter(prefix="/account", tags=["account"])


@router.get("", summary="The account the key belongs to")
async def account(caller: Reader, ctx: Context) -> AccountInfo:
    return await get_account(ctx.db, caller.actor)


@router.get("/balances", summary="Portfolio value, cash and exposure (paper and live)")
async def balances(caller: Reader, ctx: Context) -> Overview:
    """``realized_today`` and ``trades_today`` count from midnight UTC."""
    day_start = datetime.combine(ctx.clock.now().astimezone(UTC).date(), time(), UTC)
    return await overview(ctx.db, caller.actor, day_start=day_start)
