"""The test suite's per-test reset: ``tests/reset.py`` (delete from the tables that hold rows)
against the ``TRUNCATE`` of every table it replaced, on a scratch database after a test that
wrote a user with a plan, and after one that wrote nothing.

    python bench/bench_test_reset.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db import migrate
from core.db.engine import Database
from tests import pg
from tests.reset import KEEP_ROWS, RESET_SETTINGS, plan_reset, reset
from tests.service_users import add_user


async def truncate_every_table(db: Database) -> None:
    """The reset the suite used before."""
    async with db.engine.begin() as conn:
        tables = (
            await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables if t not in KEEP_ROWS)
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await conn.execute(text(RESET_SETTINGS))


async def main(runs: int) -> None:
    url = await pg.create_database("bbx_bench_reset")
    db = Database(url)
    try:
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            plan = await plan_reset(conn)
        timings: dict[str, list[float]] = {"truncate": [], "reset": [], "reset, nothing": []}
        for i in range(runs):
            for name in ("truncate", "reset"):
                await add_user(db, f"{name}{i}@example.com", plan="pro")
                started = time.perf_counter()
                await (truncate_every_table(db) if name == "truncate" else reset(db, plan))
                timings[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            await reset(db, plan)
            timings["reset, nothing"].append(time.perf_counter() - started)
        for name, label in (
            ("truncate", "TRUNCATE of every table, after a user with a plan"),
            ("reset", "tests/reset.py, after a user with a plan"),
            ("reset, nothing", "tests/reset.py, nothing written"),
        ):
            print(f"{label}: median {statistics.median(timings[name]) * 1000:.0f} ms")
    finally:
        await db.dispose()
        await pg.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
