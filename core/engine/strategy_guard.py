"""Running installed strategy code in a bot's cycle without trusting it.

A strategy the operator installed (a file in a strategies directory, an entry point) decides in
a thread of its own with a time limit. If it raises, or doesn't answer in time, the cycle fails
with a ``StrategyFailed`` naming the strategy (the usual failed-cycle rules then put the bot in
the ``error`` state); the engine and the other bots carry on. Python can't stop a thread, so a
strategy that hangs keeps its thread: its bot fails every later cycle at once instead of
starting another one, until the thread returns or the bot's settings change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import ServiceError

log = logging.getLogger(__name__)
T = TypeVar("T")

_busy: weakref.WeakKeyDictionary[Any, threading.Thread] = weakref.WeakKeyDictionary()


class StrategyFailed(ServiceError):
    """An installed strategy raised or ran out of time; the message is fit to show a user."""


async def guarded(owner: Any, name: str, call: Callable[[], T], timeout: float) -> T:
    """``call()`` in its own thread, within ``timeout`` seconds. ``owner`` (the bot's strategy
    object) remembers a thread that never returned, so it is not started twice."""
    stuck = _busy.get(owner)
    if stuck is not None and stuck.is_alive():
        raise StrategyFailed(
            f"Strategy {name!r} is still running a computation that exceeded its "
            f"{timeout:g} s limit earlier; fix the strategy or change the bot's strategy"
        )
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)

    def work() -> None:
        try:
            outcome: tuple[Any, BaseException | None] = (call(), None)
        except BaseException as exc:
            outcome = (None, exc)
        # the loop may have closed while the strategy ran: then nobody waits for it any more
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *outcome)

    thread = threading.Thread(target=work, name=f"strategy {name}", daemon=True)
    thread.start()
    # a late outcome of a timed-out call is read here, so asyncio doesn't report it as lost
    done.add_done_callback(lambda f: f.cancelled() or f.exception())
    failure: BaseException | None = None
    try:
        return await asyncio.wait_for(asyncio.shield(done), timeout)
    except TimeoutError:
        _busy[owner] = thread
    except Exception as exc:
        failure = exc
    # raised outside the except blocks: no TimeoutError or OSError in the chain, which the cycle
    # would take for a lost database connection
    if failure is None:
        raise StrategyFailed(
            f"Strategy {name!r} did not finish within {timeout:g} s "
            "(BLOCKBOTX_ENGINE_STRATEGY_TIMEOUT_SECONDS)"
        )
    log.warning("strategy %s raised", name, exc_info=failure)
    raise StrategyFailed(f"Strategy {name!r} failed: {type(failure).__name__}: {failure}")
