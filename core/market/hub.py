"""Shared prices: one ``PriceHub`` per feed, one fetch per symbol however many bots watch it.

Bots ``subscribe`` to symbols; ``run`` polls every subscribed symbol in one request per interval
(``tickers``), backing off exponentially while the feed fails and resetting after a success.
``ticker`` answers from the cache while it is fresh and otherwise fetches, with concurrent
callers of the same symbol sharing one request (single flight).

Where the exchange streams prices (``core.market.stream``), the stream ``push``es each tick into
the cache and to every ``listen``er (the engine's exit watcher); a streamed symbol is left out of
the polls until its stream drops, and then polling takes over. A symbol whose last price is older
than ``stale_after`` is ``stale``: the engine shows it and its cycles wait for a fresh price.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from core.clock import SYSTEM_CLOCK, Clock
from core.market.ccxt_client import ExchangeFactory
from core.market.ccxt_feed import CcxtFeed
from core.market.errors import ExchangeFailure, RateLimited, StalePrice
from core.market.feed import MarketFeed
from core.market.types import Ticker

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Streamer(Protocol):
    """Pushes a hub's prices as they come (``core.market.stream.TickerStream``)."""

    async def run(self, stop: asyncio.Event) -> None: ...


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
    stale_after: timedelta = timedelta(seconds=30)
    _subscribers: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _streamed: set[str] = field(default_factory=set, init=False, repr=False)
    _listeners: list[asyncio.Queue[tuple[str, Ticker]]] = field(
        default_factory=list, init=False, repr=False
    )
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

    # -- streamed prices ------------------------------------------------------------------------

    def push(self, ticker: Ticker) -> None:
        """A streamed tick: cached, the symbol left out of polls, every listener told."""
        self._cache[ticker.symbol] = (self.clock.now(), ticker)
        self._streamed.add(ticker.symbol)
        for queue in self._listeners:
            queue.put_nowait((self.name, ticker))

    def stream_down(self, symbol: str, error: str) -> None:
        """The symbol's stream failed: polls cover it again until the stream is back."""
        self._streamed.discard(symbol)
        self.last_error = error

    def streaming(self, symbol: str) -> bool:
        return symbol in self._streamed

    def listen(self, queue: asyncio.Queue[tuple[str, Ticker]]) -> None:
        """Put ``(feed name, ticker)`` on ``queue`` for every streamed tick."""
        self._listeners.append(queue)

    def unlisten(self, queue: asyncio.Queue[tuple[str, Ticker]]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(queue)

    def stale(self) -> dict[str, float]:
        """Followed symbols with no price younger than ``stale_after``: seconds since their
        last price (``inf`` when none came yet)."""
        now = self.clock.now()
        out = {}
        for symbol in self.symbols:
            entry = self._cache.get(symbol)
            age = (now - entry[0]).total_seconds() if entry else float("inf")
            if age >= self.stale_after.total_seconds():
                out[symbol] = age
        return out

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
            failure: Exception = exc
            if isinstance(exc, ExchangeFailure) and symbol in self.stale():
                failure = StalePrice(
                    f"{symbol} on {self.name} has no fresh price ({exc}); it waits for one."
                )
            future.set_exception(failure)
            future.exception()  # mark retrieved: a lone caller must not warn at shutdown
            if failure is exc:
                raise
            raise failure from exc
        finally:
            del self._inflight[symbol]

    async def refresh(self) -> dict[str, Ticker]:
        """One poll of every subscribed symbol not streamed, in a single feed request."""
        symbols = [s for s in self.symbols if s not in self._streamed]
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
    """The process's hubs, by feed name: every bot and screen on a feed shares its hub, and a
    hub's price stream (if any) runs here until ``close``."""

    hubs: dict[str, PriceHub] = field(default_factory=dict)
    _streams: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False, repr=False)
    _stop: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)
    _listeners: list[asyncio.Queue[tuple[str, Ticker]]] = field(
        default_factory=list, init=False, repr=False
    )

    def add(self, hub: PriceHub, *, stream: Streamer | None = None) -> PriceHub:
        self.hubs[hub.name] = hub
        for queue in self._listeners:
            hub.listen(queue)
        if stream is not None:
            self._streams[hub.name] = asyncio.get_running_loop().create_task(
                stream.run(self._stop), name=f"stream-{hub.name}"
            )
        return hub

    def get(self, name: str) -> PriceHub | None:
        return self.hubs.get(name)

    def listen(self, queue: asyncio.Queue[tuple[str, Ticker]]) -> None:
        """Streamed ticks of every hub, present and future, onto ``queue``."""
        self._listeners.append(queue)
        for hub in self.hubs.values():
            hub.listen(queue)

    def unlisten(self, queue: asyncio.Queue[tuple[str, Ticker]]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(queue)
        for hub in self.hubs.values():
            hub.unlisten(queue)

    def streamed(self, name: str) -> bool:
        """Whether the hub has a live stream task."""
        task = self._streams.get(name)
        return task is not None and not task.done()

    def public(
        self,
        factory: ExchangeFactory,
        exchange: str,
        *,
        feed_name: str | None = None,
        testnet: bool = False,
        clock: Clock = SYSTEM_CLOCK,
        stale_after: timedelta = timedelta(seconds=30),
        stream: Callable[[PriceHub, Any], Streamer | None] | None = None,
    ) -> PriceHub:
        """The shared hub of an exchange's public prices (no keys), created on first use;
        ``stream(hub, client)`` gives it a price stream (or None where there is none)."""
        name = feed_name or (f"{exchange}-testnet" if testnet else exchange)
        hub = self.hubs.get(name)
        if hub is None:
            client = factory.create(exchange, testnet=testnet)
            feed = CcxtFeed(client, name=name, testnet=testnet)
            hub = PriceHub(feed, clock=clock, stale_after=stale_after)
            hub = self.add(hub, stream=stream(hub, client) if stream is not None else None)
        return hub

    async def close(self) -> None:
        self._stop.set()
        streams = list(self._streams.values())
        if streams:
            await asyncio.gather(*streams, return_exceptions=True)
        self._streams.clear()
        for hub in self.hubs.values():
            await hub.feed.close()
        self.hubs.clear()
