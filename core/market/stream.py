"""Streamed prices over ccxt's websocket API (``ccxt.pro``), where the exchange offers it.

One ``TickerStream`` per exchange hub and process, one ``watch_ticker`` loop per followed
symbol (ccxt multiplexes them on the exchange's connection): every tick is ``push``ed into the
hub, so exit rules see it at once. When a symbol's stream fails the hub polls it again
(``stream_down``), and the loop reconnects after a backoff with jitter (so a hundred processes
don't reconnect in step); the first tick back takes the symbol off the polls again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from core.market.ccxt_feed import parse_ticker
from core.market.hub import Backoff, PriceHub, Sleep
from core.market.lazy_ccxt import ccxt, ccxtpro

log = logging.getLogger(__name__)

FOLLOW_SECONDS = 0.5
"""How often a stream looks at which symbols its hub follows."""


@cache
def streams_tickers(exchange_id: str) -> bool:
    """Whether ccxt.pro can stream this exchange's tickers (no network: reads its ``has``)."""
    cls = getattr(ccxtpro, exchange_id, None)
    return cls is not None and bool(cls().has.get("watchTicker"))


def pro_client(rest: ccxt.Exchange, *, ws_origin: str | None = None) -> Any:
    """The websocket twin of a REST client: same options, sandbox and REST URLs (ccxt.pro loads
    markets over REST); ``ws_origin`` sends the websocket connections elsewhere (tests' fakes)."""
    client = getattr(ccxtpro, rest.id)(
        {
            "enableRateLimit": rest.enableRateLimit,
            "timeout": rest.timeout,
            "options": dict(rest.options),
        }
    )
    # Binance streams single tickers on its multi-symbol channel, by default the mini ticker,
    # which has no bid and ask: ask for the full ticker
    watch = client.options.get("watchTickers")
    if isinstance(watch, dict) and watch.get("name") == "miniTicker":
        client.options["watchTickers"] = {**watch, "name": "ticker"}
    if rest.isSandboxModeEnabled:
        client.set_sandbox_mode(True)
    ws = client.urls["api"].get("ws")
    client.urls["api"] = {**rest.urls["api"], "ws": _reroute(ws, ws_origin) if ws_origin else ws}
    return client


def _reroute(urls: Any, origin: str) -> Any:
    if isinstance(urls, dict):
        return {key: _reroute(value, origin) for key, value in urls.items()}
    if isinstance(urls, str):
        target, parts = urlsplit(origin), urlsplit(urls)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))
    return urls


class TickerStream:
    def __init__(
        self,
        hub: PriceHub,
        client: Any,
        *,
        backoff: Backoff | None = None,
        jitter: Callable[[], float] = random.random,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.hub = hub
        self.client = client
        self.backoff = backoff or Backoff(base=0.5, cap=30.0)
        self.jitter = jitter
        self.sleep = sleep
        self.ticks = 0
        self.reconnects = 0
        self._loops: dict[str, asyncio.Task[None]] = {}

    def delay(self, failures: int) -> float:
        """Half the backoff plus up to as much again at random ("equal jitter")."""
        full = self.backoff.delay(failures)
        return full / 2 + full / 2 * self.jitter()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the hub's symbols until ``stop``: a watch loop per symbol."""
        try:
            while not stop.is_set():
                wanted = set(self.hub.symbols)
                for symbol in wanted - self._loops.keys():
                    self._loops[symbol] = asyncio.create_task(
                        self._watch(symbol), name=f"stream-{self.hub.name}-{symbol}"
                    )
                for symbol in self._loops.keys() - wanted:
                    self._loops.pop(symbol).cancel()
                    self.hub.stream_down(symbol, "no longer followed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), FOLLOW_SECONDS)
        finally:
            for task in self._loops.values():
                task.cancel()
            await asyncio.gather(*self._loops.values(), return_exceptions=True)
            self._loops.clear()
            with contextlib.suppress(Exception):
                await self.client.close()

    async def _watch(self, symbol: str) -> None:
        failures = 0
        while True:
            try:
                raw = await self.client.watch_ticker(symbol)
                ticker = parse_ticker(raw)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self.hub.stream_down(symbol, f"stream: {exc}")
                delay = self.delay(failures)
                log.warning(
                    "price stream %s %s failed (%s); polling, reconnecting in %.1fs",
                    self.hub.name,
                    symbol,
                    exc,
                    delay,
                )
                await self.sleep(delay)
                self.reconnects += 1
                continue
            failures = 0
            self.ticks += 1
            self.hub.push(ticker)
