"""``EngineRunner``: one engine process (``blockbotx engine``, or a background task of a
dashboard when no engine heartbeat is alive).

Tasks: the scheduler (lease due bots, run their cycles), the exit watcher (polled prices → exit
rules), the streamed exits (every websocket tick → exit rules, at once),
the heartbeat (``engine_processes``; renews the leases of a slow batch), housekeeping (snapshots,
reports, retention) and the notification delivery loop. An exits-only process
(``EngineSettings.exits_only``) runs the two exit loops and nothing else: no cycle, however busy,
holds its event loop or its GIL while a stop is breached. Each loop survives a lost database: it
logs, waits with a growing back-off (0.5 s → 10 s) and carries on; nothing half-done was
committed, because every cycle is one transaction. ``stop`` lets the batch in flight finish
(``shutdown_seconds`` at most), gives back every lease and marks the process stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import statistics
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.bots import Bot, BotWallet
from core.db.models.trading import Position
from core.engine import housekeeping, leases, registry
from core.engine.context import EngineContext
from core.engine.cycle import BatchStats, run_batch
from core.engine.exits import ExitWatcher
from core.engine.ids import fast_id
from core.engine.order_sweep import OrderSweep
from core.engine.periodic import PeriodicJob, PeriodicRunner
from core.engine.settings import EngineSettings
from core.engine.venues import PAPER_FEED, Markets
from core.errors import ServiceError
from core.ledger.book import Ledger
from core.market.hub import PriceHub
from core.market.types import Ticker
from core.notifications.delivery import run_delivery_loop

log = logging.getLogger("core.engine")
MARK_SECONDS = 5.0
WALLET_SNAPSHOT_SECONDS = 300.0


@dataclass
class EngineStats:
    cycles_total: int = 0
    exits_total: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=10_000))  # (monotonic, cycles)
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=5_000))
    errors: deque = field(default_factory=lambda: deque(maxlen=10_000))  # monotonic times
    last_error: str | None = None

    def add(self, batch: BatchStats) -> None:
        self.cycles_total += batch.written
        self.recent.append((time.monotonic(), batch.written))
        self.latencies_ms.extend(batch.latencies_ms)
        now = time.monotonic()
        self.errors.extend([now] * batch.errors)

    def error(self, message: str) -> None:
        self.errors.append(time.monotonic())
        self.last_error = message[:500]

    def rate(self, window: float = 10.0) -> float:
        now = time.monotonic()
        done = sum(n for t, n in self.recent if now - t <= window)
        return done / window

    def figures(self, leased: int, stale: tuple[str, ...] = ()) -> registry.Figures:
        lat = sorted(self.latencies_ms)
        now = time.monotonic()
        return registry.Figures(
            bots_leased=leased,
            cycles_total=self.cycles_total,
            cycles_per_second=round(self.rate(), 2),
            latency_p50_ms=round(statistics.median(lat), 2) if lat else None,
            latency_p99_ms=round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2) if lat else None,
            errors_last_hour=sum(1 for t in self.errors if now - t <= 3600),
            last_error=self.last_error,
            stale_prices=stale,
        )


@dataclass(frozen=True, slots=True)
class OnceReport:
    cycles: int
    acted: int
    errors: int
    exits: int


class EngineRunner:
    def __init__(
        self,
        db: Database,
        *,
        settings: EngineSettings | None = None,
        markets: Markets | None = None,
        clock: Clock = SYSTEM_CLOCK,
        embedded: bool = False,
        jobs: Sequence[PeriodicJob] = (),
    ) -> None:
        self.db = db
        self.settings = settings or EngineSettings()
        self.clock = clock
        self.markets = markets or Markets.simulated(
            clock=clock, stream_prices=self.settings.stream_prices
        )
        self._own_markets = markets is None
        self.markets.stale_after = timedelta(seconds=self.settings.stale_price_seconds)
        self.process_id = fast_id()
        self.embedded = embedded
        self.ctx = EngineContext(
            db, self.markets, self.settings, owner=self.process_id, clock=clock
        )
        self.watcher = ExitWatcher(self.ctx)
        self.periodic = PeriodicRunner(db, jobs, clock)
        self.order_sweep = OrderSweep(
            self.ctx.desk, self.markets.exchanges, misses_allowed=self.settings.reconcile_misses
        )
        self.stats = EngineStats()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._schedulers: list[asyncio.Task] = []
        self._leased: set[str] = set()
        self._stale: set[str] = set()  # leases of batches lost with the database
        self._claimed_at: dict[frozenset[str], float] = {}
        self._quiet = asyncio.Event()  # cleared while exits are being carried out
        self._quiet.set()
        self._exiting = asyncio.Lock()  # polled and streamed exits take turns
        self._registered = False

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    async def start(self) -> None:
        """Start every loop as background tasks (returns at once)."""
        if self.running:
            return
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self._watch(), name="engine-exits"),
            asyncio.create_task(self._stream_exits(), name="engine-streamed-exits"),
        ]
        if self.settings.exits_only:
            # Not in ``engine_processes``: a dashboard seeing it alive would stop running the
            # cycles itself, and this process runs none.
            log.info("engine %s started (exits only)", self.process_id)
            return
        self._schedulers = [
            asyncio.create_task(self._scheduler(), name=f"engine-scheduler-{lane}")
            for lane in range(self.settings.lanes)
        ]
        self._tasks += [
            *self._schedulers,
            asyncio.create_task(self._heartbeat(), name="engine-heartbeat"),
            asyncio.create_task(self._housekeeping(), name="engine-housekeeping"),
        ]
        if self.settings.deliver_notifications:
            self._tasks.append(
                asyncio.create_task(
                    run_delivery_loop(self.db, self.clock, stop=self._stop), name="engine-delivery"
                )
            )
        log.info("engine %s started", self.process_id)

    async def stop(self) -> None:
        """Finish the cycle in flight, give back the leases, mark the process stopped."""
        self._stop.set()
        if self._tasks:
            if self._schedulers:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(
                        asyncio.shield(asyncio.gather(*self._schedulers, return_exceptions=True)),
                        self.settings.shutdown_seconds,
                    )
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks, self._schedulers = [], []
        try:
            await asyncio.wait_for(self._release(), timeout=2.0)
        except Exception as exc:  # the database is away: the leases expire on their own
            log.warning("engine %s could not release its leases: %s", self.process_id, exc)
        await self.watcher.close()
        await self.ctx.close()
        if self._own_markets:
            await self.markets.hubs.close()
        log.info("engine %s stopped", self.process_id)

    async def _release(self) -> None:
        async with self.db.sessions.begin() as session:
            await leases.release_all(session, self.process_id)
            if self._registered:
                await registry.mark_stopped(session, self.process_id, now=self.clock.now())

    async def _sleep(self, seconds: float) -> bool:
        """Wait, but wake at once on stop; True if stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), max(0.0, seconds))
        return self._stop.is_set()

    # -- one pass (``blockbotx engine --once``) ---------------------------------------------------

    async def run_once(self) -> OnceReport:
        """Every due bot's cycle, an exit check at the current prices, housekeeping; then stop."""
        cycles = acted = errors = 0
        try:
            async with self.db.sessions.begin() as session:
                await registry.register(
                    session, self.process_id, now=self.clock.now(), embedded=self.embedded
                )
            self._registered = True
            while True:
                batch = await self.run_pass()
                cycles += batch.written
                acted += batch.acted
                errors += batch.errors
                if batch.claimed < self.settings.batch_size:
                    break
            before = self.watcher.exits
            await self.check_exits()
            await self.housekeeping_once()
            return OnceReport(cycles, acted, errors, self.watcher.exits - before)
        finally:
            await self._release()
            await self.watcher.close()
            await self.ctx.close()
            if self._own_markets:
                await self.markets.hubs.close()

    async def run_pass(self) -> BatchStats:
        """Claim one batch of due bots and run it."""
        now = self.clock.now()
        async with self.db.sessions.begin() as session:
            bots = await leases.claim_due(
                session,
                self.process_id,
                now=now,
                cycle_seconds=self.settings.cycle_seconds,
                lease_seconds=self.settings.lease_seconds,
                limit=self.settings.batch_size,
                catch_up=self.settings.catch_up_slots,
            )
        if not bots:
            return BatchStats()
        ids = {b.id for b in bots}
        self._leased |= ids
        self._claimed_at[frozenset(ids)] = time.monotonic()
        try:
            batch = await run_batch(self.ctx, self.watcher, bots, now, quiet=self._quiet)
        except BaseException:
            self._stale |= ids  # given back once the database answers again
            raise
        finally:
            self._leased -= ids
            self._claimed_at.pop(frozenset(ids), None)
        self.stats.add(batch)
        return batch

    def _overrunning(self) -> list[str]:
        """Bots of batches running for over a third of the lease: their leases need renewing."""
        limit = time.monotonic() - self.settings.lease_seconds / 3
        return sorted(b for ids, at in list(self._claimed_at.items()) if at < limit for b in ids)

    async def _release_stale(self) -> None:
        if self._stale:
            stale = list(self._stale)
            async with self.db.sessions.begin() as session:
                await leases.release(session, self.process_id, stale)
            self._stale -= set(stale)

    # -- loops ------------------------------------------------------------------------------------

    async def _scheduler(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                await self._release_stale()
                batch = await self.run_pass()
                failures = 0
                if batch.claimed:
                    continue  # more may be due (a full batch, or bots catching up): no pause
                now = self.clock.now()
                slot = leases.slot_of(now, self.settings.cycle_seconds)
                until_next = (
                    leases.slot_start(slot + 1, self.settings.cycle_seconds) - now
                ).total_seconds()
                wait = min(until_next + 0.005, 0.5)
            except Exception as exc:
                failures += 1
                wait = min(10.0, 0.5 * 2 ** (failures - 1))
                self.stats.error(f"scheduler: {exc}")
                log.warning("engine scheduler: %s; retrying in %.1fs", _first_line(exc), wait)
            if await self._sleep(wait):
                return

    async def check_exits(self) -> int:
        """Poll the prices of every watched symbol no stream covers and apply the exit rules
        where a band was left; returns how many positions were handled."""
        now = self.clock.now()
        await self._load_watch(now)
        handled = 0
        for feed, symbols in self.watcher.symbols.items():
            hub = self._hub(feed)
            if hub is None:
                continue
            _follow(hub, symbols)
            tickers = await hub.refresh()
            handled += await self._exits(feed, tickers, now, time.perf_counter())
        return handled

    def _hub(self, feed: str) -> PriceHub | None:
        """The feed's price hub. A cycling engine has the hubs of its bots' venues (a feed none
        of its bots trades on is left to the engines that cycle them); an exits-only process
        opens the hub of every feed it watches."""
        hub = self.markets.hubs.get(feed)
        if hub is None and self.settings.exits_only:
            exchange, testnet = self.watcher.sources.get(feed, (None, False))
            if exchange is not None:
                try:
                    hub = self.markets.public_hub(exchange, feed, testnet)
                except ServiceError as exc:
                    log.warning("engine exits: no prices for %s: %s", feed, exc)
        return hub

    async def _load_watch(self, now: datetime) -> bool:
        """Reload the bands when they are due (or dirty); True if it did."""
        refresh = self.settings.watch_refresh_seconds
        if (
            self.watcher.dirty
            or self.watcher.loaded_at is None
            or (now - self.watcher.loaded_at).total_seconds() >= refresh
        ):
            async with self.db.sessions() as session:
                await self.watcher.load(session)
            return True
        return False

    async def _exits(
        self, feed: str, tickers: dict[str, Ticker], now: datetime, arrived: float
    ) -> int:
        if not tickers:
            return 0
        async with self._exiting:
            found = self.watcher.breaches(feed, tickers, now)
            if found:
                self._quiet.clear()  # cycles wait: exits go first
                try:
                    await self.watcher.handle_all(found, now, arrived=arrived)
                finally:
                    self._quiet.set()
        return len(found)

    async def _stream_exits(self) -> None:
        """Every streamed tick goes to the exit rules as it arrives (ticks that queued up while
        exits ran are taken together, the newest per symbol)."""
        queue: asyncio.Queue[tuple[str, Ticker]] = asyncio.Queue()
        self.markets.hubs.listen(queue)
        try:
            while not self._stop.is_set():
                feed, ticker = await queue.get()
                arrived = time.perf_counter()
                latest: dict[str, dict[str, Ticker]] = {feed: {ticker.symbol: ticker}}
                while not queue.empty():
                    feed, ticker = queue.get_nowait()
                    latest.setdefault(feed, {})[ticker.symbol] = ticker
                try:
                    now = self.clock.now()
                    # The bands in memory first: a reload that is due doesn't hold the tick up.
                    # Then the positions the reload brought see the same tick.
                    for feed, tickers in latest.items():
                        await self._exits(feed, tickers, now, arrived)
                    if await self._load_watch(now):
                        for feed, tickers in latest.items():
                            await self._exits(feed, tickers, now, arrived)
                except Exception as exc:
                    self.stats.error(f"streamed exits: {exc}")
                    log.warning("engine streamed exits: %s", _first_line(exc))
        finally:
            self.markets.hubs.unlisten(queue)

    def stale_prices(self) -> tuple[str, ...]:
        """``feed symbol`` of every followed symbol without a fresh price."""
        return tuple(
            f"{hub.name} {symbol}"
            for hub in self.markets.hubs.hubs.values()
            for symbol in hub.stale()
        )

    async def _watch(self) -> None:
        failures = 0
        last_mark = 0.0
        if self.settings.exits_only and self.settings.batch_exits:
            try:
                await self.watcher.warm()
            except Exception as exc:  # the database is away: the first batch prepares them
                log.warning("engine exits: statements not prepared: %s", _first_line(exc))
        while not self._stop.is_set():
            try:
                await self.check_exits()
                if not self.settings.exits_only and time.monotonic() - last_mark >= MARK_SECONDS:
                    await self.mark_positions()
                    last_mark = time.monotonic()
                failures = 0
                wait = self.settings.price_poll_seconds
            except Exception as exc:
                failures += 1
                wait = min(10.0, 0.5 * 2 ** (failures - 1))
                self.stats.error(f"exits: {exc}")
                log.warning("engine exit watcher: %s; retrying in %.1fs", _first_line(exc), wait)
            if await self._sleep(wait):
                return

    async def mark_positions(self) -> int:
        """Revalue the open paper positions of strategy bots at the simulated market's prices."""
        hub = self.markets.hubs.get(PAPER_FEED)
        if hub is None:
            return 0
        async with self.db.sessions.begin() as session:
            if not await housekeeping.try_lock(session, "marks"):
                return 0
            rows = (
                await session.execute(
                    select(Position.wallet_id, Position.symbol)
                    .join(BotWallet, BotWallet.id == Position.wallet_id)
                    .join(Bot, Bot.id == BotWallet.bot_id)
                    .where(
                        Position.status == "open",
                        BotWallet.wallet_type == "simulation",
                        Bot.type != "manual",
                    )
                    .distinct()
                )
            ).all()
            if not rows:
                return 0
            prices = {}
            for symbol in {s for _, s in rows}:
                prices[symbol] = (await hub.ticker(symbol)).last
            return await Ledger(clock=self.clock).mark_to_market(
                session, prices, wallet_ids=sorted({w for w, _ in rows if w is not None})
            )

    async def _heartbeat(self) -> None:
        while not self._stop.is_set():
            try:
                now = self.clock.now()
                async with self.db.sessions.begin() as session:
                    if not self._registered:
                        await registry.register(
                            session, self.process_id, now=now, embedded=self.embedded
                        )
                        self._registered = True
                    elif not await registry.heartbeat(
                        session,
                        self.process_id,
                        now=now,
                        figures=self.stats.figures(len(self._leased), self.stale_prices()),
                    ):
                        await registry.register(
                            session, self.process_id, now=now, embedded=self.embedded
                        )
                    await leases.renew(
                        session,
                        self.process_id,
                        self._overrunning(),
                        now=now,
                        lease_seconds=self.settings.lease_seconds,
                    )
            except Exception as exc:
                log.warning("engine heartbeat: %s", _first_line(exc))
            if await self._sleep(self.settings.heartbeat_seconds):
                return

    async def housekeeping_once(self, *, wallets: bool = True) -> None:
        """Wallet snapshots (when asked), performance snapshots, reports, retention, tidying,
        the sweep of live orders still pending or open, then the periodic jobs handed to this
        engine that are due."""
        now = self.clock.now()
        s = self.settings
        if wallets:
            async with self.db.sessions.begin() as session:
                await housekeeping.wallet_snapshots(session, now)
        async with self.db.sessions.begin() as session:
            await housekeeping.performance_snapshots(
                session, now, every=timedelta(minutes=s.snapshot_minutes)
            )
        async with self.db.sessions.begin() as session:
            await housekeeping.reports(session, now, self.clock)
        await housekeeping.retention(
            self.db, now, keep=timedelta(hours=s.hold_retention_hours), batch=s.retention_batch
        )
        async with self.db.sessions.begin() as session:
            await housekeeping.tidy(session, now)
        await self.order_sweep.run(
            self.db, older_than=now - timedelta(seconds=s.reconcile_after_seconds)
        )
        await self.periodic.run_due()

    async def _housekeeping(self) -> None:
        last_wallets = float("-inf")
        while not self._stop.is_set():
            if await self._sleep(self.settings.housekeeping_seconds):
                return
            try:
                wallets = time.monotonic() - last_wallets >= WALLET_SNAPSHOT_SECONDS
                await self.housekeeping_once(wallets=wallets)
                if wallets:
                    last_wallets = time.monotonic()
            except Exception as exc:
                self.stats.error(f"housekeeping: {exc}")
                log.warning("engine housekeeping: %s", _first_line(exc))


def settle_heap() -> None:
    """Move everything alive now (modules, mappers, compiled statements: most of the heap, and
    it lives as long as the process) out of the cyclic garbage collector's reach. Its full
    collections then scan only what the engine made since, instead of pausing a breached stop
    for a walk over the whole heap. For a process that runs an engine, called once before it
    starts (not per runner: the test suite starts hundreds)."""
    gc.collect()
    gc.freeze()


def _follow(hub: PriceHub, symbols: set[str]) -> None:
    """Subscribe the hub to exactly these symbols (one request per poll for all of them)."""
    current = set(hub.symbols)
    if current != symbols:
        hub.unsubscribe(current - symbols)
        hub.subscribe(symbols - current)


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
