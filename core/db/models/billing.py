"""Subscriptions and payments: subscriptions, their change history, payment transactions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, Timestamp, created_at_column, fk, id_column, money


class Subscription(Base):
    """A user's subscription plan, optionally backed by Stripe or granted by an admin."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index(None, "user_id"), Index(None, "status"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    plan: Mapped[str]
    status: Mapped[str]
    billing_cycle: Mapped[str]
    amount: Mapped[Decimal] = money()
    stripe_customer_id: Mapped[str | None] = mapped_column(unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(unique=True)
    started_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    expires_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    granted_by: Mapped[str | None]
    grant_reason: Mapped[str | None]
    is_complimentary: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class SubscriptionHistory(Base):
    """Audit trail entry: the subscription's plan, status, cycle and amount at a change."""

    __tablename__ = "subscription_history"
    __table_args__ = (Index(None, "subscription_id"),)

    id: Mapped[str] = id_column()
    subscription_id: Mapped[str] = mapped_column(fk("subscriptions.id"))
    plan: Mapped[str]
    status: Mapped[str]
    billing_cycle: Mapped[str]
    amount: Mapped[Decimal] = money()
    change_reason: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()


class Payment(Base):
    """A payment transaction for a subscription or strategy purchase."""

    __tablename__ = "payments"
    __table_args__ = (Index(None, "user_id"), Index(None, "status"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    amount: Mapped[Decimal] = money()
    currency: Mapped[str] = mapped_column(default="USD", server_default="USD")
    type: Mapped[str]
    status: Mapped[str]
    stripe_payment_id: Mapped[str | None] = mapped_column(unique=True)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    created_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None]


__all__ = ["Payment", "Subscription", "SubscriptionHistory"]
