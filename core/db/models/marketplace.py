"""Marketplace: strategies for sale, their reviews and purchases."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, fk, id_column, money, updated_at_column


class Strategy(Base):
    """A trading strategy or bot configuration listed in the marketplace."""

    __tablename__ = "strategies"
    __table_args__ = (Index(None, "creator_id"), Index(None, "category"), Index(None, "rating"))

    id: Mapped[str] = id_column()
    creator_id: Mapped[str] = mapped_column(fk("users.id"))
    name: Mapped[str]
    description: Mapped[str]
    price: Mapped[Decimal] = money()
    type: Mapped[str]
    category: Mapped[str | None]
    config: Mapped[dict[str, Any]]
    performance: Mapped[dict[str, Any] | None]
    rating: Mapped[Decimal] = money(default=0)
    downloads: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class StrategyReview(Base):
    """A user's 1-5 star review of a strategy; one per user per strategy (user_id has no FK)."""

    __tablename__ = "strategy_reviews"
    __table_args__ = (UniqueConstraint("strategy_id", "user_id"), Index(None, "strategy_id"))

    id: Mapped[str] = id_column()
    strategy_id: Mapped[str] = mapped_column(fk("strategies.id"))
    user_id: Mapped[str]
    rating: Mapped[int]
    comment: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()


class StrategyPurchase(Base):
    """A purchase of a strategy; one per user per strategy (user_id has no FK)."""

    __tablename__ = "strategy_purchases"
    __table_args__ = (
        UniqueConstraint("user_id", "strategy_id"),
        Index(None, "user_id"),
        Index(None, "strategy_id"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str]
    strategy_id: Mapped[str] = mapped_column(fk("strategies.id"))
    price: Mapped[Decimal] = money()
    status: Mapped[str] = mapped_column(default="completed", server_default="completed")
    created_at: Mapped[datetime] = created_at_column()


__all__ = ["Strategy", "StrategyPurchase", "StrategyReview"]
