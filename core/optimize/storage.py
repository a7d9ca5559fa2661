"""Optuna's RDB storage on the project's PostgreSQL, in a schema of its own (``optuna``).

Optuna creates and migrates its own tables; keeping them out of the default schema keeps them
out of alembic's comparison of our models with the database. Optuna talks to PostgreSQL through
a synchronous driver (psycopg 3). Several ``optimize`` processes, on one machine or many, share
a study by name; a PostgreSQL advisory lock per study makes claiming a parameter set atomic
(``core.optimize.trials``), so no two workers ever evaluate the same one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

SCHEMA = "optuna"
_CONNECT_ARGS = {"options": f"-csearch_path={SCHEMA}"}
_SETUP_LOCK = "blockbotx optuna storage"


def sync_url(url: str) -> str:
    """The psycopg form of a project database URL (asyncpg's, or a plain postgresql://)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name``."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


def lock_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine of our own on the Optuna schema: the study locks and the claim queries."""
    if not pooled:
        return sa.create_engine(sync_url(url), poolclass=NullPool, connect_args=_CONNECT_ARGS)
    return sa.create_engine(
        sync_url(url), pool_size=1, max_overflow=1, pool_pre_ping=True, connect_args=_CONNECT_ARGS
    )


@contextmanager
def advisory_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock for ``name`` (every machine sees the same one)."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(name)})
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
            conn.commit()


def open_storage(url: str) -> Any:
    """An ``optuna.storages.RDBStorage`` on the project database (schema and tables created on
    first use, under a lock so concurrent first runs don't race)."""
    import optuna

    setup = lock_engine(url, pooled=False)
    try:
        with advisory_lock(setup, _SETUP_LOCK):
            with setup.begin() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
            storage = optuna.storages.RDBStorage(
                sync_url(url),
                engine_kwargs={"connect_args": _CONNECT_ARGS, "pool_pre_ping": True},
            )
    finally:
        setup.dispose()
    return storage
