"""``signals serve``: the webhook receiver, the pollers and the replay-cache purge, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.signals.alert_receiver import create_receiver_app
from core.signals.ingest import purge_nonces
from core.signals.pollers import Pollers

log = logging.getLogger(__name__)

PURGE_SECONDS = 60.0


async def _purge_loop(db: Database, clock: Clock, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            async with db.sessions.begin() as session:
                purged = await purge_nonces(session, clock.now())
            if purged:
                log.debug("forgot %d expired request signatures", purged)
        except (DBAPIError, OSError) as exc:
            log.warning("cannot purge the replay cache: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=PURGE_SECONDS)


async def serve(
    db: Database,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    clock: Clock = SYSTEM_CLOCK,
    poll: bool = True,
    telegram_api_url: str = "https://api.telegram.org",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until ``stop`` is set, then close the listener and let in-flight requests finish."""
    runner = web.AppRunner(create_receiver_app(db, clock=clock), access_log=None)
    await runner.setup()
    background: list[asyncio.Task[None]] = []
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
        address = f"http://{bound[0]}:{bound[1]}"
        background.append(asyncio.create_task(_purge_loop(db, clock, stop)))
        if poll:
            pollers = Pollers(db, clock=clock, telegram_api_url=telegram_api_url)
            background.append(asyncio.create_task(pollers.run(stop)))
        log.info("signal receiver listening on %s (polling %s)", address, "on" if poll else "off")
        if on_ready is not None:
            on_ready(address)
        await stop.wait()
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        await runner.cleanup()
        log.info("signal receiver stopped")
