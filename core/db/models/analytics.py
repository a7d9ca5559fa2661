"""Analytics: per-user analytics snapshots by type and period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, fk, id_column, updated_at_column


class Analytics(Base):
    """An analytics snapshot (portfolio, bot_performance, ...) for a period (24h ... all)."""

    __tablename__ = "analytics"
    __table_args__ = (
        Index(None, "user_id"),
        Index(None, "type"),
        Index(None, "period"),
        Index(None, "created_at"),
        Index(None, "user_id", "type", "period"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    type: Mapped[str]
    period: Mapped[str]
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


__all__ = ["Analytics"]
