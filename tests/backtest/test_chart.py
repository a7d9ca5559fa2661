"""A backtest report's chart: the candles folded into bars, stored with the report, and the
trades' entries and exits read back as marks."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from core.backtest.chart import chart_rows
from core.market.ohlc import TradeMark
from core.services.backtest_runs import chart
from core.strategies.candles import Candles


def _candles(n: int) -> Candles:
    i = np.arange(n, dtype=np.float64)
    return Candles.from_arrays(np.arange(n) * 60_000, i + 1, i + 5, i - 1, i + 2, np.ones(n))


def test_folding_is_hand_checked() -> None:
    # 7 candles into 3 bars: [0 1] [2 3] [4 5 6]
    assert chart_rows(_candles(7), 3) == [
        [0, "1", "6", "-1", "3"],
        [120_000, "3", "8", "1", "5"],
        [240_000, "5", "11", "3", "8"],
    ]


def test_few_candles_are_kept_whole_and_many_are_bounded() -> None:
    assert len(chart_rows(_candles(5))) == 5
    rows = chart_rows(_candles(1_000_000))
    assert len(rows) == 240 and rows[-1][4] == "1000001"  # the last close
    assert min(Decimal(r[3]) for r in rows) == -1 and max(Decimal(r[2]) for r in rows) == 1000004


def test_a_report_gives_its_candles_and_trade_marks() -> None:
    result = {
        "chart": [[0, "1", "5", "-1", "2"], [60_000, "2", "8", "0", "5"]],
        "trade_list": [
            {
                "entry_time": "1970-01-01T00:00:00Z",
                "entry_price": "1.5",
                "exit_time": "1970-01-01T00:01:00Z",
                "exit_price": "4",
            },
            {"entry_time": "1970-01-01T00:01:00Z", "entry_price": "4.5", "exit_time": None},
        ],
    }
    candles, marks = chart(result)
    assert [(c.timestamp.timestamp(), c.high) for c in candles] == [(0, 5), (60, 8)]
    t0, t1 = datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, 0, 1, tzinfo=UTC)
    assert marks == [
        TradeMark(t0, "buy", Decimal("1.5")),
        TradeMark(t1, "sell", Decimal(4)),
        TradeMark(t1, "buy", Decimal("4.5")),
    ]
    assert chart({"trade_list": []}) == ([], [])  # a report stored before charts
