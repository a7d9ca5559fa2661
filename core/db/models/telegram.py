"""Telegram control (revision 0011, not in the seed): which Telegram chat acts for which user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, fk, id_column, updated_at_column


class TelegramLink(Base):
    """One per user: a pending one-time pairing code (its hash) and/or the paired chat.

    ``code_hash`` is the SHA-256 of the code shown in the Security screen; it is cleared when a
    chat pairs with it or it expires. A chat pairs with at most one account (``chat_id`` unique).
    """

    __tablename__ = "telegram_links"
    __table_args__ = (
        UniqueConstraint("user_id"),
        UniqueConstraint("chat_id"),
        UniqueConstraint("code_hash"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    code_hash: Mapped[str | None]
    code_expires_at: Mapped[datetime | None]
    paired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


__all__ = ["TelegramLink"]
