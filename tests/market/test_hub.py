"""Shared prices: one fetch per symbol for every bot, one request per poll, back-off on failure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from core.clock import FrozenClock
from core.market.ccxt_feed import CcxtFeed
from core.market.errors import ExchangeUnavailable
from core.market.hub import Backoff, MarketHubs, PriceHub
from core.market.simulated import SimulatedMarket
from tests.fake_exchange import Failure, FakeBinance, exchange_factory

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
TICKER = ("GET", "/api/v3/ticker/24hr")


async def test_many_bots_one_fetch_per_symbol() -> None:
    async with FakeBinance() as fake:
        clock = FrozenClock(NOW)
        hub = PriceHub(CcxtFeed(exchange_factory(fake).create("binance")), clock=clock)
        try:
            # Twenty bots ask for BTC at once, five for ETH: one request per symbol.
            asks = [hub.ticker("BTC/USDT") for _ in range(20)] + [
                hub.ticker("ETH/USDT") for _ in range(5)
            ]
            tickers = await asyncio.gather(*asks)
            assert {t.symbol for t in tickers} == {"BTC/USDT", "ETH/USDT"}
            assert fake.count(*TICKER) == 2 and hub.fetches == 2
            await hub.ticker("BTC/USDT")  # still fresh: from the cache
            assert fake.count(*TICKER) == 2
            clock.advance(seconds=3)
            fake.set_price("BTC/USDT", "50500")
            assert (await hub.ticker("BTC/USDT")).last == 50500
            assert fake.count(*TICKER) == 3

            # A poll refreshes every subscribed symbol in a single request.
            hub.subscribe(["BTC/USDT", "ETH/USDT", "SOL/USDT"])
            hub.subscribe(["BTC/USDT"])  # a second bot on BTC
            polled = await hub.refresh()
            assert set(polled) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
            assert fake.count(*TICKER) == 4
            hub.unsubscribe(["SOL/USDT"])
            assert hub.symbols == ["BTC/USDT", "ETH/USDT"]
            assert hub.prices()["SOL/USDT"] == 150  # last known price stays available
        finally:
            await hub.feed.close()


async def test_polling_backs_off_while_the_feed_fails_and_recovers() -> None:
    async with FakeBinance() as fake:
        sleeps: list[float] = []
        stop = asyncio.Event()

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            if len(sleeps) == 5:
                stop.set()

        hub = PriceHub(
            CcxtFeed(exchange_factory(fake).create("binance")),
            clock=FrozenClock(NOW),
            poll_interval=2.0,
            backoff=Backoff(base=1.0, factor=2.0, cap=30.0, rate_limited_factor=4.0),
            sleep=sleep,
        )
        hub.subscribe(["BTC/USDT"])
        fake.fail(Failure.SERVER_ERROR, times=2, path="/api/v3/ticker/24hr")
        fake.fail(Failure.RATE_LIMIT, times=1, path="/api/v3/ticker/24hr")
        try:
            await asyncio.wait_for(hub.run(stop), timeout=10)
        finally:
            await hub.feed.close()
        # 503, 503, 429 (longer), then healthy polls at the normal interval.
        assert sleeps == [1.0, 2.0, 16.0, 2.0, 2.0]
        assert hub.failures == 0 and hub.last_error is None
        assert hub.latest("BTC/USDT") is not None


async def test_a_failed_fetch_reaches_every_waiting_caller() -> None:
    async with FakeBinance() as fake:
        hub = PriceHub(CcxtFeed(exchange_factory(fake).create("binance")), clock=FrozenClock(NOW))
        fake.fail(Failure.SERVER_ERROR, times=1, path="/api/v3/ticker/24hr")
        try:
            await hub.feed.markets()
            results = await asyncio.gather(
                *(hub.ticker("BTC/USDT") for _ in range(3)), return_exceptions=True
            )
            assert all(isinstance(r, ExchangeUnavailable) for r in results)
            assert fake.count(*TICKER) == 1
            assert (await hub.ticker("BTC/USDT")).last == 50000
        finally:
            await hub.feed.close()


async def test_hubs_are_shared_by_feed_name() -> None:
    clock = FrozenClock(NOW)
    hubs = MarketHubs()
    hub = hubs.add(PriceHub(SimulatedMarket(seed=1, clock=clock), clock=clock))
    assert hubs.get("simulated") is hub and hubs.get("binance") is None
    assert (await hub.ticker("BTC/USDT")).timestamp == NOW
    await hubs.close()
    assert hubs.get("simulated") is None


def test_backoff_is_capped() -> None:
    backoff = Backoff(base=1, factor=2, cap=10)
    assert [backoff.delay(n) for n in range(1, 6)] == [1, 2, 4, 8, 10]
    assert backoff.delay(2, rate_limited=True) == 8


async def test_a_cancelled_fetch_does_not_cancel_the_callers_waiting_on_it() -> None:
    # the first fetch hangs for longer than the test may take: the waiter can only get its
    # price from a fetch of its own
    async with FakeBinance(hang_seconds=600) as fake:
        hub = PriceHub(CcxtFeed(exchange_factory(fake).create("binance")), clock=FrozenClock(NOW))
        try:
            await hub.feed.markets()
            fake.fail(Failure.TIMEOUT, times=1, path="/api/v3/ticker/24hr")  # the first fetch hangs
            first = asyncio.ensure_future(hub.ticker("BTC/USDT"))
            await asyncio.sleep(0.05)
            waiter = asyncio.ensure_future(hub.ticker("BTC/USDT"))
            await asyncio.sleep(0.05)
            first.cancel()  # e.g. its bot was stopped
            assert (await asyncio.wait_for(waiter, 60)).last == 50000
            assert first.cancelled()
        finally:
            await hub.feed.close()
