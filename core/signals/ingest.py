"""Storing signals once, the replay cache, and the provider as the ingesting side sees it.

Everything here runs inside the caller's transaction: a webhook request stores its nonce and its
signal in one transaction, so a request that fails halfway leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.signals import Signal, SignalNonce, SignalProvider
from core.events import Event, publish_in
from core.security.vault import VaultError, get_vault
from core.signals.payload import SignalPayload, issued_at

KEY_TABLE = "signal_providers"
KEY_FIELD = "api_key"


@dataclass(frozen=True, slots=True)
class Source:
    """A provider as a receiver or poller needs it: its type, settings and decrypted key."""

    id: str
    user_id: str | None
    name: str
    type: str
    url: str | None
    config: dict
    is_active: bool
    key: str | None


def seal_key(provider_id: str, key: str) -> str:
    return get_vault().encrypt(key, table=KEY_TABLE, owner_id=provider_id, field=KEY_FIELD)


def open_key(provider_id: str, sealed: str | None) -> str | None:
    """The provider's key in clear for one use; None when it has none or it can't be opened."""
    if sealed is None:
        return None
    try:
        return get_vault().decrypt(sealed, table=KEY_TABLE, owner_id=provider_id, field=KEY_FIELD)
    except VaultError:
        return None


def source_of(row: SignalProvider) -> Source:
    return Source(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        type=row.type,
        url=row.url,
        config=dict(row.config or {}),
        is_active=row.is_active,
        key=open_key(row.id, row.api_key),
    )


async def load_source(session: AsyncSession, provider_id: str) -> Source | None:
    row = await session.get(SignalProvider, provider_id)
    return None if row is None else source_of(row)


@dataclass(frozen=True, slots=True)
class Stored:
    signal_id: str
    duplicate: bool
    """True when the provider's id was seen before: nothing new was stored."""


async def store_signal(
    session: AsyncSession,
    source: Source,
    payload: SignalPayload,
    *,
    received: datetime,
    external_id: str | None = None,
) -> Stored:
    """Insert the signal unless this provider already sent one with the same id."""
    external_id = external_id or payload.id
    stmt = (
        insert(Signal)
        .values(
            provider_id=source.id,
            symbol=payload.symbol,
            action=payload.action,
            price=payload.price,
            stop_loss=payload.stop_loss,
            take_profit=payload.take_profit,
            confidence=payload.confidence,
            reason=payload.reason,
            metadata=payload.metadata,
            external_id=external_id,
            created_at=issued_at(payload, received),
        )
        .on_conflict_do_nothing(constraint="uq_signals_provider_id_external_id")
        .returning(Signal.id)
    )
    new_id = await session.scalar(stmt)
    if new_id is None:
        existing = await session.scalar(
            select(Signal.id).where(
                Signal.provider_id == source.id, Signal.external_id == external_id
            )
        )
        return Stored(str(existing), duplicate=True)
    await publish_in(
        session,
        Event(
            "signal",
            user_id=source.user_id,
            data={
                "signal_id": new_id,
                "provider_id": source.id,
                "symbol": payload.symbol,
                "action": payload.action,
            },
            at=received,
        ),
    )
    return Stored(new_id, duplicate=False)


async def remember_nonce(
    session: AsyncSession, provider_id: str, nonce: str, *, expires_at: datetime
) -> bool:
    """Record a request's signature; False when it was already seen (a replay)."""
    stmt = (
        insert(SignalNonce)
        .values(provider_id=provider_id, nonce=nonce, expires_at=expires_at)
        .on_conflict_do_nothing(constraint="uq_signal_nonces_provider_id_nonce")
        .returning(SignalNonce.id)
    )
    return await session.scalar(stmt) is not None


async def purge_nonces(session: AsyncSession, now: datetime) -> int:
    """Forget signatures whose timestamps are too old to pass the freshness check anyway."""
    result = await session.execute(delete(SignalNonce).where(SignalNonce.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def nonce_expiry(timestamp: int, window_seconds: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC) + timedelta(seconds=window_seconds)
