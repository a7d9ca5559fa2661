"""Polling ``api`` and ``telegram`` providers, one loop each, with back-off on failure.

Each poll re-reads its provider, so a rotated key or changed settings apply on the next poll and
a disabled or deleted provider stops being polled. Signals of one poll are stored in one
transaction and deduplicated by the provider's id, so a poll that is repeated (after an error, or
by a second ``signals serve`` process) never stores a signal twice. A Telegram offset is advanced
only after its signals are committed.

Back-off: after ``n`` failed polls in a row the next one waits
``min(interval × 2ⁿ, max(15 min, interval))``; a successful poll resets it to the interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.signals import SignalProvider
from core.signals import api_source, telegram
from core.signals.api_source import SourceError
from core.signals.config import read_config
from core.signals.ingest import Source, load_source, store_signal
from core.signals.payload import SignalPayload

log = logging.getLogger(__name__)

POLLED_TYPES = ("api", "telegram")
MAX_BACKOFF_SECONDS = 900.0
REFRESH_SECONDS = 30.0

Pause = Callable[[float], Awaitable[None]]


def backoff_delay(interval: float, failures: int) -> float:
    """Seconds before the next poll after ``failures`` failed polls in a row."""
    if failures <= 0:
        return interval
    return min(interval * 2.0 ** min(failures, 30), max(MAX_BACKOFF_SECONDS, interval))


class ProviderGone(Exception):
    """The provider was deleted, disabled or changed type: its loop ends."""


@dataclass(frozen=True, slots=True)
class PollOutcome:
    stored: int
    duplicates: int
    rejected: list[str]


@dataclass
class Poller:
    db: Database
    http: aiohttp.ClientSession
    provider_id: str
    clock: Clock = SYSTEM_CLOCK
    telegram_api_url: str = "https://api.telegram.org"
    failures: int = 0
    offset: int | None = None
    interval: float = field(default=60.0)

    async def _source(self) -> Source:
        async with self.db.session() as session:
            source = await load_source(session, self.provider_id)
        if source is None or not source.is_active or source.type not in POLLED_TYPES:
            raise ProviderGone(self.provider_id)
        return source

    async def poll_once(self) -> PollOutcome:
        source = await self._source()
        config = read_config(source.type, source.config)
        self.interval = float(config.poll_interval_seconds)
        next_offset = None
        if source.type == "api":
            polled = await api_source.fetch(self.http, source, config)
            signals, rejected = polled.signals, polled.rejected
        else:
            updates = await telegram.fetch(
                self.http, source, config, base_url=self.telegram_api_url, offset=self.offset
            )
            signals, rejected, next_offset = updates.signals, updates.rejected, updates.next_offset
        stored, duplicates = await self._store(source, signals)
        if next_offset is not None:
            self.offset = next_offset
        for reason in rejected:
            log.warning("provider %s: skipped a signal: %s", source.id, reason)
        return PollOutcome(stored, duplicates, rejected)

    async def _store(
        self, source: Source, signals: list[tuple[str, SignalPayload]]
    ) -> tuple[int, int]:
        if not signals:
            return 0, 0
        stored = duplicates = 0
        received = self.clock.now()
        async with self.db.sessions.begin() as session:
            for external_id, payload in signals:
                result = await store_signal(
                    session, source, payload, received=received, external_id=external_id
                )
                duplicates += result.duplicate
                stored += not result.duplicate
        if stored:
            log.info("provider %s: %d new signals (%d seen before)", source.id, stored, duplicates)
        return stored, duplicates

    async def run(self, pause: Pause, stop: asyncio.Event) -> None:
        """Poll until the provider goes away, ``stop`` is set or the task is cancelled."""
        while not stop.is_set():
            try:
                await self.poll_once()
                self.failures = 0
            except ProviderGone:
                log.info("provider %s: no longer polled", self.provider_id)
                return
            except (SourceError, DBAPIError, OSError) as exc:
                self.failures += 1
                log.warning(
                    "provider %s: poll failed (%s); next try in %.0f s",
                    self.provider_id,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    backoff_delay(self.interval, self.failures),
                )
            except Exception:
                self.failures += 1
                log.exception("provider %s: poll failed unexpectedly", self.provider_id)
            await pause(backoff_delay(self.interval, self.failures))


async def polled_provider_ids(db: Database) -> set[str]:
    async with db.session() as session:
        rows = await session.scalars(
            select(SignalProvider.id).where(
                SignalProvider.is_active.is_(True), SignalProvider.type.in_(POLLED_TYPES)
            )
        )
        return set(rows)


@dataclass
class Pollers:
    """One poll loop per active ``api`` / ``telegram`` provider, kept in step with the table."""

    db: Database
    clock: Clock = SYSTEM_CLOCK
    telegram_api_url: str = "https://api.telegram.org"
    refresh_seconds: float = REFRESH_SECONDS
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event) -> None:
        async def pause(seconds: float) -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)

        async with aiohttp.ClientSession() as http:
            try:
                while not stop.is_set():
                    try:
                        self._sync(await polled_provider_ids(self.db), http, pause, stop)
                    except (DBAPIError, OSError) as exc:
                        log.warning("cannot list polled providers: %s", type(exc).__name__)
                    await pause(self.refresh_seconds)
            finally:
                for task in self.tasks.values():
                    task.cancel()
                await asyncio.gather(*self.tasks.values(), return_exceptions=True)
                self.tasks.clear()

    def _sync(
        self, wanted: set[str], http: aiohttp.ClientSession, pause: Pause, stop: asyncio.Event
    ) -> None:
        for provider_id, task in list(self.tasks.items()):
            if task.done() or provider_id not in wanted:
                task.cancel()
                del self.tasks[provider_id]
        for provider_id in wanted - set(self.tasks):
            poller = Poller(
                self.db,
                http,
                provider_id,
                clock=self.clock,
                telegram_api_url=self.telegram_api_url,
            )
            self.tasks[provider_id] = asyncio.create_task(
                poller.run(pause, stop), name=f"signal-poller-{provider_id}"
            )
