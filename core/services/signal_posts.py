"""Posting a signal as a signed-in user (the REST API's ``signals`` scope).

The signal goes to one of the user's own webhook providers, exactly as if that provider's
webhook had received it: the same payload rules (docs/signals.md), the same duplicate check on
the provider's signal id, and the followers' bots act on it at their next cycle. Another user's
provider, and a system provider, are simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.signals import SignalProvider
from core.errors import Conflict, InvalidInput
from core.services.actor import Actor, get_owned
from core.services.sessions import check_id
from core.signals.ingest import source_of, store_signal
from core.signals.payload import PayloadError, parse_signal


@dataclass(frozen=True, slots=True)
class PostedSignal:
    signal_id: str
    duplicate: bool
    """True when the provider already had a signal with this id: nothing new was stored."""


async def post_signal(
    db: Database, actor: Actor, provider_id: str, body: bytes, *, clock: Clock = SYSTEM_CLOCK
) -> PostedSignal:
    """Store the JSON ``body`` as a signal of the actor's webhook provider ``provider_id``."""
    provider_id = check_id(provider_id, "signal provider")
    async with db.sessions.begin() as session:
        row = await get_owned(session, SignalProvider, provider_id, actor, what="signal provider")
        if row.type != "webhook":
            raise Conflict(
                f"Signals can be posted to a webhook provider only; {row.name!r} is {row.type}."
            )
        if not row.is_active:
            raise Conflict("This signal provider is disabled.")
        try:
            payload = parse_signal(body)
        except PayloadError as exc:
            field = exc.fields[0]["field"] if exc.fields else None
            raise InvalidInput(exc.message, field=field) from None
        stored = await store_signal(session, source_of(row), payload, received=clock.now())
    return PostedSignal(stored.signal_id, stored.duplicate)
