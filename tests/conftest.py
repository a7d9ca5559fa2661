"""Shared fixtures: a migrated real PostgreSQL database per run, cleaned before every test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from core.db import migrate
from core.db.engine import Database
from tests import pg

# Keep the tests' files out of the developer's own directories.
os.environ.setdefault("BLOCKBOTX_DATA_DIR", str(pg.TEST_PGDATA.parent / "blockbotx-test-data"))
os.environ.setdefault("BLOCKBOTX_CONFIG_DIR", str(pg.TEST_PGDATA.parent / "blockbotx-test-config"))
os.environ.setdefault("BLOCKBOTX_STATE_DIR", str(pg.TEST_PGDATA.parent / "blockbotx-test-state"))
# A fixed master key and no system keyring, so vault tests are repeatable on any machine.
os.environ.setdefault("BLOCKBOTX_MASTER_KEY", "0" * 64)
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

KEEP_ROWS = {"alembic_version", "system_settings"}


@pytest.fixture(scope="session")
async def migrated_url() -> AsyncIterator[str]:
    url = await pg.create_database()
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()
    yield url
    await pg.drop_database(url)


@pytest.fixture(scope="session")
async def session_db(migrated_url: str) -> AsyncIterator[Database]:
    db = Database(migrated_url)
    yield db
    await db.dispose()


async def truncate_all(db: Database) -> None:
    async with db.engine.begin() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "ORDER BY tablename"
                )
            )
        ).scalars()
        names = [f'"{t}"' for t in tables if t not in KEEP_ROWS]
        if names:
            await conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        await conn.execute(
            text(
                "UPDATE system_settings SET maintenance_mode = false, maintenance_message = NULL, "
                "registrations_open = true, updated_by = NULL"
            )
        )


@pytest.fixture
async def db(session_db: Database) -> Database:
    """A migrated database with every table empty (system_settings back to defaults)."""
    await truncate_all(session_db)
    return session_db


@pytest.fixture
async def empty_database() -> AsyncIterator[Database]:
    """A brand-new database with no schema at all, dropped afterwards."""
    url = await pg.create_database("bbx_empty")
    database = Database(url)
    yield database
    await database.dispose()
    await pg.drop_database(url)


@pytest.fixture(scope="session")
def pgbouncer(migrated_url: str):  # type: ignore[no-untyped-def]
    """pgbouncer (transaction pooling) in front of the run's database; yields its URL."""
    from tests import pgbouncer as bouncer

    if bouncer.binary() is None:
        pytest.skip("pgbouncer binary not found: install Debian's pgbouncer (.ci/run does)")
    running = bouncer.start(migrated_url)
    yield running.url_for(migrated_url)
    running.stop()


@pytest.fixture
async def bounced_db(pgbouncer: str, db: Database) -> AsyncIterator[Database]:
    """The test database reached through pgbouncer, configured as production would be."""
    database = Database(pgbouncer, statement_cache=False)
    yield database
    await database.dispose()
