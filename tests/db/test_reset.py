"""The per-test reset empties exactly the tables a test wrote to, children before parents, and
puts the settings row back to its defaults."""

from __future__ import annotations

from sqlalchemy import func, select, text, update

from core.db.engine import Database
from core.db.models.admin import SystemSettings
from core.db.models.users import User
from tests.reset import KEEP_ROWS, ResetPlan, reset
from tests.service_users import add_user


async def test_reset_empties_what_was_written_and_nothing_else(
    db: Database, reset_plan: ResetPlan
) -> None:
    assert await reset(db, reset_plan) == []  # the fixture left nothing behind
    # a user with a plan: rows in users, subscriptions (a child of users) and their history
    await add_user(db, "ann@example.com", plan="pro")
    async with db.sessions.begin() as s:
        await s.execute(
            update(SystemSettings).values(maintenance_mode=True, registrations_open=False)
        )
    emptied = await reset(db, reset_plan)
    assert "users" in emptied and "subscriptions" in emptied
    assert emptied.index("subscriptions") < emptied.index("users")  # children first
    assert not KEEP_ROWS & set(emptied)
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0
        settings = await s.get(SystemSettings, "singleton")
        assert settings is not None
        assert (settings.maintenance_mode, settings.registrations_open) == (False, True)
        assert await s.scalar(text("SELECT count(*) FROM alembic_version")) == 1


async def test_the_plan_covers_every_table_in_foreign_key_order(
    db: Database, reset_plan: ResetPlan
) -> None:
    async with db.session() as s:
        tables = set(
            await s.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        )
        references = (
            await s.execute(
                text(
                    "SELECT conrelid::regclass::text, confrelid::regclass::text "
                    "FROM pg_constraint WHERE contype = 'f'"
                )
            )
        ).all()
    assert set(reset_plan.order) == tables - KEEP_ROWS
    position = {name: i for i, name in enumerate(reset_plan.order)}
    for child, parent in references:
        if child != parent and parent in position:
            assert position[child] < position[parent], (child, parent)
