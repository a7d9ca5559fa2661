"""Posting a signal to one of your webhook providers (scope ``signals``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from core.api.auth import Context, Signaller
from core.services.signal_posts import PostedSignal, post_signal
from core.signals.payload import SignalPayload

router = APIRouter(prefix="/signals", tags=["signals"])
# The body is read raw so that JSON numbers become Decimals exactly (never through float),
# as on the webhook; the document still shows its shape.
BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": SignalPayload.model_json_schema()}},
    }
}


@router.post(
    "/{provider_id}",
    status_code=201,
    summary="Post a signal to one of your webhook providers (docs/signals.md)",
    openapi_extra=BODY,
)
async def post(
    caller: Signaller,
    ctx: Context,
    provider_id: Annotated[str, Path(max_length=64)],
    request: Request,
    response: Response,
) -> PostedSignal:
    """201 for a new signal; 200 when the provider already had one with this ``id``."""
    posted = await post_signal(
        ctx.db, caller.actor, provider_id, await request.body(), clock=ctx.clock
    )
    if posted.duplicate:
        response.status_code = 200
    return posted
