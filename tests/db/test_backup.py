"""``blockbotx db backup`` / ``db restore`` as an operator runs them (in process through
tests/cli_runner.py; pg_dump and pg_restore are real processes), against real databases."""

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import migrate
from core.db.backup import BackupError, is_empty, restore
from core.db.engine import Database
from core.db.models.trading import PortfolioHistory
from core.db.models.users import User
from tests import pg
from tests.cli_runner import invoke

pytestmark = pytest.mark.slow  # pg_dump and pg_restore

EXACT = Decimal("1234.567890123456789012345678901234")


async def _seeded_database() -> Database:
    db = Database(await pg.migrated_copy("bbx_backup"))
    async with db.session() as s:
        user = User(email="ops@example.com", password="x")
        s.add(user)
        await s.flush()
        s.add(PortfolioHistory(user_id=user.id, total_value=EXACT, assets=[]))
        await s.commit()
    return db


async def _emails(db: Database) -> list[str]:
    async with db.session() as s:
        return list((await s.scalars(select(User.email).order_by(User.email))).all())


async def test_backup_then_restore_elsewhere_and_refuse_overwrite(tmp_path: Path) -> None:
    source = await _seeded_database()
    target = Database(await pg.create_database("bbx_restore"))
    dump = tmp_path / "nightly.dump"
    try:
        made = await invoke(source.url, "db", "backup", str(dump))
        assert made.exit_code == 0, made.stderr
        assert "Backed up" in made.stderr and dump.stat().st_size > 0
        assert not list(tmp_path.glob("*.partial"))

        # Refused over a database that holds data, and nothing changes.
        async with source.session() as s:
            s.add(User(email="after-backup@example.com", password="x"))
            await s.commit()
        refused = await invoke(source.url, "db", "restore", str(dump))
        assert refused.exit_code == 1
        assert "not empty" in refused.stderr and "--force" in refused.stderr
        assert "after-backup@example.com" in await _emails(source)

        # Into an empty database: everything back, money exact.
        assert await is_empty(target)
        restored = await invoke(target.url, "db", "restore", str(dump))
        assert restored.exit_code == 0, restored.stderr
        assert await _emails(target) == ["ops@example.com"]
        async with target.session() as s:
            assert await s.scalar(select(PortfolioHistory.total_value)) == EXACT
        assert await migrate.current_revisions(target) == migrate.head_revisions()

        # --force rolls the source back to the backup.
        forced = await invoke(source.url, "db", "restore", str(dump), "--force")
        assert forced.exit_code == 0, forced.stderr
        assert await _emails(source) == ["ops@example.com"]
    finally:
        for db in (source, target):
            await db.dispose()
            await pg.drop_database(db.url)


async def test_restore_rejects_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-dump.dump"
    bogus.write_text("hello")
    db = Database(await pg.create_database("bbx_bogus"))
    try:
        try:
            await restore(db, bogus)
        except BackupError as exc:
            assert "not a BlockbotX backup" in str(exc)
        else:
            raise AssertionError("a bogus file was accepted")
        missing = await invoke(db.url, "db", "restore", str(tmp_path / "nope.dump"))
        assert missing.exit_code != 0 and "Traceback" not in missing.stderr
    finally:
        await db.dispose()
        await pg.drop_database(db.url)
