"""What the sign-in screens share: calling a service, showing its refusal, staying usable."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import DBAPIError
from textual.screen import Screen
from textual.widgets import Input, Static

from core.db.engine import DatabaseUnavailable
from core.errors import ServiceError
from core.security.vault import VaultError

if TYPE_CHECKING:
    from tui.app import BlockbotXApp

T = TypeVar("T")
log = logging.getLogger(__name__)
UNEXPECTED = "Something went wrong; the details are in the log file."


async def call_service(
    widget,
    call: Awaitable[T],
    target: str = "#error",
    on_refusal: Callable[[ServiceError], None] | None = None,
) -> T | None:
    """Await a service call; on a refusal show its message in ``target`` and return None."""
    message = ""
    try:
        return await call
    except ServiceError as exc:
        message = str(exc)
        if on_refusal is not None:
            on_refusal(exc)
    except (DatabaseUnavailable, OSError, DBAPIError):
        log.warning("database unreachable during a service call", exc_info=True)
        message = "Database unavailable: BlockbotX can't reach its database right now."
    except VaultError as exc:
        log.error("vault: %s", exc)
        message = (
            "A stored secret could not be decrypted; an administrator must check the master key."
        )
    except Exception:
        log.exception("unexpected error in a service call")
        message = UNEXPECTED
    widget.query_one(target, Static).update(message)
    return None


async def done(call: Awaitable[object]) -> bool:
    """For services that return nothing: True once the call has succeeded."""
    await call
    return True


class AuthFormScreen(Screen[None]):
    """A form screen whose password fields are emptied as soon as they have been read."""

    @property
    def bbx(self) -> BlockbotXApp:
        return self.app  # type: ignore[return-value]

    def show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(message)

    def take(self, selector: str) -> str:
        """The value of an input, which is then cleared (passwords must not linger on screen)."""
        field = self.query_one(selector, Input)
        value = field.value
        if field.password:
            field.value = ""
        return value
