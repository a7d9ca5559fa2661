"""Signal providers: providers, their signals, and per-bot signal executions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import (
    Base,
    created_at_column,
    fk,
    id_column,
    money,
    updated_at_column,
)


class SignalProvider(Base):
    """An external signal source (webhook, API or Telegram bot).

    ``user_id`` (revision 0006, not in the seed) is the owner; NULL marks a system provider that
    administrators manage and every user may follow. ``api_key`` holds a vault ciphertext bound
    to the provider's id.
    """

    __tablename__ = "signal_providers"
    __table_args__ = (
        Index(None, "name"),
        Index(None, "type"),
        Index(None, "is_active"),
        Index(None, "user_id"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str | None] = mapped_column(fk("users.id"))
    name: Mapped[str]
    type: Mapped[str]
    url: Mapped[str | None]
    api_key: Mapped[str | None]
    config: Mapped[dict[str, Any]]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    reliability: Mapped[Decimal] = money(default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Signal(Base):
    """One trading signal from a provider.

    The seed's ``metadata`` column is mapped as the attribute ``metadata_``: ``metadata`` is
    reserved on declarative classes.
    """

    __tablename__ = "signals"
    __table_args__ = (
        Index(None, "provider_id"),
        Index(None, "symbol"),
        Index(None, "action"),
        Index(None, "processed"),
        Index(None, "created_at"),
        Index(None, "processed", "created_at"),
        UniqueConstraint("provider_id", "external_id"),
    )

    id: Mapped[str] = id_column()
    provider_id: Mapped[str] = mapped_column(fk("signal_providers.id"))
    symbol: Mapped[str]
    action: Mapped[str]
    price: Mapped[Decimal | None] = money(nullable=True)
    stop_loss: Mapped[Decimal | None] = money(nullable=True)
    take_profit: Mapped[Decimal | None] = money(nullable=True)
    confidence: Mapped[Decimal | None] = money(nullable=True)
    reason: Mapped[str | None]
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    processed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    # Revision 0006: the provider's own id for the signal, so a redelivered or re-polled signal
    # is stored once.
    external_id: Mapped[str | None]


class SignalNonce(Base):
    """Revision 0006: signatures of accepted webhook requests, kept while they could be replayed.

    Shared by every receiver process, so a request replayed to another process is refused too.
    Rows past ``expires_at`` can no longer pass the timestamp check and are purged.
    """

    __tablename__ = "signal_nonces"
    __table_args__ = (UniqueConstraint("provider_id", "nonce"), Index(None, "expires_at"))

    id: Mapped[str] = id_column()
    provider_id: Mapped[str] = mapped_column(fk("signal_providers.id"))
    nonce: Mapped[str]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()


class SignalExecution(Base):
    """Nexgent addition: how one bot processed one signal (success, failed or skipped)."""

    __tablename__ = "signal_executions"
    __table_args__ = (
        UniqueConstraint("signal_id", "bot_id"),
        Index(None, "bot_id"),
        Index(None, "status"),
    )

    id: Mapped[str] = id_column()
    signal_id: Mapped[str] = mapped_column(fk("signals.id"))
    bot_id: Mapped[str] = mapped_column(fk("bots.id"))
    status: Mapped[str]
    reason: Mapped[str | None]
    trade_id: Mapped[str | None] = mapped_column(fk("trades.id", ondelete="SET NULL"))
    # The executions.execution_id (idempotency key) this signal produced, if any.
    execution_id: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()


__all__ = ["Signal", "SignalExecution", "SignalNonce", "SignalProvider"]
