"""The webhook receiver: ``POST /signals/<provider id>`` and ``GET /healthz`` (aiohttp).

A request is checked in this order, each failure a JSON ``{"error": code, "message": ...}``
answer that changes nothing:

1. the two headers are present and well formed (400 ``missing_header`` / ``invalid_header``),
   and the body is at most 64 KiB (413 ``body_too_large``);
2. the provider exists and is a webhook provider (404 ``unknown_provider``);
3. the timestamp is fresh (401 ``stale_timestamp``) and the signature matches (401
   ``bad_signature``);
4. the provider is enabled (403 ``provider_disabled``) and under its rate (429 ``rate_limited``;
   only signed requests count, so nobody else can use up a provider's rate);
5. the body is a valid signal (400 ``invalid_json``, 422 ``invalid_signal``);
6. the signature was not seen before (409 ``replayed``).

Then the signal is stored (201 ``accepted``), or, if the provider's ``id`` for it was stored
before, nothing is (200 ``duplicate``). Steps 2–6 and the insert run in one transaction.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.signals import signing
from core.signals.config import read_config
from core.signals.ingest import Source, load_source, nonce_expiry, remember_nonce, store_signal
from core.signals.payload import MAX_BODY_BYTES, PayloadError, parse_signal
from core.signals.ratelimit import RateLimiter

log = logging.getLogger(__name__)

_PROVIDER_ID = re.compile(r"^[a-z0-9]{1,64}$")
DB_KEY = web.AppKey("db", Database)
CLOCK_KEY = web.AppKey("clock", Clock)
LIMITER_KEY = web.AppKey("limiter", RateLimiter)
WINDOW_KEY = web.AppKey("window", int)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    """A request answered with an error; carries the status, the code and the message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields or []
        self.headers = headers or {}

    def response(self) -> web.Response:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return web.json_response(body, status=self.status, headers=self.headers)


_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer is JSON, including aiohttp's own 404/405/413 and unexpected failures."""
    try:
        return await handler(request)
    except Refused as refused:
        provider = request.match_info.get("provider_id", "-")
        log.warning(
            "signal refused: %s %s (provider %s, from %s)",
            refused.status,
            refused.code,
            provider,
            request.remote,
        )
        return refused.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        message = (
            f"The body is larger than {MAX_BODY_BYTES} bytes." if exc.status == 413 else exc.reason
        )
        return Refused(exc.status, code, message).response()
    except DBAPIError:
        log.exception("database error while handling %s", request.path)
        return Refused(
            503, "database_unavailable", "The database is unavailable; retry later."
        ).response()
    except Exception:
        log.exception("unexpected error while handling %s", request.path)
        return Refused(500, "server_error", "The signal could not be handled.").response()


def _headers(request: web.Request) -> tuple[str, int, str]:
    raw_timestamp = request.headers.get(signing.TIMESTAMP_HEADER)
    raw_signature = request.headers.get(signing.SIGNATURE_HEADER)
    missing = [
        name
        for name, value in (
            (signing.TIMESTAMP_HEADER, raw_timestamp),
            (signing.SIGNATURE_HEADER, raw_signature),
        )
        if value is None
    ]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise Refused(
            400, "missing_header", f"The request needs the {' and '.join(missing)} header{plural}."
        )
    timestamp = signing.parse_timestamp(raw_timestamp)
    if timestamp is None:
        raise Refused(
            400, "invalid_header", f"{signing.TIMESTAMP_HEADER} must be unix seconds (digits only)."
        )
    signature = signing.parse_signature(raw_signature)
    if signature is None:
        raise Refused(
            400,
            "invalid_header",
            f"{signing.SIGNATURE_HEADER} must be 64 hex digits (optionally prefixed 'sha256=').",
        )
    return str(raw_timestamp).strip(), timestamp, signature


def take_rate(request: web.Request, source: Source) -> None:
    """Count one authenticated request against the provider's rate (429 when over it)."""
    per_minute = read_config(source.type, source.config).rate_limit_per_minute
    wait = request.app[LIMITER_KEY].take(source.id, per_minute)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise Refused(
            429,
            "rate_limited",
            f"More than {per_minute} signals a minute; retry in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )


def _require_json(request: web.Request) -> None:
    """A signed webhook's body is JSON and says so (aiohttp reads a missing type as
    application/octet-stream): anything else is refused before the body is read."""
    kind = request.content_type
    if kind != "application/json" and not kind.endswith("+json"):
        raise Refused(
            415,
            "unsupported_media_type",
            f"Send the signal as JSON with Content-Type: application/json (not {kind}).",
            headers={"Accept-Post": "application/json"},
        )


async def receive_signal(request: web.Request) -> web.Response:
    provider_id = request.match_info["provider_id"]
    if not _PROVIDER_ID.match(provider_id):
        raise Refused(404, "unknown_provider", "No signal provider at this address.")
    _require_json(request)
    raw_timestamp, timestamp, signature = _headers(request)
    body = await request.read()
    db, clock = request.app[DB_KEY], request.app[CLOCK_KEY]
    window = request.app[WINDOW_KEY]
    try:
        async with db.sessions.begin() as session:
            source = await load_source(session, provider_id)
            if source is None or source.type != "webhook":
                raise Refused(404, "unknown_provider", "No signal provider at this address.")
            now = clock.now()
            if not signing.is_fresh(timestamp, now.timestamp(), window):
                raise Refused(
                    401,
                    "stale_timestamp",
                    f"The timestamp is more than {window} seconds away from the server's clock.",
                )
            if source.key is None:
                log.error("signal provider %s has no usable key (vault)", source.id)
                raise Refused(500, "server_error", "The provider's key can't be read.")
            if not signing.signature_matches(source.key, raw_timestamp, body, signature):
                raise Refused(401, "bad_signature", "The signature does not match the body.")
            if not source.is_active:
                raise Refused(403, "provider_disabled", "This signal provider is disabled.")
            take_rate(request, source)
            try:
                payload = parse_signal(body)
            except PayloadError as exc:
                status = {"invalid_json": 400, "body_too_large": 413}.get(exc.code, 422)
                raise Refused(status, exc.code, exc.message, fields=exc.fields) from None
            expires = nonce_expiry(timestamp, window)
            if not await remember_nonce(session, source.id, signature, expires_at=expires):
                raise Refused(409, "replayed", "This request was already received.")
            stored = await store_signal(session, source, payload, received=now)
    except IntegrityError:
        # The provider was deleted between the lookup and the insert.
        raise Refused(404, "unknown_provider", "No signal provider at this address.") from None
    if stored.duplicate:
        log.info("signal %s of provider %s: duplicate id", stored.signal_id, source.id)
        return web.json_response({"status": "duplicate", "signal_id": stored.signal_id})
    log.info(
        "signal %s from provider %s: %s %s",
        stored.signal_id,
        source.id,
        payload.action,
        payload.symbol,
    )
    return web.json_response({"status": "accepted", "signal_id": stored.signal_id}, status=201)


async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[DB_KEY].engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


def create_app(
    db: Database, *, clock: Clock = SYSTEM_CLOCK, window_seconds: int = signing.WINDOW_SECONDS
) -> web.Application:
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app[DB_KEY] = db
    app[CLOCK_KEY] = clock
    app[LIMITER_KEY] = RateLimiter(clock)
    app[WINDOW_KEY] = window_seconds
    app.router.add_post("/signals/{provider_id}", receive_signal)
    app.router.add_get("/healthz", healthz)
    return app
