"""Help and support: help center categories and articles, FAQs, support tickets and messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import (
    Base,
    TextArray,
    created_at_column,
    fk,
    id_column,
    updated_at_column,
)


class HelpCategory(Base):
    """A category that groups help center articles."""

    __tablename__ = "help_categories"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(unique=True)
    description: Mapped[str | None]
    icon: Mapped[str | None]
    order: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[datetime] = created_at_column()


class HelpArticle(Base):
    """A knowledge base article in the help center."""

    __tablename__ = "help_articles"
    __table_args__ = (Index(None, "category_id"), Index(None, "published"), Index(None, "slug"))

    id: Mapped[str] = id_column()
    title: Mapped[str]
    slug: Mapped[str] = mapped_column(unique=True)
    content: Mapped[str]
    category_id: Mapped[str] = mapped_column(fk("help_categories.id"))
    tags: Mapped[list[str]] = mapped_column(TextArray)
    views: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    published: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class FAQ(Base):
    """A frequently asked question; category_id is a plain string (no FK)."""

    __tablename__ = "faqs"

    id: Mapped[str] = id_column()
    question: Mapped[str]
    answer: Mapped[str]
    category_id: Mapped[str | None]
    order: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class SupportTicket(Base):
    """A user support ticket with status and priority tracking."""

    __tablename__ = "support_tickets"
    __table_args__ = (
        Index(None, "user_id"),
        Index(None, "status"),
        Index(None, "priority"),
        Index(None, "category"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    subject: Mapped[str]
    category: Mapped[str]
    status: Mapped[str] = mapped_column(default="open", server_default="open")
    priority: Mapped[str] = mapped_column(default="normal", server_default="normal")
    assigned_to: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    closed_at: Mapped[datetime | None]


class TicketMessage(Base):
    """A message in a support ticket thread, from the user or from staff."""

    __tablename__ = "ticket_messages"
    __table_args__ = (Index(None, "ticket_id"), Index(None, "created_at"))

    id: Mapped[str] = id_column()
    ticket_id: Mapped[str] = mapped_column(fk("support_tickets.id"))
    user_id: Mapped[str] = mapped_column(fk("users.id"))
    content: Mapped[str]
    is_staff_reply: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()


__all__ = ["FAQ", "HelpArticle", "HelpCategory", "SupportTicket", "TicketMessage"]
