"""Declarative base, column types and mixins shared by every model module.

Conventions (the seed is the spec):
- table names are the seed's; columns are the seed's field names in snake_case;
- ``Decimal`` fields are ``NUMERIC(65, 30)`` read back as ``decimal.Decimal`` (never float);
- ``Json`` is JSONB, ``String[]`` is a text array, ``DateTime`` is ``timestamptz``;
- ids are CUID2 strings generated on the client;
- foreign keys cascade on delete unless the seed says SET NULL.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, DateTime, ForeignKey, MetaData, Numeric, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.ids import new_id

# Deterministic constraint names so alembic autogenerate and downgrades are stable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(65, 30, asdecimal=True)
"""The seed's ``Decimal(65,30)``: every amount, price, fee, percentage and P&L."""

TextArray = ARRAY(String())
Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        Decimal: Money,
        datetime: Timestamp,
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        list[str]: TextArray,
        str: String(),
    }


def id_column() -> Mapped[str]:
    return mapped_column(String(), primary_key=True, default=new_id)


def fk(target: str, *, ondelete: str = "CASCADE", **kwargs: Any) -> ForeignKey:
    """A foreign key that cascades on delete unless told otherwise (the seed's rule)."""
    return ForeignKey(target, ondelete=ondelete, **kwargs)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(Timestamp, nullable=False, server_default=func.now())


def updated_at_column() -> Mapped[datetime]:
    """``updatedAt`` with ``$onUpdate``: set on insert and refreshed on every ORM update."""
    return mapped_column(Timestamp, nullable=False, server_default=func.now(), onupdate=func.now())


def money(*, default: Decimal | int | None = None, nullable: bool = False) -> Mapped[Decimal]:
    if default is None:
        return mapped_column(Money, nullable=nullable)
    return mapped_column(
        Money, nullable=nullable, default=Decimal(default), server_default=str(default)
    )
