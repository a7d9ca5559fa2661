"""Referrals: who referred whom, with the code used and reward tracking."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, fk, id_column, money


class Referral(Base):
    """A referral from one user to another; each user can be referred only once."""

    __tablename__ = "referrals"
    __table_args__ = (Index(None, "referrer_id"), Index(None, "code"))

    id: Mapped[str] = id_column()
    referrer_id: Mapped[str] = mapped_column(fk("users.id"))
    referred_id: Mapped[str] = mapped_column(fk("users.id"), unique=True)
    code: Mapped[str] = mapped_column(unique=True)
    reward_amount: Mapped[Decimal] = money(default=0)
    status: Mapped[str] = mapped_column(default="pending", server_default="pending")
    created_at: Mapped[datetime] = created_at_column()
    rewarded_at: Mapped[datetime | None]


__all__ = ["Referral"]
