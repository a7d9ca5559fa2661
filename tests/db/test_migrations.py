"""Migrations and models agree, and the whole schema goes down and up again with data in it."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from core.db import migrate
from core.db.engine import Database
from core.db.models import metadata
from core.db.models.users import User


async def test_autogenerate_finds_no_difference(session_db: Database) -> None:
    def _diff(conn: Connection) -> list:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(ctx, metadata)

    async with session_db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_every_model_table_exists_after_upgrade(session_db: Database) -> None:
    async with session_db.engine.connect() as conn:
        tables = set(
            (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            ).scalars()
        )
    assert set(metadata.tables) <= tables
    assert len(metadata.tables) >= 56


async def test_downgrade_base_then_upgrade_head_with_data(empty_database: Database) -> None:
    db = empty_database
    assert await migrate.pending(db)
    assert await migrate.ensure_current(db) is True
    assert await migrate.ensure_current(db) is False  # idempotent
    async with db.session() as s:
        s.add(User(email="keep@example.com", password="x"))
        await s.commit()

    await migrate.downgrade(db, "base")
    async with db.engine.connect() as conn:
        left = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ).scalar_one()
        enums = (
            await conn.execute(text("SELECT count(*) FROM pg_type WHERE typtype = 'e'"))
        ).scalar_one()
    assert left == 0
    assert enums == 0
    assert await migrate.current_revisions(db) == set()
    assert await migrate.pending(db)

    await migrate.upgrade(db, "0005")
    assert await migrate.pending(db)  # one revision behind
    await migrate.upgrade(db)
    assert await migrate.current_revisions(db) == migrate.head_revisions()
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0
        singleton = await s.scalar(text("SELECT id FROM system_settings"))
    assert singleton == "singleton"


def test_head_is_alembics_only_head() -> None:
    """``pending`` (every start-up) compares with HEAD instead of loading alembic's scripts."""
    assert migrate.head_revisions() == {migrate.HEAD}
