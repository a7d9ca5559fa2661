"""The exits process's own database connection, held from one batch to the next.

A batch taken from the pool pays for the checkout, the pool's pre-ping (a round trip) and the
reset on return; in an exits-only process, where a batch is the one thing that must be quick,
the batches share one connection that stays checked out instead. It is pinged once, when it is
taken; a connection that breaks (PostgreSQL restarted, the network dropped) is given back and
the batch runs once more on a new one, so an exit is never lost to a stale connection.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.db.engine import Database

log = logging.getLogger(__name__)


class ExitLine:
    """Sessions for batches of exits: on the held connection (``held``) or from the pool."""

    def __init__(self, db: Database, *, held: bool) -> None:
        self.db = db
        self.held = held
        self._conn: AsyncConnection | None = None
        self.reconnects = 0

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed when the block ends without an error."""
        if not self.held:
            async with self.db.sessions() as session, session.begin():
                yield session
            return
        conn = await self._connection()
        try:
            async with AsyncSession(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session
        except DBAPIError:
            await self.close()  # whatever broke, the next batch starts on a sound connection
            raise

    async def _connection(self) -> AsyncConnection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = await self.db.engine.connect()  # the pool pings it, once
        return self._conn

    async def close(self) -> None:
        """Give the connection back (an invalidated one is discarded by the pool)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception as exc:  # a dead connection may fail to say goodbye
                log.debug("exit connection closed with an error: %s", exc)


def broken(exc: BaseException) -> bool:
    """Whether ``exc`` is the database connection failing (worth one more try on a new one)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
