"""Shared prices: one ``PriceHub`` per feed, one fetch per symbol however many bots watch it.

Bots ``subscribe`` to symbols; ``run`` polls every subscribed symbol in one request per interval
(``tickers``), backing off exponentially while the feed fails and resetting after a success.
``ticker`` answers from the cache while it is fresh and otherwise fetches, with concurrent
callers of the same symbol sharing one request (single flight).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from core.clock import SYSTEM_CLOCK, Clock
from core.market.ccxt_client import ExchangeFactory
from core.market.ccxt_feed import CcxtFeed
from core.market.errors import ExchangeFailure, RateLimited
from core.market.feed import MarketFeed
from core.market.types import Ticker

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay after the n-th consecutive failure: base x factor^(n-1), capped; longer if rate limited."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 120.0
    rate_limited_factor: float = 4.0

    def delay(self, failures: int, *, rate_limited: bool = False) -> float:
        delay = self.base * self.factor ** max(failures - 1, 0)
        if rate_limited:
            delay *= self.rate_limited_factor
        return min(self.cap, delay)


@dataclass
class PriceHub:
    feed: MarketFeed
    clock: Clock = SYSTEM_CLOCK
    max_age: timedelta = timedelta(seconds=2)
    poll_interval: float = 2.0
    backoff: Backoff = field(default_factory=Backoff)
    sleep: Sleep = asyncio.sleep
    fetches: int = 0
    """Requests made to the feed (one per poll or per cache miss, never one per bot)."""
    failures: int = 0
    last_error: str | None = None
    _subscribers: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _cache: dict[str, tuple[datetime, Ticker]] = field(default_factory=dict, init=False, repr=False)
    _inflight: dict[str, asyncio.Future[Ticker]] = field(
        default_factory=dict, init=False, repr=False
    )

    @property
    def name(self) -> str:
        return self.feed.name

    def subscribe(self, symbols: Iterable[str]) -> None:
        self._subscribers.update(symbols)

    def unsubscribe(self, symbols: Iterable[str]) -> None:
        self._subscribers.subtract(symbols)
        for symbol in [s for s, n in self._subscribers.items() if n <= 0]:
            del self._subscribers[symbol]

    @property
    def symbols(self) -> list[str]:
        return sorted(self._subscribers)

    def latest(self, symbol: str) -> Ticker | None:
        entry = self._cache.get(symbol)
        return entry[1] if entry else None

    def prices(self) -> dict[str, Decimal]:
        """The last known price of every cached symbol (for marking positions to market)."""
        return {symbol: ticker.last for symbol, (_, ticker) in self._cache.items()}

    def _fresh(self, symbol: str) -> Ticker | None:
        entry = self._cache.get(symbol)
        if entry and self.clock.now() - entry[0] < self.max_age:
            return entry[1]
        return None

    async def ticker(self, symbol: str) -> Ticker:
        cached = self._fresh(symbol)
        if cached is not None:
            return cached
        pending = self._inflight.get(symbol)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this caller itself was cancelled
                return await self.ticker(symbol)  # the fetching caller was: fetch afresh
        future: asyncio.Future[Ticker] = asyncio.get_running_loop().create_future()
        self._inflight[symbol] = future
        try:
            self.fetches += 1
            ticker = await self.feed.ticker(symbol)
            self._cache[symbol] = (self.clock.now(), ticker)
            future.set_result(ticker)
            return ticker
        except asyncio.CancelledError:
            future.cancel()  # the waiters retry on their own; they were not cancelled themselves
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: a lone caller must not warn at shutdown
            raise
        finally:
            del self._inflight[symbol]

    async def refresh(self) -> dict[str, Ticker]:
        """One poll of every subscribed symbol, in a single feed request."""
        symbols = self.symbols
        if not symbols:
            return {}
        self.fetches += 1
        tickers = await self.feed.tickers(symbols)
        now = self.clock.now()
        for symbol, ticker in tickers.items():
            self._cache[symbol] = (now, ticker)
        return tickers

    async def poll_once(self) -> float:
        """Refresh, and return how long to wait before the next poll."""
        try:
            await self.refresh()
        except ExchangeFailure as exc:
            self.failures += 1
            self.last_error = str(exc)
            delay = self.backoff.delay(self.failures, rate_limited=isinstance(exc, RateLimited))
            log.warning("price feed %s failed (%s); retrying in %.1fs", self.name, exc, delay)
            return delay
        self.failures = 0
        self.last_error = None
        return self.poll_interval

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set. Never raises for feed failures; they only slow it down."""
        while not stop.is_set():
            delay = await self.poll_once()
            sleeper = asyncio.ensure_future(self.sleep(delay))
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in (sleeper, stopper):
                task.cancel()


@dataclass
class MarketHubs:
    """The process's hubs, by feed name: every bot and screen on a feed shares its hub."""

    hubs: dict[str, PriceHub] = field(default_factory=dict)

    def add(self, hub: PriceHub) -> PriceHub:
        self.hubs[hub.name] = hub
        return hub

    def get(self, name: str) -> PriceHub | None:
        return self.hubs.get(name)

    def public(
        self,
        factory: ExchangeFactory,
        exchange: str,
        *,
        feed_name: str | None = None,
        testnet: bool = False,
        clock: Clock = SYSTEM_CLOCK,
    ) -> PriceHub:
        """The shared hub of an exchange's public prices (no keys), created on first use."""
        name = feed_name or (f"{exchange}-testnet" if testnet else exchange)
        hub = self.hubs.get(name)
        if hub is None:
            feed = CcxtFeed(factory.create(exchange, testnet=testnet), name=name, testnet=testnet)
            hub = self.add(PriceHub(feed, clock=clock))
        return hub

    async def close(self) -> None:
        for hub in self.hubs.values():
            await hub.feed.close()
        self.hubs.clear()
