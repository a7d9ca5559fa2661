"""The one way the TUI calls a service, and the one mapping of what can go wrong to words.

Services come in two conventions (``core/services/__init__.py``): ``fn(session, actor, ...)``
runs inside the caller's transaction, ``fn(db, actor, ...)`` opens and commits its own.
``in_session`` gives the first kind a session of its own (a committed transaction when
``write``); either kind's awaitable then goes through ``call_service``, which turns every
failure into a sentence for the person at the keyboard and None for the code:

- a refusal (``ServiceError``): its own message, which the service wrote for people;
- the database out of reach: ``UNREACHABLE``;
- a stored secret that can't be decrypted: ``UNDECRYPTABLE``;
- anything else: ``UNEXPECTED``, with the traceback in the log file.

The sentence goes to a toast, or into the ``Static`` at ``target`` (sign-in forms and dialogs
show it in place). Screens call it as ``self.call(awaitable)`` / ``self.service(fn, ...)``
(``tui.screens.base.BaseScreen``); panes and dialogs call ``call_service`` themselves.
Nothing else in the TUI catches a service's errors to show them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from core.errors import ServiceError
from core.security.vault import VaultError

if TYPE_CHECKING:
    from textual.widget import Widget

    from core.db.engine import Database
    from core.services.actor import Actor

T = TypeVar("T")
Service = Callable[..., Awaitable[T]]
Severity = Literal["information", "warning", "error"]
log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong; the details are in the log file."
UNREACHABLE = "Database unavailable: BlockbotX can't reach its database right now."
UNDECRYPTABLE = (
    "A stored secret could not be decrypted; an administrator must check the master key."
)
REFUSAL_TIMEOUT = 6
"""Seconds a refusal's toast stays: long enough to read a sentence about one's own input."""


def failure(exc: Exception) -> tuple[str, Severity]:
    """What to tell the user about ``exc`` raised by a service call (logged here), and how
    loudly: a refusal is a warning about the request, the rest are errors of the system."""
    if isinstance(exc, ServiceError):
        return str(exc), "warning"
    # Here, not at the top: the sign-in screen is drawn before SQLAlchemy is loaded.
    from sqlalchemy.exc import DBAPIError

    from core.db.engine import DatabaseUnavailable

    if isinstance(exc, DatabaseUnavailable | OSError | DBAPIError):
        log.warning("database unreachable during a service call", exc_info=exc)
        return UNREACHABLE, "error"
    if isinstance(exc, VaultError):
        log.error("vault: %s", exc)
        return UNDECRYPTABLE, "error"
    log.error("unexpected error in a service call", exc_info=exc)
    return UNEXPECTED, "error"


async def call_service(
    node: Widget,
    call: Awaitable[T],
    target: str | None = None,
    *,
    on_refusal: Callable[[ServiceError], None] | None = None,
) -> T | None:
    """Await a service call: its result, or None once the failure has been shown.

    Shown in the ``Static`` at ``target`` under ``node`` (always, refusal or not, so the user
    reads it where they typed), or else as a toast. ``on_refusal`` gets a refusal first (to mark
    a field, note a lock); with no ``target`` it replaces the toast."""
    try:
        return await call
    except Exception as exc:
        message, severity = failure(exc)
        if isinstance(exc, ServiceError) and on_refusal is not None:
            on_refusal(exc)
            if target is None:
                return None
    if target is not None:
        from textual.widgets import Static

        node.query_one(target, Static).update(message)
    elif severity == "warning":
        node.notify(message, severity=severity, timeout=REFUSAL_TIMEOUT)
    else:
        node.notify(message, severity=severity)
    return None


async def in_session(
    db: Database, actor: Actor, fn: Service[T], *args: Any, write: bool = False, **kwargs: Any
) -> T:
    """Run ``fn(session, actor, ...)`` in its own session; a committed transaction if ``write``."""
    if write:
        async with db.sessions.begin() as session:
            return await fn(session, actor, *args, **kwargs)
    async with db.session() as session:
        return await fn(session, actor, *args, **kwargs)


async def succeeded(call: Awaitable[object]) -> bool:
    """For services that return nothing: True once the call has succeeded (``call_service``
    gives None when it failed)."""
    await call
    return True
