"""Bot templates: pre-built or user-created bot configurations and their deployments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import (
    Base,
    TextArray,
    Timestamp,
    created_at_column,
    fk,
    id_column,
    updated_at_column,
)


class BotTemplate(Base):
    """A bot configuration template; user_id is null for system templates."""

    __tablename__ = "bot_templates"
    __table_args__ = (
        Index(None, "category"),
        Index(None, "complexity"),
        Index(None, "featured"),
        Index(None, "user_id"),
        Index(None, "visibility"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str | None] = mapped_column(fk("users.id"))
    name: Mapped[str]
    description: Mapped[str]
    category: Mapped[str]
    type: Mapped[str | None]
    complexity: Mapped[str]
    visibility: Mapped[str] = mapped_column(default="private", server_default="private")
    config: Mapped[dict[str, Any]]
    default_settings: Mapped[dict[str, Any] | None]
    tags: Mapped[list[str]] = mapped_column(TextArray)
    usage_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    featured: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class TemplateDeployment(Base):
    """A template deployed as a bot by a user (user_id and bot_id have no FK)."""

    __tablename__ = "template_deployments"
    __table_args__ = (Index(None, "template_id"), Index(None, "user_id"))

    id: Mapped[str] = id_column()
    template_id: Mapped[str] = mapped_column(fk("bot_templates.id"))
    user_id: Mapped[str]
    bot_id: Mapped[str | None]
    customization: Mapped[dict[str, Any]]
    deployed_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())


__all__ = ["BotTemplate", "TemplateDeployment"]
