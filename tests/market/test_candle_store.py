"""Exchange candles kept in ``historical_datasets``: a second engine (or a restart) reads them
instead of fetching them again, and only what closed since is fetched and written back. The
simulated market's candles are not stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
from sqlalchemy import select

from core.db.engine import Database
from core.db.models.bots import HistoricalDataset
from core.engine.candles import CandleCache
from core.engine.venues import Markets
from core.market.hub import MarketHubs
from core.services import backtests
from core.services.actor import SYSTEM
from tests.engine.support import world
from tests.fake_exchange import exchange_factory
from tests.fake_exchange.binance import FakeBinance

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MINUTE = 60_000


def history(n: int) -> list[list]:
    start = int(T0.timestamp() * 1000)
    return [
        [start + i * MINUTE, D(50000 + i), D(50010 + i), D(49990 + i), D(50005 + i), D(3)]
        for i in range(n)
    ]


async def test_exchange_candles_are_shared_through_the_database(db: Database) -> None:
    async with FakeBinance() as fake:
        fake.set_history("BTC/USDT", "1m", history(200))
        markets = Markets(hubs=MarketHubs(), exchanges=exchange_factory(fake))
        hub = markets.public_hub("binance", "binance", False)
        try:
            now = T0 + timedelta(minutes=100, seconds=5)  # candles 0..99 have closed
            first = CandleCache(store=db)
            window = await first.window(hub, "BTC/USDT", "1m", 50, now)
            fetched = fake.count("GET", "/api/v3/klines")
            assert fetched >= 1 and len(window) == 50
            assert window.close[-1] == 50005 + 99
            async with db.session() as s:
                (row,) = (await s.scalars(select(HistoricalDataset))).all()
            assert (row.exchange, row.symbol, row.timeframe, row.candle_count) == (
                "binance",
                "BTC/USDT",
                "1m",
                50,
            )
            assert row.candles[-1][4] == "50104"  # exact decimal strings, like an import

            restarted = CandleCache(store=db)  # another engine, or this one after a restart
            again = await restarted.window(hub, "BTC/USDT", "1m", 50, now)
            assert fake.count("GET", "/api/v3/klines") == fetched  # not asked again
            assert restarted.stored_reads == 1
            assert np.array_equal(again.ts, window.ts) and np.array_equal(again.close, window.close)

            later = now + timedelta(minutes=3)  # three more candles closed
            moved = await restarted.window(hub, "BTC/USDT", "1m", 50, later)
            assert fake.count("GET", "/api/v3/klines") == fetched + 1  # only what closed since
            assert moved.close[-1] == 50005 + 102
            async with db.session() as s:
                row = (await s.scalars(select(HistoricalDataset))).one()
                await s.refresh(row)
            assert row.end_date == T0 + timedelta(minutes=102)

            # The first engine's window is older than the stored one: it reads, not fetches.
            caught_up = await first.window(hub, "BTC/USDT", "1m", 50, later)
            assert fake.count("GET", "/api/v3/klines") == fetched + 1
            assert caught_up.close[-1] == 50005 + 102

            # Backtests can use the stored window as a dataset too.
            async with db.session() as s:
                listed = await backtests.datasets(s, SYSTEM, "BTC/USDT")
            assert [(d.timeframe, d.candle_count) for d in listed] == [("1m", 50)]
        finally:
            await markets.hubs.close()


async def test_simulated_candles_are_not_stored(db: Database) -> None:
    w = await world(db)
    cache = CandleCache(store=db)
    window = await cache.window(w.markets.paper_hub(), "BTC/USDT", "1m", 30, w.clock.now())
    assert len(window) == 30
    async with db.session() as s:
        assert (await s.scalars(select(HistoricalDataset))).all() == []
