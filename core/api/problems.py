"""Errors as RFC 9457 problem details (``application/problem+json``).

The ``detail`` of a service error is the service's own message, the one the TUI shows. Any other
exception is a 500 whose detail says nothing about the internals (it is logged instead).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from core.services.api_keys import ScopeMissing
from core.services.lockout import AuthenticationFailed
from core.validation import sentence

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://blockbotx.dev/problems/"


class ApiProblem(Exception):
    """A refusal made by the API layer itself (no key, rate limited...)."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def status_of(exc: ServiceError) -> int:
    """The HTTP status a service error maps to (most specific class first)."""
    if isinstance(exc, ScopeMissing):
        return 403
    if isinstance(exc, AuthenticationFailed):
        return 401
    for kind, status in ((NotFound, 404), (Forbidden, 403), (Conflict, 409), (InvalidInput, 422)):
        if isinstance(exc, kind):
            return status
    return 400


def problem(
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> JSONResponse:
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": TYPE_BASE + title.lower().replace(" ", "-").replace("'", ""),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _validation_detail(errors: list[Any]) -> tuple[str, list[dict[str, str]]]:
    """The field path as sent (``config.quote_amount``) beside a message in words (``Quote
    amount must be a number.``): the one translation of :mod:`core.validation`."""
    fields = []
    for e in errors:
        loc = tuple(p for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        fields.append({"field": ".".join(str(p) for p in loc), "message": sentence(loc, e)})
    first = fields[0] if fields else {"field": "", "message": "Invalid input."}
    return first["message"], fields


def _data_exception(exc: DBAPIError) -> bool:
    """PostgreSQL's class 22, "data exception": a value it can't take (NUL in text, a number
    out of range), as opposed to a lost connection or a bug in a query."""
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(state, str):
            return state.startswith("22")
    return False


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> JSONResponse:
        errors = None
        if isinstance(exc, InvalidInput) and exc.field:
            errors = [{"field": exc.field, "message": str(exc)}]
        return problem(status_of(exc), str(exc), errors=errors)

    @app.exception_handler(ApiProblem)
    async def _api(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem(exc.status, exc.detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, fields = _validation_detail(list(exc.errors()))
        return problem(422, detail, errors=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem(exc.status_code, detail, headers=dict(exc.headers or {}))

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if not _data_exception(exc):
            return await _unexpected(request, exc)
        # PostgreSQL refused a value the checks let through (its transaction rolled back): the
        # input's fault, said plainly; logged so a missing check can be added where it belongs.
        log.warning(
            "database refused a value in %s %s: %s", request.method, request.url.path, exc.orig
        )
        if "0x00" in str(exc.orig):
            return problem(422, "Text can't contain NUL characters (\\u0000).")
        return problem(422, "A value doesn't fit: too long, out of range or not valid text.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        return problem(500, "Something went wrong on the server; it was logged.")
