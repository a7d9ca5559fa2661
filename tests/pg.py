"""Test databases on a real PostgreSQL: ``DATABASE_URL`` if set, else the embedded server.

Every test run gets databases of its own (``bbx_test_<random>``), so several runs can share one
server at once; they are dropped at the end of the run.

Their commits don't wait for the disk (``synchronous_commit = off`` on the database): a crash of
the server could lose the last few, which a test database never needs back, and the suite's
tests commit thousands of times each. On a busy disk every flush waited for was a test standing
still.
"""

from __future__ import annotations

import os
import tempfile
import uuid
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


async def create_database(prefix: str = "bbx_test", *, wait_for_disk: bool = False) -> str:
    """Create an empty database and return its async URL; ``wait_for_disk`` keeps the server's
    own ``synchronous_commit`` (for a test about that setting)."""
    base = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await connect_raw(base)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        if not wait_for_disk:
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await conn.close()
    return url_with_database(base, name)


async def drop_database(url: str) -> None:
    name = make_url(url).database
    conn = await connect_raw(server_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
