"""Rows a helper wrote to an emptied test database, saved once and put back in later tests.

Seeding through the services (a user signed in, days of paper trading, hourly portfolio
snapshots) costs about a second of CPU in the test and as much again in PostgreSQL. Tests that
start from the same seed get the rows the first of them wrote, copied out and back in with
binary ``COPY`` (milliseconds): the same rows, ids and all, as seeding again would write,
minus the work. Saved per worker process and per database, so a restore goes back into the
database the rows came from (its sequences are already past them).
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from core.db.engine import Database, connect_raw
from tests.reset import ResetPlan, plan_reset


@dataclass(frozen=True)
class SavedRows:
    tables: tuple[tuple[str, bytes], ...]
    """Table name and its rows in ``COPY … (FORMAT binary)``, parents before children."""
    result: Any
    """What the seeding returned."""


_plans: dict[str, ResetPlan] = {}
_saved: dict[tuple[str, str], SavedRows] = {}


def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


async def _tables_in_use(db: Database) -> list[str]:
    """The tables holding rows (besides the migration's own), children before parents."""
    url = _url(db)
    async with db.engine.connect() as conn:
        if url not in _plans:
            _plans[url] = await plan_reset(conn)
        plan = _plans[url]
        used = set((await conn.execute(text(plan.probe))).scalars())
    return [name for name in plan.order if name in used]


async def seeded_once(db: Database, name: str, seed: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``seed()`` on the emptied ``db`` the first time, saving the rows it wrote; later,
    put those rows back instead. Returns what ``seed()`` returned (the first time's result:
    it must describe the rows, not objects a test may change). A database that isn't empty
    is seeded for real, as nothing saved could stand for what it holds."""
    key = (_url(db), name)
    if await _tables_in_use(db):
        return await seed()
    if key in _saved:
        await _restore(db, _saved[key])
        return _saved[key].result
    result = await seed()
    written = await _tables_in_use(db)
    conn = await connect_raw(_url(db))
    try:
        tables = []
        for table in reversed(written):  # parents first, so each restore satisfies its keys
            out = io.BytesIO()
            await conn.copy_from_table(table, output=out, format="binary")
            tables.append((table, out.getvalue()))
    finally:
        await conn.close()
    _saved[key] = SavedRows(tuple(tables), result)
    return result


async def _restore(db: Database, saved: SavedRows) -> None:
    conn = await connect_raw(_url(db))
    try:
        async with conn.transaction():
            for table, rows in saved.tables:
                await conn.copy_to_table(table, source=io.BytesIO(rows), format="binary")
    finally:
        await conn.close()
