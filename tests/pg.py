"""Test databases on a real PostgreSQL: ``DATABASE_URL`` if set, else the embedded server.

Every test run gets databases of its own (``bbx_test_<random>``), so several runs can share one
server at once; they are dropped at the end of the run.

A database a run needs in several places (the migrated schema on every pytest-xdist worker,
the snapshot tests' demo account) is built once per run, by whichever worker asks first, as a
template (``bbx_tpl_<pid>_<random>_<kind>``, the pid of the run's controller); the others get a
copy of it (``CREATE DATABASE … TEMPLATE``, a file copy: milliseconds where a migration takes
seconds). The controller drops the run's templates at its end, and those of runs that died.

Their commits don't wait for the disk (``synchronous_commit = off`` on the database): a crash of
the server could lose the last few, which a test database never needs back, and the suite's
tests commit thousands of times each. On a busy disk every flush waited for was a test standing
still.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from core.db.engine import connect_raw, to_async_url

TEST_PGDATA = Path(tempfile.gettempdir()) / "blockbotx-test-pgdata"


def server_url() -> str:
    """An async URL to the server's maintenance database."""
    if os.environ.get("DATABASE_URL"):
        return to_async_url(os.environ["DATABASE_URL"])
    from core.db import embedded

    return embedded.url_for("postgres", TEST_PGDATA)


def url_with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def create_database(
    prefix: str = "bbx_test", *, template: str | None = None, wait_for_disk: bool = False
) -> str:
    """Create a database (empty, or a copy of ``template``) and return its async URL;
    ``wait_for_disk`` keeps the server's own ``synchronous_commit`` (for a test about it)."""
    base = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await connect_raw(base)
    try:
        await _create(conn, name, template=template, wait_for_disk=wait_for_disk)
    finally:
        await conn.close()
    return url_with_database(base, name)


async def _create(conn, name: str, *, template: str | None, wait_for_disk: bool) -> None:  # type: ignore[no-untyped-def]
    copied = f' TEMPLATE "{template}"' if template else ""
    await conn.execute(f'CREATE DATABASE "{name}"{copied}')
    if not wait_for_disk:  # a database's settings are not copied with it: set on each
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


TEMPLATE_PREFIX = "bbx_tpl_"
RUN_ENV = "BLOCKBOTX_TEST_RUN"
"""The run's template name part, set by the controller (tests/conftest.py) before the
pytest-xdist workers start, so they all find the same templates."""


def run_templates() -> str:
    """This run's part of the template names: the controller's pid and a random part."""
    return os.environ.setdefault(RUN_ENV, f"{os.getpid()}_{uuid.uuid4().hex[:8]}")


async def migrate_into(url: str) -> None:
    from core.db import migrate
    from core.db.engine import Database

    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


async def migrated_copy(prefix: str = "bbx_test", *, wait_for_disk: bool = False) -> str:
    """A new database holding the migrated schema: a copy of the run's migrated template."""
    return await copy_of("migrated", migrate_into, prefix, wait_for_disk=wait_for_disk)


async def copy_of(
    kind: str,
    build: Callable[[str], Awaitable[None]],
    prefix: str,
    *,
    wait_for_disk: bool = False,
) -> str:
    """A new database copied from the run's ``kind`` template; the first caller of the run, on
    any worker, builds that with ``build(url)`` while the others wait for it. ``build`` must
    close its connections (a template with a connection open can't be copied)."""
    template = f"{TEMPLATE_PREFIX}{run_templates()}_{kind}"
    base = server_url()
    conn = await connect_raw(base)
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", template)
        try:
            if not await conn.fetchval("SELECT true FROM pg_database WHERE datname = $1", template):
                # built under another name, renamed when whole: a failed build is never copied
                building = f"{template}_building"
                await conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                await _create(conn, building, template=None, wait_for_disk=False)
                await build(url_with_database(base, building))
                await conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", template)
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        await _create(conn, name, template=template, wait_for_disk=wait_for_disk)
    finally:
        await conn.close()
    return url_with_database(base, name)


async def drop_templates(*, this_run: bool) -> list[str]:
    """Drop this run's templates (``this_run``), or those of runs whose controller is gone (a
    run killed before its end). Pids are this machine's: with ``DATABASE_URL`` (a server other
    machines' runs may share) only this run's are dropped. Returns the names dropped."""
    import psutil

    mine = f"{TEMPLATE_PREFIX}{run_templates()}_"
    conn = await connect_raw(server_url())
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", TEMPLATE_PREFIX
        )
        dropped = []
        for (name,) in names:
            if this_run:
                if not name.startswith(mine):
                    continue
            elif os.environ.get("DATABASE_URL") or name.startswith(mine):
                continue
            else:
                pid = name.removeprefix(TEMPLATE_PREFIX).split("_", 1)[0]
                if not pid.isdigit() or psutil.pid_exists(int(pid)):
                    continue
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            dropped.append(name)
        return dropped
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    name = make_url(url).database
    conn = await connect_raw(server_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
