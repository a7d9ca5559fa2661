"""Facts about the installation itself: database version, schema revision, table count."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from core.db import migrate
from core.db.engine import Database, safe_url


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    url: str
    server_version: str
    revisions: tuple[str, ...]
    up_to_date: bool
    tables: int
    users: int


async def database_status(db: Database) -> DatabaseStatus:
    version = await db.check()
    revisions = await migrate.current_revisions(db)
    async with db.session() as session:
        tables = await session.scalar(
            text(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_name <> 'alembic_version'"
            )
        )
        users = await session.scalar(text("SELECT count(*) FROM users")) if tables else 0
    return DatabaseStatus(
        url=safe_url(db.url),
        server_version=version,
        revisions=tuple(sorted(revisions)),
        up_to_date=revisions == migrate.head_revisions(),
        tables=int(tables or 0),
        users=int(users or 0),
    )
