"""TradingView alerts on the signal receiver: ``POST /tv/<provider id>/<token>`` (or
``POST /tv/<provider id>`` with the token as the body's ``passphrase``).

The content type is not checked: TradingView sends JSON as ``text/plain``. A request is checked
in this order, each failure a JSON ``{"error": code, "message": ...}`` answer that changes
nothing:

1. the provider exists, is a ``tradingview`` provider and the token matches (else 404
   ``unknown_provider``, the same answer whichever part is wrong, so a token can't be probed);
2. the provider is enabled (403 ``provider_disabled``) and under its rate (429);
3. the body is an alert (400 ``invalid_json``, 422 ``invalid_signal``) whose ticker names a pair;
4. the same body was not received within the replay window (409 ``replayed``).

Then the signal is stored (201 ``accepted``). Steps 1–4 and the insert run in one transaction.
"""

from __future__ import annotations

import logging
import re

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.signals import signing
from core.signals.config import ALERT_PATH
from core.signals.ingest import load_source, nonce_expiry, remember_nonce, store_signal
from core.signals.payload import MAX_BODY_BYTES, PayloadError, decode_json
from core.signals.receiver import (
    CLOCK_KEY,
    DB_KEY,
    WINDOW_KEY,
    Refused,
    create_app,
    take_rate,
)
from core.signals.tradingview import (
    body_digest,
    passphrase_of,
    read_alert,
    to_signal,
    token_matches,
)

log = logging.getLogger(__name__)

_PROVIDER_ID = re.compile(r"^[a-z0-9]{1,64}$")
_UNKNOWN = (404, "unknown_provider", "No signal provider at this address.")


def _refused(exc: PayloadError) -> Refused:
    status = {"invalid_json": 400, "body_too_large": 413}.get(exc.code, 422)
    return Refused(status, exc.code, exc.message, fields=exc.fields)


async def receive_alert(request: web.Request) -> web.Response:
    provider_id = request.match_info["provider_id"]
    if not _PROVIDER_ID.match(provider_id):
        raise Refused(*_UNKNOWN)
    body = await request.read()
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, "body_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        document = decode_json(body)
        problem: PayloadError | None = None
    except PayloadError as exc:
        document, problem = None, exc
    presented = request.match_info.get("token") or passphrase_of(document)
    db, clock, window = request.app[DB_KEY], request.app[CLOCK_KEY], request.app[WINDOW_KEY]
    try:
        async with db.sessions.begin() as session:
            source = await load_source(session, provider_id)
            if source is None or source.type != "tradingview":
                raise Refused(*_UNKNOWN)
            if not token_matches(source.key, presented):
                raise Refused(*_UNKNOWN)
            if not source.is_active:
                raise Refused(403, "provider_disabled", "This signal provider is disabled.")
            take_rate(request, source)
            if problem is not None:
                raise _refused(problem)
            try:
                payload = await to_signal(session, read_alert(document))
            except PayloadError as exc:
                raise _refused(exc) from None
            now = clock.now()
            expires = nonce_expiry(int(now.timestamp()), window)
            if not await remember_nonce(session, source.id, body_digest(body), expires_at=expires):
                raise Refused(
                    409, "replayed", f"The same alert was already received in the last {window} s."
                )
            stored = await store_signal(session, source, payload, received=now)
    except IntegrityError:
        raise Refused(*_UNKNOWN) from None  # the provider was deleted meanwhile
    log.info(
        "TradingView alert %s of provider %s: %s %s",
        stored.signal_id,
        source.id,
        payload.action,
        payload.symbol,
    )
    return web.json_response({"status": "accepted", "signal_id": stored.signal_id}, status=201)


def create_receiver_app(
    db: Database, *, clock: Clock = SYSTEM_CLOCK, window_seconds: int = signing.WINDOW_SECONDS
) -> web.Application:
    """The whole receiver: signed webhooks (``/signals/...``) and TradingView alerts."""
    app = create_app(db, clock=clock, window_seconds=window_seconds)
    app.router.add_post(ALERT_PATH + "{provider_id}", receive_alert)
    app.router.add_post(ALERT_PATH + "{provider_id}/{token}", receive_alert)
    return app
