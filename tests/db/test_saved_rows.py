"""Seeded rows saved once and put back: a restore writes every row of every table the seed
wrote, column for column, and a database that isn't empty is seeded for real."""

from __future__ import annotations

from sqlalchemy import text

from core.db.engine import Database
from core.services.actor import Actor
from tests.reset import ResetPlan, reset
from tests.saved_rows import seeded_once
from tests.service_users import add_user
from tests.tui.dash_helpers import trader


async def contents(db: Database, plan: ResetPlan) -> dict[str, list[str]]:
    """Every table's rows as text, in a fixed order (empty tables left out)."""
    out = {}
    async with db.engine.connect() as conn:
        for table in plan.order:
            rows = (await conn.execute(text(f'SELECT t::text FROM "{table}" AS t'))).scalars()
            if listed := sorted(rows):
                out[table] = listed
    return out


async def test_a_restore_puts_back_exactly_the_rows_the_seed_wrote(
    db: Database, reset_plan: ResetPlan
) -> None:
    seeded = await trader(db)  # the worker's first trader seeds; an earlier one saved its rows
    first = await contents(db, reset_plan)
    assert {"users", "sessions", "trades", "positions", "portfolio_history"} <= set(first)
    await reset(db, reset_plan)
    again = await trader(db)  # put back from the saved rows
    assert await contents(db, reset_plan) == first
    assert (again.actor, again.refresh_token) == (seeded.actor, seeded.refresh_token)
    assert again.auth is not seeded.auth  # its clock is the test's own to move


async def test_a_database_with_rows_is_seeded_for_real(db: Database, reset_plan: ResetPlan) -> None:
    calls = []

    async def seed() -> Actor:
        calls.append(1)
        return await add_user(db, f"seed{len(calls)}@example.com")

    first = await seeded_once(db, "one user", seed)
    await reset(db, reset_plan)
    assert await seeded_once(db, "one user", seed) == first and len(calls) == 1
    # a row already there: the saved rows can't stand for this database, so it seeds again
    await add_user(db, "already@example.com")
    second = await seeded_once(db, "one user", seed)
    assert len(calls) == 2 and second.user_id != first.user_id
