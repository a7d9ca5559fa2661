"""Shared fixtures: a migrated real PostgreSQL database per run (per worker under
pytest-xdist, each a copy of one migrated template), emptied before every test that asks."""

from __future__ import annotations

import asyncio
import math
import os
import statistics
from collections.abc import AsyncIterator

import pytest

from core.db.engine import Database
from tests import costs, pg
from tests.reset import ResetPlan, plan_reset, reset

# Keep the tests' files out of the developer's own directories; pytest-xdist workers each get
# their own (they share the embedded server, each with databases of its own).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
for _kind in ("data", "config", "state"):
    os.environ.setdefault(
        f"BLOCKBOTX_{_kind.upper()}_DIR",
        str(pg.TEST_PGDATA.parent / f"blockbotx-test-{_kind}-{_WORKER}"),
    )
# A fixed master key and no system keyring, so vault tests are repeatable on any machine.
os.environ.setdefault("BLOCKBOTX_MASTER_KEY", "0" * 64)
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"


def pytest_configure(config: pytest.Config) -> None:
    """On the controller (or a run without pytest-xdist): name the run's database templates
    before the workers start, and drop those that runs killed before their end left behind.
    Joining the server here also keeps it up for the whole run."""
    costs.register(config)
    if hasattr(config, "workerinput") or config.option.help or config.option.version:
        return
    pg.run_templates()
    asyncio.run(pg.drop_templates(this_run=False))


def pytest_unconfigure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.option.help or config.option.version:
        return
    asyncio.run(pg.drop_templates(this_run=True))


@pytest.fixture(scope="session")
async def migrated_url() -> AsyncIterator[str]:
    """This worker's database: a copy of the run's migrated template (migrated once a run)."""
    url = await pg.migrated_copy()
    yield url
    await pg.drop_database(url)


@pytest.fixture(scope="session")
async def session_db(migrated_url: str) -> AsyncIterator[Database]:
    db = Database(migrated_url)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
async def reset_plan(session_db: Database) -> ResetPlan:
    async with session_db.engine.connect() as conn:
        return await plan_reset(conn)


@pytest.fixture
async def db(session_db: Database, reset_plan: ResetPlan) -> Database:
    """A migrated database with every table empty (system_settings back to defaults)."""
    await reset(session_db, reset_plan)
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The costliest modules first, each module's tests kept together and in their order.

    pytest-xdist (``--dist worksteal``, pyproject) hands each worker a run of consecutive tests
    and lets an idle worker take the last half of the other's queue. A 30 s test that came last
    would keep one core busy while the others have nothing left; started first, the quick tests
    fill in around it, and the run ends on modules of a second or less. The costs are each
    module's wall time as last saved (tests/durations.json, ``python -m tests.costs --save``); a
    module not in it yet goes first if it is marked ``slow`` (it starts processes), else it
    counts as a middling one. Keeping a module together means its module-scoped fixtures are
    built once per worker that runs it, not once per test handed out round robin.
    """
    known = costs.durations()
    middling = statistics.median(known.values()) if known else 0.0
    modules = [item.nodeid.split("::")[0] for item in items]
    rank = {module: position for position, module in enumerate(dict.fromkeys(modules))}
    slow = {m for m, item in zip(modules, items, strict=True) if item.get_closest_marker("slow")}

    def cost(module: str) -> float:
        return known.get(module, math.inf if module in slow else middling)

    order = {id(item): (-cost(m), rank[m]) for m, item in zip(modules, items, strict=True)}
    items.sort(key=lambda item: order[id(item)])
