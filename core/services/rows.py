"""Making an ORM row safe to turn into plain data after a flush.

Columns with a server-side ``onupdate`` (``updated_at``) are expired by a flush that didn't set
them; reading them later would need lazy IO, which async sessions refuse. ``loaded`` reloads just
those attributes, so services can build their frozen views without surprises.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

R = TypeVar("R")


async def loaded(session: AsyncSession, row: R) -> R:
    await session.flush()
    expired = inspect(row).expired_attributes
    if expired:
        await session.refresh(row, attribute_names=list(expired))
    return row
