"""Folding candles into chart bars and placing trades on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.market.ohlc import Bar, TradeMark, fold, place_marks
from core.market.types import Candle

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def candle(i: int, o: str, h: str, low: str, c: str) -> Candle:
    return Candle(T0 + i * HOUR, Decimal(o), Decimal(h), Decimal(low), Decimal(c), Decimal(1))


def test_few_candles_are_one_bar_each() -> None:
    candles = [candle(0, "10", "12", "9", "11"), candle(1, "11", "11.5", "8", "8.5")]
    assert fold(candles, 10) == [
        Bar(T0, Decimal(10), Decimal(12), Decimal(9), Decimal(11)),
        Bar(T0 + HOUR, Decimal(11), Decimal("11.5"), Decimal(8), Decimal("8.5")),
    ]


def test_many_candles_fold_into_even_groups_filling_the_width() -> None:
    candles = [candle(i, str(i), str(i + 5), str(i - 5), str(i + 1)) for i in range(10, 17)]
    bars = fold(candles, 3)  # 7 candles on 3 columns: 2 + 2 + 3
    assert [b.start for b in bars] == [T0 + 10 * HOUR, T0 + 12 * HOUR, T0 + 14 * HOUR]
    assert bars[1] == Bar(T0 + 12 * HOUR, Decimal(12), Decimal(18), Decimal(7), Decimal(14))
    assert bars[-1].close == Decimal(17)  # the newest candle's close


@given(st.integers(min_value=1, max_value=400), st.integers(min_value=1, max_value=120))
def test_fold_never_exceeds_the_width_and_keeps_the_extremes(n: int, width: int) -> None:
    candles = [candle(i, "5", str(10 + i % 7), str(1 + i % 3), "6") for i in range(n)]
    bars = fold(candles, width)
    assert len(bars) == min(n, width)
    assert max(b.high for b in bars) == max(c.high for c in candles)
    assert min(b.low for b in bars) == min(c.low for c in candles)
    assert bars[0].open == candles[0].open and bars[-1].close == candles[-1].close


def test_marks_land_on_the_bar_holding_their_time() -> None:
    bars = fold([candle(i, "1", "2", "0.5", "1.5") for i in range(6)], 3)  # 2 candles a bar
    marks = [
        TradeMark(T0 - HOUR, "buy", Decimal(1)),  # before the chart: dropped
        TradeMark(T0 + 90 * timedelta(minutes=1), "buy", Decimal(1)),  # bar 0
        TradeMark(T0 + 2 * HOUR, "sell", Decimal(1)),  # exactly at bar 1's start
        TradeMark(T0 + 30 * HOUR, "sell", Decimal(1)),  # after the last start: last bar
        TradeMark(T0 + 5 * HOUR, "buy", Decimal(1)),
    ]
    assert place_marks(bars, marks) == {0: {"buy"}, 1: {"sell"}, 2: {"sell", "buy"}}
