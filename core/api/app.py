"""The FastAPI application: routers under ``/api/v1``, problem-details errors, the audit of
writes, and the offline docs page."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from core.api import docs_page, problems
from core.api.auth import Caller
from core.api.context import ApiContext
from core.api.routers import (
    account,
    analytics,
    backtests,
    bots,
    notifications,
    orders,
    positions,
    signals,
    trades,
)
from core.services.audit import audit

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
OPENAPI_URL = f"{PREFIX}/openapi.json"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DESCRIPTION = (
    "Drive BlockbotX over HTTP with an API key (`Authorization: Bearer bbx_…`). Each endpoint "
    "needs one scope of the key: read, bots, trade or signals. Errors are RFC 9457 problem "
    "details; money is a decimal string."
)


class Problem(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("The request can't be done as asked"),
    401: _problem("No API key, or one that is unknown, revoked or expired"),
    403: _problem("The key lacks the scope, or the account may not do this"),
    404: _problem("No such object for this key's owner"),
    409: _problem("The change clashes with the object's state"),
    422: _problem("Bad input; `errors` names the fields"),
    429: _problem("Too many requests with this key; see Retry-After"),
}


def _scope(dependant: Dependant) -> str | None:
    for dep in dependant.dependencies:
        scope = getattr(dep.call, "scope", None) or _scope(dep)
        if scope:
            return str(scope)
    return None


def _document_scopes(router: APIRouter) -> None:
    """Name each operation's scope in the OpenAPI document (``x-scope``) and its description
    (once: the routers are module-level, shared by every app made)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        extra = route.openapi_extra or {}
        if "x-scope" in extra or not (scope := _scope(route.dependant)):
            continue
        route.openapi_extra = {**extra, "x-scope": scope}
        route.description = f"Scope: `{scope}`. {route.description or ''}".strip()


async def _audit_writes(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """A write that succeeded leaves an audit row with the key's prefix (never the key)."""
    response = await call_next(request)
    caller: Caller | None = getattr(request.state, "caller", None)
    if request.method in WRITES and caller is not None and response.status_code < 400:
        ctx: ApiContext = request.app.state.api
        try:
            async with ctx.db.sessions.begin() as session:
                await audit(
                    session,
                    user_id=caller.actor.user_id,
                    action="api_write",
                    at=ctx.clock.now(),
                    ip_address=caller.actor.ip_address,
                    details={
                        "method": request.method,
                        "path": request.url.path,
                        "status": response.status_code,
                        "key_prefix": caller.key_prefix,
                        "scope": caller.scope,
                    },
                )
        except Exception:  # the write itself is done; losing its audit row must not hide that
            log.exception("could not audit %s %s", request.method, request.url.path)
    return response


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        title="BlockbotX API",
        version="1",
        description=DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = ctx
    problems.install(app)
    for module in (
        account, analytics, bots, positions, orders, trades, backtests, notifications, signals,
    ):  # fmt: skip
        _document_scopes(module.router)
        app.include_router(module.router, prefix=PREFIX, responses=ERRORS)
    app.middleware("http")(_audit_writes)

    @app.get(f"{PREFIX}/docs", include_in_schema=False, response_class=HTMLResponse)
    async def docs() -> str:
        return docs_page.render(app.openapi(), OPENAPI_URL)

    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema()
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
