"""The richer report figures, each checked by hand on the tiny series of ``test_hand_checked``
(sma_cross 2/3: bought at 12.5 on candle 4, sold at 9.5 on candle 6, bought again at 12 on
candle 9 and still held at the last close of 13), and on hand-made inputs."""

import csv
import itertools
import math
from decimal import ROUND_DOWN
from decimal import Decimal as D
from pathlib import Path

import pytest

from core.backtest import BacktestSettings, run
from core.backtest.account import Trade
from core.backtest.csv_data import read_csv
from core.backtest.metrics import TradeTotals, cagr_pct, calmar
from core.backtest.trade_stats import TradeStats
from core.strategies import technical_strategy
from tests.backtest.test_cli import cli
from tests.backtest.test_hand_checked import CASH, CSV, FEE, Q

P4 = D("0.0001")
HOUR_MS = 3_600_000


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "hand.csv"
    path.write_text(CSV)
    return path


def hand_equity() -> list[D]:
    """E₀ and the equity at each of the 11 closes, from the fills by hand."""
    q1 = (CASH / (D("12.5") * D("1.001"))).quantize(Q, rounding=ROUND_DOWN)
    cash1 = (CASH - q1 * D("12.5") * D("1.001")).quantize(Q)
    cash2 = (cash1 + q1 * D("9.5") * D("0.999")).quantize(Q)
    q2 = (cash2 / (D(12) * D("1.001"))).quantize(Q, rounding=ROUND_DOWN)
    cash3 = (cash2 - q2 * D(12) * D("1.001")).quantize(Q)
    closes = [10, 10, 10, 12, 13, 10, 9, 9, 12, D("12.5"), 13]
    held = [None] * 4 + [(cash1, q1)] * 2 + [(cash2, D(0))] * 3 + [(cash3, q2)] * 2
    return [CASH] + [
        CASH if h is None else h[0] + h[1] * c for c, h in zip(closes, held, strict=True)
    ]


@pytest.mark.parametrize("mode", ["fast", "bar"])
def test_each_figure_on_the_hand_series(csv_file: Path, mode: str) -> None:
    candles = read_csv(csv_file, "1h")
    strategy = technical_strategy("sma_cross", {"fast": 2, "slow": 3})
    result = run(strategy, candles, BacktestSettings(CASH, FEE, "1h", mode=mode))
    (trade,) = result.trade_list

    # Held at the closes of candles 4, 5 (first trade) and 9, 10 (still open): 4 of 11.
    assert result.exposure_pct == (D(4) / 11 * 100).quantize(P4) == D("36.3636")
    # First open 10, last close 13.
    assert result.buy_and_hold_return_pct == D("30.0000")
    stats = result.trade_stats
    assert stats.expectancy == trade.pnl  # one closed trade: its P&L
    assert stats.avg_duration_s == stats.max_duration_s == 2 * 3600  # 04:00 → 06:00
    assert stats.best_trade_pct == stats.worst_trade_pct == trade.pnl_pct == D("-24.1518")

    equity = [float(e) for e in hand_equity()]
    assert hand_equity()[-1].quantize(D("1e-8")) == result.final_equity
    returns = [b / a - 1 for a, b in itertools.pairwise(equity)]
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    sortino = sum(returns) / len(returns) / downside * math.sqrt(8760)
    assert result.sortino is not None and abs(float(result.sortino) - sortino) <= 1e-4
    assert round(float(result.sortino), 2) == -19.36

    # 11 hours are 11/8760 of a year: −17.9 % compounds to −100.0000 % a year.
    years = 11 / 8760
    growth = (float(result.final_equity) / 1000) ** (1 / years) - 1
    assert result.cagr_pct == D(repr(growth * 100)).quantize(P4) == D("-100.0000")
    assert result.calmar == (D("-100.0000") / result.max_drawdown_pct).quantize(P4)

    data = result.as_json()
    assert data["exposure_pct"] == "36.3636" and data["buy_and_hold_return_pct"] == "30.0000"
    assert data["expectancy"] == "-241.51848152" and data["best_trade_pct"] == "-24.1518"
    assert data["avg_trade_duration_s"] == data["max_trade_duration_s"] == 7200
    assert data["cagr_pct"] == "-100.0000" and data["sortino"] == str(result.sortino)


def test_cagr_and_calmar_by_hand() -> None:
    # 730 daily candles are two years: ×1.21 is +10 % a year.
    assert cagr_pct(D(1000), D(1210), 730, 86_400) == D("10.0000")
    # One year from 100 to 150: +50 %; a loss of everything is −100 %.
    assert cagr_pct(D(100), D(150), 365, 86_400) == D("50.0000")
    assert cagr_pct(D(100), D(0), 365, 86_400) == D("-100.0000")
    # ×2 in one minute compounds beyond a float: no figure rather than a wrong one.
    assert cagr_pct(D(1000), D(2000), 1, 60) is None
    assert calmar(D("10.0000"), D("5.0000")) == D("2.0000")
    assert calmar(D("10.0000"), D("0.0000")) is None
    assert calmar(None, D("5.0000")) is None


def test_trade_figures_by_hand() -> None:
    def trade(entry_h: int, exit_h: int, pnl: str, pct: str) -> Trade:
        return Trade(
            entry_h * HOUR_MS, D(1), D(1), exit_h * HOUR_MS, D(1), D(pnl), D(pct), D(0), "X", 1
        )

    trades = [
        trade(0, 2, "30", "3.0000"),  # 2 h
        trade(3, 8, "-10", "-1.0000"),  # 5 h
        trade(9, 11, "-5", "-0.5000"),  # 2 h
    ]
    stats = TradeStats.of(trades, TradeTotals.of(trades))
    assert stats.expectancy == D("5.00000000")  # (30 − 10 − 5) / 3
    assert stats.avg_duration_s == 3 * 3600  # (2 + 5 + 2) / 3 hours
    assert stats.max_duration_s == 5 * 3600
    assert (stats.best_trade_pct, stats.worst_trade_pct) == (D("3.0000"), D("-1.0000"))
    assert TradeStats.of([], TradeTotals()) == TradeStats(None, None, None, None, None)


def test_no_trade_means_no_trade_figures(csv_file: Path) -> None:
    candles = read_csv(csv_file, "1h")[:4]  # the first cross is on candle 3's close: never filled
    result = run(
        technical_strategy("sma_cross", {"fast": 2, "slow": 3}),
        candles,
        BacktestSettings(CASH, FEE, "1h"),
    )
    assert result.trades == 0 and result.open_trade is None
    assert result.exposure_pct == D("0.0000")
    assert result.buy_and_hold_return_pct == D("20.0000")  # 10 → 12
    assert result.sortino is None and result.calmar is None
    data = result.as_json()
    for key in ("expectancy", "avg_trade_duration_s", "best_trade_pct", "worst_trade_pct"):
        assert data[key] is None


ARGS = ("--timeframe", "1h", "--strategy", "sma_cross", "--set", "fast=2", "--set", "slow=3")


def test_equity_csv_holds_the_hand_equity(csv_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "equity.csv"
    done = cli(
        "backtest", "--csv", str(csv_file), *ARGS, "--cash", "1000", "--equity-csv", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "11 candles written" in done.stderr
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["time"] for r in rows[:2]] == ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"]
    assert [D(r["equity"]) for r in rows] == hand_equity()[1:]  # exact, digit for digit
    assert rows[4]["close"] == "13" and rows[6]["quantity"] == "0"
    assert D(rows[-1]["equity"]).quantize(D("1e-8")) == D("820.86744424")
    assert "Buy and hold" in done.stdout and "Exposure" in done.stdout


def test_an_unwritable_equity_csv_is_refused_before_the_run(csv_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "equity.csv"
    done = cli("backtest", "--csv", str(csv_file), *ARGS, "--equity-csv", str(target))
    assert done.returncode == 1
    assert "Can't write the equity curve" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == "" and not target.parent.exists()
