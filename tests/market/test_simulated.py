"""The simulated market: deterministic, candles made of its ticks, small caps that pump."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.clock import FrozenClock
from core.errors import InvalidInput
from core.market.feed import MarketFeed
from core.market.simulated import DEFAULT_SYMBOLS, TICK_SECONDS, AcceleratedClock, SimulatedMarket
from core.market.types import Timeframe

NOW = datetime(2026, 1, 1, 12, 0, 3, tzinfo=UTC)
SYMBOLS = [s.symbol for s in DEFAULT_SYMBOLS]


def market(seed: int = 7, now: datetime = NOW) -> SimulatedMarket:
    return SimulatedMarket(seed=seed, clock=FrozenClock(now))


def test_is_a_market_feed_with_the_required_symbols() -> None:
    m = market()
    assert isinstance(m, MarketFeed)
    for symbol in ("BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT"):
        assert symbol in SYMBOLS
    assert sum(1 for s in DEFAULT_SYMBOLS if s.pump_chance > 0) >= 3


async def test_same_seed_same_prices_whatever_the_query_order() -> None:
    a, b = market(), market()
    later = NOW + timedelta(days=3, hours=5)
    # b is asked in another order, and about other things first.
    b.candles("WIF/USDT", Timeframe.D1, limit=200, now=later)
    assert a.price_at("WIF/USDT", later) == b.price_at("WIF/USDT", later)
    assert await a.tickers(SYMBOLS) == await b.tickers(SYMBOLS)
    assert a.candles("BTC/USDT", Timeframe.M15, limit=50, now=later) == b.candles(
        "BTC/USDT", Timeframe.M15, limit=50, now=later
    )
    other = market(seed=8)
    assert other.price_at("BTC/USDT", NOW) != a.price_at("BTC/USDT", NOW)


async def test_prices_and_volumes_are_decimals_on_the_pair_grid() -> None:
    m = market()
    for symbol in SYMBOLS:
        info = m.info(symbol)
        t = await m.ticker(symbol)
        for value in (t.last, t.bid, t.ask, t.high_24h, t.low_24h):
            assert isinstance(value, Decimal)
            assert value == info.round_price(value) and value > 0
        assert t.bid < t.last < t.ask
        assert t.low_24h <= t.last <= t.high_24h
        assert t.volume_24h == info.round_quantity(t.volume_24h) > 0


@pytest.mark.parametrize("timeframe", list(Timeframe))
def test_candles_are_aggregates_of_the_ticks(timeframe: Timeframe) -> None:
    m = market()
    bars = m.candles("SOL/USDT", timeframe, limit=30, now=NOW)
    assert len(bars) == 30
    width = timedelta(seconds=timeframe.seconds)
    assert all(b.timestamp + width == n.timestamp for b, n in itertools.pairwise(bars))
    # The last bar is the current one: it closes at the ticker's last price.
    assert bars[-1].timestamp <= NOW < bars[-1].timestamp + width
    assert bars[-1].close == m.ticker_at("SOL/USDT", NOW).last
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.open == m.price_at("SOL/USDT", bar.timestamp)
    # A finished bar equals the bars of a finer timeframe inside it, to the last digit.
    if timeframe is not Timeframe.M1:
        finer = Timeframe.M1 if timeframe.seconds < 3600 else Timeframe.M15
        parts = m.candles(
            "SOL/USDT",
            finer,
            since=bars[-2].timestamp,
            limit=timeframe.seconds // finer.seconds,
            now=NOW,
        )
        whole = bars[-2]
        assert (whole.open, whole.close) == (parts[0].open, parts[-1].close)
        assert whole.high == max(p.high for p in parts) and whole.low == min(p.low for p in parts)
        assert whole.volume == sum(p.volume for p in parts)


def test_candles_since_a_time_and_limits() -> None:
    m = market()
    since = datetime(2025, 12, 31, 0, 0, 30, tzinfo=UTC)
    bars = m.candles("BTC/USDT", Timeframe.H1, since=since, limit=1000, now=NOW)
    assert bars[0].timestamp == datetime(2025, 12, 31, 1, tzinfo=UTC)  # first bar at or after
    assert bars[-1].timestamp == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert len(bars) == 36
    with pytest.raises(InvalidInput):
        m.candles("BTC/USDT", Timeframe.H1, limit=0, now=NOW)
    with pytest.raises(InvalidInput):
        m.candles("NOPE/USDT", Timeframe.H1, limit=5, now=NOW)
    with pytest.raises(InvalidInput):
        Timeframe.parse("2m")
    with pytest.raises(InvalidInput):
        m.price_at("BTC/USDT", datetime(2020, 1, 1, tzinfo=UTC))


def test_small_caps_sometimes_pump_and_majors_do_not() -> None:
    m = market()
    start = datetime(2025, 6, 1, tzinfo=UTC)
    days = m.candles("BONK/USDT", Timeframe.D1, since=start, limit=120, now=NOW)
    btc = m.candles("BTC/USDT", Timeframe.D1, since=start, limit=120, now=NOW)
    spikes = [d for d in days if d.high / d.open > Decimal("1.15")]
    btc_spikes = [d for d in btc if d.high / d.open > Decimal("1.15")]
    assert 3 <= len(spikes) <= 60
    assert len(btc_spikes) < len(spikes) / 3
    # A pump comes with a volume burst.
    quiet = sorted(d.volume for d in days)[len(days) // 2]
    assert max(d.volume for d in spikes) > quiet


def test_the_market_moves_with_the_injected_clock_faster_than_real_time() -> None:
    clock = FrozenClock(NOW)
    m = SimulatedMarket(seed=7, clock=clock)
    first = m.ticker_at("ETH/USDT", clock.now())
    clock.advance(seconds=TICK_SECONDS * 3)
    moved = m.ticker_at("ETH/USDT", clock.now())
    assert moved.timestamp - first.timestamp == timedelta(seconds=TICK_SECONDS * 3)

    wall = FrozenClock(NOW)
    fast = AcceleratedClock(speed=3600, start=datetime(2025, 1, 1, tzinfo=UTC), wall=wall)
    wall.advance(seconds=2)
    assert fast.now() == datetime(2025, 1, 1, 2, tzinfo=UTC)  # two hours of market per 2 s
    with pytest.raises(ValueError):
        AcceleratedClock(speed=0)


async def test_markets_list_rules() -> None:
    infos = {i.symbol: i for i in await market().markets()}
    btc = infos["BTC/USDT"]
    assert (btc.base, btc.quote, btc.price_precision) == ("BTC", "USDT", 2)
    assert btc.min_quantity == Decimal("0.00001")
    assert btc.taker_fee == Decimal("0.001")
