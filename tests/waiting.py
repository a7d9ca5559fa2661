"""Wait for a condition instead of a fixed pause: a loaded machine gets to things late, so a
test polls for the outcome and fails only after a generous timeout."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

Check = Callable[[], bool | Awaitable[bool]]


async def wait_until(
    check: Check, timeout: float = 180.0, what: str = "", every: float = 0.05
) -> None:
    """Poll ``check`` (plain or async) until it holds; AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or check}")
        await asyncio.sleep(every)
