"""Telling a lost database connection from every other failure.

A cycle that fails for its own reasons (bad settings, an order refused, an exchange outage) is
recorded as a failed cycle of that bot. A lost database is nobody's cycle: the batch is dropped
(nothing of it was committed), the loop waits and reconnects, and the bots run again.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

_CONNECTION_SQLSTATES = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}


def is_connection_error(exc: BaseException) -> bool:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, (ConnectionError, OSError, asyncio.TimeoutError, TimeoutError)):
            return True
        if isinstance(current, DBAPIError) and (
            current.connection_invalidated
            or isinstance(current, (InterfaceError, OperationalError))
        ):
            return True
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if state in _CONNECTION_SQLSTATES:
            return True
        name = type(current).__name__
        if name in {
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "ConnectionFailureError",
            "CannotConnectNowError",
            "AdminShutdownError",
            "InternalClientError",
        }:
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False
