"""Apply, undo and inspect migrations from inside the app (no alembic.ini needed)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from core.db.engine import Database

log = logging.getLogger(__name__)


def alembic_config() -> Config:
    import migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


async def current_revisions(db: Database) -> set[str]:
    def _current(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def _run(db: Database, fn, *args: str) -> None:  # type: ignore[no-untyped-def]
    cfg = alembic_config()

    def _with_connection(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        fn(cfg, *args)

    async with db.engine.begin() as conn:
        await conn.run_sync(_with_connection)


async def upgrade(db: Database, target: str = "heads") -> None:
    await _run(db, command.upgrade, target)


async def downgrade(db: Database, target: str) -> None:
    await _run(db, command.downgrade, target)


async def pending(db: Database) -> bool:
    return await current_revisions(db) != head_revisions()


async def ensure_current(db: Database) -> bool:
    """Apply pending migrations; True when something was applied (callers say so)."""
    if not await pending(db):
        return False
    before = await current_revisions(db)
    log.info("applying database migrations (from %s)", sorted(before) or "an empty database")
    await upgrade(db)
    return True
