"""Async engine and session factory over asyncpg, and how the database URL is chosen."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.config import Settings, get_settings

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database can't be reached; the message is one line fit for a terminal."""


URL_FORM = "postgresql://user:password@host:5432/database"


def to_async_url(url: str) -> str:
    """Accept the usual ``postgres://`` / ``postgresql://`` forms and use asyncpg."""
    try:
        parsed = make_url(url.strip().replace("postgres://", "postgresql://", 1))
    except (ArgumentError, ValueError):
        # The text may hold a password: it is not repeated, only its shape is asked for.
        raise DatabaseUnavailable(
            f"DATABASE_URL is not a database URL; write it as {URL_FORM}"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise DatabaseUnavailable(f"DATABASE_URL must be a PostgreSQL URL, not {parsed.drivername}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def resolve_url(settings: Settings | None = None) -> tuple[str, bool]:
    """The async URL to use and whether it is the embedded server."""
    settings = settings or get_settings()
    if settings.database_url:
        return to_async_url(settings.database_url), False
    from core.db import embedded

    return embedded.ensure_database(), True


def asyncpg_kwargs(url: str) -> dict[str, object]:
    """``asyncpg.connect`` keyword arguments for a SQLAlchemy URL (unix-socket ``host=`` too)."""
    parsed = make_url(url)
    kwargs: dict[str, object] = {
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database,
        "port": parsed.port,
        "host": parsed.query.get("host") or parsed.host,
    }
    return {k: v for k, v in kwargs.items() if v is not None}


async def connect_raw(url: str, **extra: object):
    """A plain asyncpg connection (LISTEN, COPY, admin statements outside the pool)."""
    import asyncpg

    return await asyncpg.connect(**asyncpg_kwargs(url), **extra)


def listen_url(db_url: str, settings: Settings | None = None) -> str:
    """LISTEN needs a real session: ``BLOCKBOTX_LISTEN_URL`` when PgBouncer sits in front."""
    settings = settings or get_settings()
    return to_async_url(settings.listen_url) if settings.listen_url else db_url


def safe_url(url: str) -> str:
    """The URL with its password masked, readable (a socket path shown as a path)."""
    from urllib.parse import unquote

    return unquote(make_url(url).render_as_string(hide_password=True))


@dataclass
class Database:
    """One engine and its session factory; create once per process, ``dispose()`` on exit."""

    url: str
    statement_cache: bool = True
    pool_size: int = 5
    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)

    def __post_init__(self) -> None:
        connect_args: dict[str, object] = {}
        if not self.statement_cache:
            # PgBouncer in transaction mode can't keep prepared statements per connection.
            connect_args["statement_cache_size"] = 0
            connect_args["prepared_statement_cache_size"] = 0
        self.engine = create_async_engine(
            self.url,
            pool_size=self.pool_size,
            max_overflow=self.pool_size,
            pool_pre_ping=True,
            connect_args=connect_args,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def check(self) -> str:
        """Connect once and return the server version, or raise DatabaseUnavailable."""
        try:
            async with self.engine.connect() as conn:
                return str(await conn.scalar(text("SHOW server_version")))
        except Exception as exc:  # asyncpg, OSError, timeouts: all mean "not reachable"
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DatabaseUnavailable(
                f"cannot reach the database at {safe_url(self.url)}: {reason}"
            ) from None

    async def dispose(self) -> None:
        await self.engine.dispose()


def open_database(settings: Settings | None = None) -> Database:
    settings = settings or get_settings()
    url, embedded = resolve_url(settings)
    try:
        return Database(
            url, statement_cache=settings.db_statement_cache, pool_size=settings.db_pool_size
        )
    except Exception as exc:  # a URL that parses but can't make an engine (a bad port...)
        if embedded:
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatabaseUnavailable(f"DATABASE_URL {safe_url(url)} is not usable: {reason}") from None
