"""Apply, undo and inspect migrations from inside the app (no alembic.ini needed).

Alembic (and its templating) loads only when a migration is inspected or run: the check every
start-up makes (``pending``) compares the database's stamp with ``HEAD`` in one query.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ProgrammingError

from core.db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
HEAD = "0017"
"""The newest revision in migrations/versions (a test proves it is alembic's only head)."""


def alembic_config() -> Config:
    from alembic.config import Config

    import migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


async def current_revisions(db: Database) -> set[str]:
    def _current(conn: Connection) -> set[str]:
        from alembic.runtime.migration import MigrationContext

        return set(MigrationContext.configure(conn).get_current_heads())

    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def _run(db: Database, fn, *args: str) -> None:
    cfg = alembic_config()

    def _with_connection(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        fn(cfg, *args)

    async with db.engine.begin() as conn:
        await conn.run_sync(_with_connection)


async def upgrade(db: Database, target: str = "heads") -> None:
    from alembic import command

    await _run(db, command.upgrade, target)


async def downgrade(db: Database, target: str) -> None:
    from alembic import command

    await _run(db, command.downgrade, target)


async def pending(db: Database) -> bool:
    """True unless the database is stamped with exactly ``HEAD``."""
    try:
        async with db.engine.connect() as conn:
            stamped = set(
                (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars()
            )
    except ProgrammingError:  # no alembic_version table: an empty database
        return True
    return stamped != {HEAD}


async def ensure_current(db: Database) -> bool:
    """Apply pending migrations; True when something was applied (callers say so)."""
    if not await pending(db):
        return False
    before = await current_revisions(db)
    log.info("applying database migrations (from %s)", sorted(before) or "an empty database")
    await upgrade(db)
    return True
