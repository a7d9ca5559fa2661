"""Streamed prices: a live bot's stop-loss closes on a websocket tick with no polling; when the
stream drops, polling takes over, and the stream comes back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.models.engine import EngineProcess
from core.db.models.trading import Position
from core.engine.runner import EngineRunner
from core.engine.venues import Markets
from core.market.hub import MarketHubs, PriceHub
from core.services import engine_status, exchanges
from tests.engine.processes import wait_for
from tests.engine.support import START, World
from tests.engine.support import world as make_world
from tests.fake_exchange import Failure, FakeBinance, exchange_factory
from tests.fake_exchange.binance_stream import FakeBinanceStream

KEY, SECRET = "StreamKey00000001", "StreamSecret000001"
TICKERS = "/api/v3/ticker/24hr"


@pytest.fixture
async def venue() -> AsyncIterator[tuple[FakeBinance, FakeBinanceStream]]:
    async with FakeBinance(hang_seconds=2) as rest, FakeBinanceStream(rest) as stream:
        rest.add_account(KEY, SECRET, USDT=5000)
        yield rest, stream


async def bought(db, rest: FakeBinance, stream: FakeBinanceStream) -> tuple[World, EngineRunner]:  # type: ignore[no-untyped-def]
    """A live DCA bot on Binance that has bought 0.01 BTC at 50,000 (stop at 49,000), and an
    engine whose loops run: exits polled every 0.1 s, prices streamed from ``stream``."""
    w = await make_world(db, price_poll_seconds=0.1, watch_refresh_seconds=0.1)
    w.clock = FrozenClock(START)
    w.markets = Markets(
        hubs=MarketHubs(),
        exchanges=exchange_factory(rest, timeout_ms=2_000),
        clock=w.clock,
        stream_prices=True,
        ws_origin=stream.url,
    )
    conn = await exchanges.add_connection(
        db, w.actor, exchange="binance", api_key=KEY, secret=SECRET, permissions=["trade"]
    )
    await w.bot(
        "dca",
        {"symbol": "BTC/USDT", "quote_amount": "500.6", "levels": [], "interval_minutes": 600},
        {"stop_loss_percent": "2"},
        paper_trading=False,
        exchange_connection_id=conn.id,
    )
    runner = w.runner()
    await runner.run_pass()
    assert len(rest.orders) == 1
    await runner.start()
    return w, runner


def hub(runner: EngineRunner) -> PriceHub:
    found = runner.markets.hubs.get("binance")
    assert found is not None
    return found


async def closed(db) -> bool:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return (await s.scalar(select(Position.status))) == "closed"


async def test_a_streamed_tick_closes_the_stop_loss_with_no_polling(db, venue) -> None:  # type: ignore[no-untyped-def]
    rest, stream = venue
    w, runner = await bought(db, rest, stream)
    try:
        await wait_for(
            lambda: _true(hub(runner).streaming("BTC/USDT")), 30, "the stream to take over"
        )
        polls = rest.count("GET", TICKERS)
        # from here a REST price request fails: only the stream can tell the engine the price
        rest.fail(Failure.SERVER_ERROR, times=100_000, path=TICKERS)
        await stream.publish("BTC/USDT", "49000.01")
        await stream.publish("BTC/USDT", "49000")
        await wait_for(lambda: closed(db), 30, "the stop-loss close")
        async with db.session() as s:
            position = await s.scalar(select(Position))
        assert (position.close_reason, position.exit_price) == ("STOP_LOSS", D(49000))
        assert len(rest.orders) == 2  # the market sell, on the exchange
        assert rest.count("GET", TICKERS) == polls  # no price was polled for the exit
    finally:
        await runner.stop()
        await w.markets.hubs.close()


async def test_polling_takes_over_while_the_stream_is_down_and_it_comes_back(db, venue) -> None:  # type: ignore[no-untyped-def]
    rest, stream = venue
    w, runner = await bought(db, rest, stream)
    try:
        prices = hub(runner)
        await wait_for(lambda: _true(prices.streaming("BTC/USDT")), 30, "the stream")
        connections = stream.connections
        stream.refuse = True
        await stream.drop()
        await wait_for(lambda: _true(not prices.streaming("BTC/USDT")), 30, "the stream to drop")
        polls = rest.count("GET", TICKERS)
        await wait_for(lambda: _true(rest.count("GET", TICKERS) > polls), 30, "polling again")

        rest.set_price("BTC/USDT", "48000")  # only the REST side knows: the stream is down
        await wait_for(lambda: closed(db), 30, "the stop-loss close through polling")

        stream.refuse = False
        await wait_for(lambda: _true(prices.streaming("BTC/USDT")), 60, "the stream to return")
        assert stream.connections > connections
    finally:
        await runner.stop()
        await w.markets.hubs.close()


async def test_a_symbol_without_a_fresh_price_is_shown_stale(db, venue) -> None:  # type: ignore[no-untyped-def]
    rest, stream = venue
    w, runner = await bought(db, rest, stream)
    try:
        prices = hub(runner)
        await wait_for(lambda: _true(prices.streaming("BTC/USDT")), 30, "the stream")
        stream.refuse = True
        await stream.drop()
        rest.fail(Failure.SERVER_ERROR, times=100_000, path=TICKERS)
        w.clock.advance(seconds=runner.settings.stale_price_seconds + 1)
        await wait_for(lambda: _true("BTC/USDT" in prices.stale()), 30, "BTC/USDT stale")

        async def shown() -> bool:
            async with db.session() as s:
                status = await engine_status.engine_status(
                    s, w.actor, now=w.clock.now(), cycle_seconds=10, alive_seconds=3600
                )
            return status.stale_prices == ("binance BTC/USDT",)

        await wait_for(shown, 30, "the engine status to name the stale price")
        async with db.session() as s:
            row = await s.scalar(select(EngineProcess))
        assert row.stale_prices == ["binance BTC/USDT"]
    finally:
        await runner.stop()
        await w.markets.hubs.close()


async def _true(value: bool) -> bool:
    return value
