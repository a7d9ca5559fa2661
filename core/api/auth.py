"""Who is calling: the ``Authorization: Bearer <key>`` header checked on every request.

The key is rate limited first (so a flood never reaches the database), then authenticated by
the API-key service with the scope the route needs; that service also refuses a banned or
suspended owner and records ``last_used_at``. A key that is missing, unknown, revoked or expired
is 401; a valid key without the scope is 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core.api.context import ApiContext, api_context
from core.api.problems import ApiProblem
from core.security import tokens
from core.services.actor import Actor
from core.services.api_keys import SCOPES, authenticate_api_key

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (`bbx_…`) created in the Security screen or by "
    "`blockbotx api-key create`.",
)
NO_KEY = "Send an API key as 'Authorization: Bearer <key>'."


@dataclass(frozen=True, slots=True)
class Caller:
    actor: Actor
    key_prefix: str
    """The key's visible prefix (``bbx_<8 hex>``): safe for the audit trail, never the key."""
    scope: str


def scoped(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting callers whose key holds ``scope``."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def caller(
        request: Request,
        ctx: Annotated[ApiContext, Depends(api_context)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        if credentials is None or not credentials.credentials:
            raise ApiProblem(401, NO_KEY)
        key = credentials.credentials
        wait = ctx.limiter.take(tokens.hash_token(key))
        if wait is not None:
            raise ApiProblem(
                429,
                "Too many requests with this API key; slow down.",
                headers={"Retry-After": ctx.limiter.retry_after(wait)},
            )
        actor = await authenticate_api_key(ctx.db, key, scope=scope, auth=ctx.auth)
        host = request.client.host if request.client else None
        found = Caller(
            replace(actor, ip_address=host), key[: len(tokens.API_KEY_PREFIX) + 8], scope
        )
        request.state.caller = found
        return found

    caller.__name__ = f"{scope}_caller"
    caller.scope = scope  # type: ignore[attr-defined]  # read by app.document_scopes
    return caller


Reader = Annotated[Caller, Depends(scoped("read"))]
BotsCaller = Annotated[Caller, Depends(scoped("bots"))]
Trader = Annotated[Caller, Depends(scoped("trade"))]
Signaller = Annotated[Caller, Depends(scoped("signals"))]
Context = Annotated[ApiContext, Depends(api_context)]
