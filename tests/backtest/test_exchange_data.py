"""Datasets from an exchange's history (ccxt fetch_ohlcv), against the local fake Binance."""

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from core.backtest.exchange_data import RETRIES, exchange_candles
from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import HistoricalDataset
from core.errors import InvalidInput
from core.market.ccxt_client import ExchangeFactory
from core.market.errors import ExchangeUnavailable, UnknownSymbol
from tests.backtest.test_cli import cli
from tests.fake_exchange import Failure, FakeBinance, exchange_factory
from tests.strategies.helpers import T0_MS, random_walk
from tui.cli.main import cli as cli_group

T0 = datetime.fromtimestamp(T0_MS / 1000, UTC)  # 2024-01-01
HISTORY = random_walk(2500, seed=4).rows()
NOW = FrozenClock(T0 + timedelta(hours=2400, minutes=30))  # candle 2400 is still forming


async def fetch(fake: FakeBinance, **kwargs):
    options = {"clock": NOW, "factory": exchange_factory(fake), "retry_delay": 0.01}
    since = kwargs.pop("since", T0)
    return await exchange_candles("binance", "BTC/USDT", "1h", since, **{**options, **kwargs})


async def test_history_is_paged_through_to_the_last_complete_candle() -> None:
    seen: list[tuple[int, int]] = []
    async with FakeBinance() as fake:
        fake.set_history("BTC/USDT", "1h", HISTORY)
        candles = await fetch(fake, progress=lambda done, total: seen.append((done, total)))
        assert fake.count("GET", "/api/v3/klines") == 3  # 1,000 + 1,000 + 400
    assert candles.rows() == HISTORY[:2400]
    assert seen[0] == (1000, 2400) and seen[-1] == (2400, 2400)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


async def test_a_range_with_an_end() -> None:
    async with FakeBinance() as fake:
        fake.set_history("BTC/USDT", "1h", HISTORY)
        candles = await fetch(
            fake, since=T0 + timedelta(minutes=10 * 60 + 5), until=T0 + timedelta(hours=1500)
        )
        assert fake.count("GET", "/api/v3/klines") == 2
    assert candles.rows() == HISTORY[11:1500]  # from the first candle opening at/after since


async def test_rate_limits_are_waited_out_and_requests_spaced() -> None:
    async with FakeBinance() as fake:
        fake.set_history("BTC/USDT", "1h", HISTORY)
        fake.fail(Failure.RATE_LIMIT, times=2, path="/api/v3/klines")
        candles = await fetch(fake)
        assert candles.rows() == HISTORY[:2400]
        assert fake.count("GET", "/api/v3/klines") == 5  # two 429s answered, then 3 pages

        # the command line's client keeps ccxt's limiter on: requests are spaced by the
        # exchange's published weight (klines: 0.4 × 50 ms on Binance spot)
        fake.arrivals.clear()
        await fetch(fake, factory=ExchangeFactory(api_origin=fake.url, timeout_ms=5000))
        times = [t for path, t in fake.arrivals if path == "/api/v3/klines"]
        assert len(times) == 3 and min(b - a for a, b in itertools.pairwise(times)) >= 0.015

        fake.fail(Failure.SERVER_ERROR, times=RETRIES + 1, path="/api/v3/klines")
        with pytest.raises(ExchangeUnavailable, match="Binance is unavailable"):
            await fetch(fake)


async def test_bad_requests_and_bad_answers_are_clear_errors() -> None:
    broken = [list(row) for row in HISTORY[:50]]
    broken[5][2] = "1"  # a high below the low
    async with FakeBinance() as fake:
        fake.set_history("BTC/USDT", "1h", broken)
        with pytest.raises(InvalidInput, match="bad BTC/USDT candle at 2024-01-01 05:00 UTC"):
            await fetch(fake)
        with pytest.raises(UnknownSymbol, match="does not list DOGE/USDT"):
            await exchange_candles(
                "binance", "DOGE/USDT", "1h", T0, clock=NOW, factory=exchange_factory(fake)
            )
        with pytest.raises(InvalidInput, match="has no 7m candles"):
            await exchange_candles(
                "binance", "BTC/USDT", "7m", T0, clock=NOW, factory=exchange_factory(fake)
            )
        with pytest.raises(InvalidInput, match="no complete BTC/USDT 1h candles"):
            await fetch(fake, since=T0 + timedelta(days=60))  # after the stored history
        requests = len(fake.requests)
        with pytest.raises(InvalidInput, match="a whole candle before now"):
            await fetch(fake, since=NOW.now())
        with pytest.raises(InvalidInput, match="at most 2,000,000"):
            await fetch(fake, since=datetime(1700, 1, 1, tzinfo=UTC))
        assert len(fake.requests) == requests  # refused before asking the exchange


async def test_the_command_fetches_and_stores_a_dataset(db: Database, migrated_url: str) -> None:
    async with FakeBinance() as fake:
        fake.set_history("BTC/USDT", "1h", HISTORY[:1200])
        args = ["data", "fetch", "--symbol", "btc/usdt", "--timeframe", "1h"]
        args += ["--since", "2024-01-01", "--until", "2024-02-01", "--api-url", fake.url]
        done = await asyncio.to_thread(cli, *args, "--testnet", database_url=migrated_url)
        assert done.returncode == 0, done.stderr
        assert "Imported 744 BTC/USDT 1h candles" in done.stderr  # 31 days × 24
        from core.config import get_settings

        get_settings.cache_clear()  # in-process: read DATABASE_URL below, not a cached earlier one
        try:
            bad = await asyncio.to_thread(
                CliRunner().invoke,
                cli_group,
                [*args, "--symbol", "XYZ/USDT"],
                env={"DATABASE_URL": migrated_url},
            )
        finally:
            get_settings.cache_clear()
        assert bad.exit_code == 1 and "does not list XYZ/USDT" in bad.stderr
    async with db.session() as session:
        row = await session.get(HistoricalDataset, done.stdout.strip())
        assert (row.symbol, row.timeframe, row.candle_count) == ("BTC/USDT", "1h", 744)
        assert row.candles == HISTORY[:744]
