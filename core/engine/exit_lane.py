"""The exit lane: batched exits carried out on a thread of their own.

On the engine's event loop a tick that breached stops waited for whatever held the loop — ten
bots being decided, a 500-row cycle write being compiled — and so did each database round trip
of its exit. Here the breached positions are handed (``run_coroutine_threadsafe``, i.e.
``call_soon_threadsafe``) to a thread running its own event loop with its own small connection
pool, which closes them with ``exit_batch.close_together`` and commits while the main loop goes
on. The thread then only waits for the GIL, at most the interpreter's switch interval, lowered
to ``SWITCH_SECONDS`` while a lane runs.

The lane touches nothing bound to the main loop: the fill price is the tick's own, a venue is
the main context's (or a paper one opened here when its price hub exists), a pair is the
venue's or read from the database. What it can't do that way (live positions, an unknown pair)
comes back in ``Batched.one_by_one`` for the main loop, as refusals always did. The watcher's
in-memory bands are only ever changed on the main loop, after the lane answered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import Database
from core.engine.context import EngineContext
from core.engine.exit_batch import Batched, Elsewhere, close_together
from core.engine.exits import Watched
from core.engine.venues import PAPER_FEED, Venue, open_venue
from core.ledger.wallets import SIMULATION, bot_wallet
from core.market.catalog import Pair, load_pair
from core.market.errors import UnknownSymbol
from core.market.fee_tiers import with_fee_tier
from core.market.types import Ticker

log = logging.getLogger(__name__)

SWITCH_SECONDS = 0.001
"""The GIL switch interval while a lane runs (Python's default is 5 ms): how long the lane may
wait for a busy main thread after each database answer."""
POOL_SIZE = 2

_switch = threading.Lock()
_lanes = 0
_previous_switch = 0.0


def _lower_switch_interval() -> None:
    global _lanes, _previous_switch
    with _switch:
        if _lanes == 0:
            _previous_switch = sys.getswitchinterval()
            sys.setswitchinterval(min(_previous_switch, SWITCH_SECONDS))
        _lanes += 1


def _restore_switch_interval() -> None:
    global _lanes
    with _switch:
        _lanes -= 1
        if _lanes == 0:
            sys.setswitchinterval(_previous_switch)


@dataclass
class LaneContext(EngineContext):
    """The engine's context as the lane sees it: its own database and order desk, the main
    context's parsed settings (a dict, safe to share under the GIL) and venues."""

    shared: EngineContext | None = None

    async def venue(self, session: AsyncSession, bot_id: str, user_id: str, paper: bool) -> Venue:
        key = (bot_id, paper)
        venue = (self.shared._venues.get(key) if self.shared else None) or self._venues.get(key)
        if venue is not None:
            return venue
        wallet = await bot_wallet(session, bot_id, SIMULATION) if paper else None
        # A paper venue needs only its hub, which must exist already: creating one (and its
        # price stream) belongs to the main loop.
        if wallet is None or self.markets.hubs.get(wallet.paper_market or PAPER_FEED) is None:
            raise Elsewhere("The bot's venue is opened on the main loop.")
        venue = await open_venue(
            session, self.markets, bot_id=bot_id, owner_id=user_id, paper=True, wallet=wallet
        )
        self._venues[key] = venue
        return venue

    async def pair(self, session: AsyncSession, venue: Venue, symbol: str) -> Pair:
        cached = venue._pairs.get(symbol)
        if cached is not None:
            return cached
        try:  # stored pairs only: fetching an exchange's markets belongs to the main loop
            return with_fee_tier(await load_pair(session, venue.hub.name, symbol), venue.fees)
        except UnknownSymbol:
            raise Elsewhere(f"{symbol} is loaded on the main loop.") from None


class ExitLane:
    """A thread with its own event loop and connections for batched exits (see the module)."""

    def __init__(self, ctx: EngineContext, *, pool_size: int = POOL_SIZE) -> None:
        self.main = ctx
        self.db = Database(ctx.db.url, statement_cache=ctx.db.statement_cache, pool_size=pool_size)
        self.ctx = LaneContext(
            self.db,
            ctx.markets,
            ctx.settings,
            ctx.owner,
            clock=ctx.clock,
            candles=ctx.candles,
            fees=ctx.fees,
            _parsed=ctx._parsed,
            shared=ctx,
        )
        self.cpu_ms: deque[float] = deque(maxlen=10_000)
        """The lane thread's CPU time for each batch (load-independent, unlike wall time)."""
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def start(self) -> None:
        """Start the thread and open its first connection (the first exit doesn't wait for it)."""
        if self.running:
            return
        loop = asyncio.new_event_loop()
        self.loop = loop
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name="engine-exit-lane", daemon=True
        )
        self._thread.start()
        _lower_switch_interval()
        try:
            await self._on_lane(self._warm())
        except Exception as exc:  # the database is away: the first batch connects
            log.warning("exit lane: no connection yet (%s)", type(exc).__name__)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _on_lane(self, coro: Any) -> Any:
        """Run ``coro`` on the lane's loop and wait for it from the caller's loop."""
        if self.loop is None:
            coro.close()
            raise RuntimeError("the exit lane is not running")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def _warm(self) -> None:
        async with self.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def submit(
        self, found: list[tuple[Watched, Ticker]], now: datetime
    ) -> concurrent.futures.Future[Batched]:
        """Hand ``found`` to the lane, from any thread; the future holds the committed batch."""
        if self.loop is None:
            raise RuntimeError("the exit lane is not running")
        return asyncio.run_coroutine_threadsafe(self._close(found, now), self.loop)

    async def close(self, found: list[tuple[Watched, Ticker]], now: datetime) -> Batched:
        """Close ``found`` together on the lane (one transaction, committed there)."""
        return await asyncio.wrap_future(self.submit(found, now))

    async def _close(self, found: list[tuple[Watched, Ticker]], now: datetime) -> Batched:
        cpu = time.thread_time()
        async with self.db.sessions() as session, session.begin():
            batch = await close_together(self.ctx, session, found, now)
        batch.committed = time.perf_counter()
        self.cpu_ms.append((time.thread_time() - cpu) * 1000)
        return batch

    async def stop(self) -> None:
        """Close the lane's connections and end its thread."""
        loop, thread = self.loop, self._thread
        if loop is None or thread is None:
            return
        try:
            await self._on_lane(self.db.dispose())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join, 10)
            self.loop = self._thread = None
            _restore_switch_interval()
