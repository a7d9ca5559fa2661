"""A small CSV whose results are computed by hand, in both modes."""

from datetime import UTC, datetime
from decimal import ROUND_DOWN
from decimal import Decimal as D
from pathlib import Path

import pytest

from core.backtest import BacktestSettings, run
from core.backtest.csv_data import read_csv
from core.strategies import technical_strategy
from core.strategies.registry import validate_risk_settings

# sma_cross fast=2 slow=3: the closes cross up at candle 3, down at 5, up again at 8.
CSV = """\
,Open,HIGH,low,Close,volume
2024-01-01 00:00,10,10,10,10,1
2024-01-01 01:00,10,10,10,10,1
2024-01-01 02:00,10,10,10,10,1
2024-01-01 03:00,12,12,12,12,1
2024-01-01 04:00,12.5,13,12,13,1
2024-01-01 05:00,13,13,10,10,1
2024-01-01 06:00,9.5,10,9,9,1
2024-01-01 07:00,9,9,9,9,1
2024-01-01 08:00,12,12,12,12,1
2024-01-01 09:00,12,12.5,11.5,12.5,1
2024-01-01 10:00,12.5,13,12.5,13,1
"""
FEE = D("0.001")
CASH = D(1000)
Q = D("1e-18")


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "hand.csv"
    path.write_text(CSV)
    return path


@pytest.mark.parametrize("mode", ["fast", "bar"])
def test_hand_computed_signal_trades(csv_file, mode):
    candles = read_csv(csv_file, "1h")
    strategy = technical_strategy("sma_cross", {"fast": "2", "slow": "3"})
    result = run(strategy, candles, BacktestSettings(CASH, FEE, "1h", mode=mode))

    # Trade 1: BUY on candle 3's close, filled at candle 4's open 12.5; SELL on candle 5's
    # close, filled at candle 6's open 9.5.
    q1 = (CASH / (D("12.5") * D("1.001"))).quantize(Q, rounding=ROUND_DOWN)
    assert q1 == D("79.920079920079920079")
    cost1 = q1 * D("12.5") * D("1.001")
    proceeds1 = q1 * D("9.5") * D("0.999")
    cash_after_1 = CASH - cost1 + proceeds1
    pnl1 = proceeds1 - cost1
    # Trade 2: BUY on candle 8's close, filled at candle 9's open 12; still open at the end.
    q2 = (cash_after_1 / (D(12) * D("1.001"))).quantize(Q, rounding=ROUND_DOWN)
    cash_end = cash_after_1 - q2 * D(12) * D("1.001")
    final = cash_end + q2 * D(13)

    assert result.trades == 1
    (t,) = result.trade_list
    assert (t.entry_price, t.exit_price, t.quantity, t.exit_reason) == (
        D("12.5"),
        D("9.5"),
        q1,
        "SIGNAL",
    )
    assert t.pnl == pnl1.quantize(D("1e-8"))
    assert round(t.pnl, 2) == D("-241.52")  # by hand: 79.92 × 9.5 × 0.999 − 1000
    assert t.fees == (q1 * D("12.5") * FEE + q1 * D("9.5") * FEE).quantize(D("1e-8"))
    assert datetime.fromtimestamp(t.entry_ms / 1000, UTC) == datetime(2024, 1, 1, 4, tzinfo=UTC)
    assert datetime.fromtimestamp(t.exit_ms / 1000, UTC) == datetime(2024, 1, 1, 6, tzinfo=UTC)

    assert result.final_equity == final.quantize(D("1e-8"))
    assert round(result.final_equity, 2) == D("820.87")  # 758.48 / (12 × 1.001) × 13
    assert result.total_return_pct == ((final - CASH) / CASH * 100).quantize(D("0.0001"))
    assert result.win_rate_pct == D("0.0000")
    assert result.profit_factor == D("0.0000")  # no winner: 0 gross profit over the loss
    # The peak is candle 4's close (bought at 12.5, closed at 13); the trough is after the exit.
    peak = CASH - cost1 + q1 * D(13)
    trough = cash_after_1
    assert result.max_drawdown_pct == ((peak - trough) / peak * 100).quantize(D("0.0001"))
    assert round(result.max_drawdown_pct, 1) == D("27.0")
    open_trade = result.open_trade
    assert open_trade is not None
    assert (open_trade.entry_price, open_trade.quantity, open_trade.last_price) == (
        D(12),
        q2,
        D(13),
    )
    assert open_trade.value == (q2 * D(13)).quantize(D("1e-8"))

    data = result.as_json()
    assert data["trades"] == 1 and data["open_trade"]["entry_time"] == "2024-01-01T09:00:00Z"
    assert data["trade_list"][0]["exit_reason"] == "SIGNAL"
    for key in (
        "final_equity",
        "total_return_pct",
        "win_rate_pct",
        "max_drawdown_pct",
        "sharpe",
        "profit_factor",
    ):
        assert key in data


@pytest.mark.parametrize("mode", ["fast", "bar"])
def test_hand_computed_stop_loss(csv_file, mode):
    """A 10% stop under the 12.5 entry (11.25) is hit by candle 5's low of 10, at 11.25."""
    candles = read_csv(csv_file, "1h")
    strategy = technical_strategy("sma_cross", {"fast": 2, "slow": 3})
    risk = validate_risk_settings({"stop_loss_percent": 10})
    result = run(strategy, candles, BacktestSettings(CASH, FEE, "1h", risk, mode))
    (t,) = result.trade_list
    assert (t.exit_price, t.exit_reason) == (D("11.25"), "STOP_LOSS")
    assert datetime.fromtimestamp(t.exit_ms / 1000, UTC).hour == 5
    q1 = (CASH / (D("12.5") * D("1.001"))).quantize(Q, rounding=ROUND_DOWN)
    assert t.pnl == (q1 * D("11.25") * D("0.999") - q1 * D("12.5") * D("1.001")).quantize(D("1e-8"))


def test_a_signal_on_the_last_candle_is_not_filled(csv_file):
    candles = read_csv(csv_file, "1h")[:9]  # ends on candle 8, whose close is a BUY
    result = run(
        technical_strategy("sma_cross", {"fast": 2, "slow": 3}),
        candles,
        BacktestSettings(CASH, FEE, "1h"),
    )
    assert result.open_trade is None and result.trades == 1
