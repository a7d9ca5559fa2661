"""DCA and grid bots in the backtester: the live rules, the same trades in both modes, and small
cases computed by hand."""

from datetime import UTC, datetime
from decimal import ROUND_DOWN
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest

from core.backtest import BacktestSettings, run
from core.backtest.csv_data import read_csv
from core.backtest.dca import DcaSimulation
from core.errors import InvalidInput
from core.strategies import validate_bot_config
from core.strategies.candles import Candles
from core.strategies.registry import validate_risk_settings
from tests.strategies.helpers import T0_MS, random_walk

Q = D("1e-18")
MONEY = D("1e-8")

DCA = {
    "ladder": (
        {
            "levels": [
                {"drop_percent": 2, "buy_percent": 50},
                {"drop_percent": 4, "buy_percent": 100},
                {"drop_percent": 7, "buy_percent": 150},
            ],
            "cooldown_minutes": 120,
            "take_profit_percent": 2,
        },
        {},
    ),
    "schedule": (
        {"interval_minutes": 480, "levels": [], "max_buys": 6, "take_profit_percent": 3},
        {},
    ),
    "both+stop+limits": (
        {"interval_minutes": 300, "cooldown_minutes": 60, "take_profit_percent": "1.5"},
        {"stop_loss_percent": 8, "max_position_size": 400, "cooldown_after_loss_minutes": 600},
    ),
    "tp levels+trailing": (
        {"take_profit_percent": 4, "cooldown_minutes": 0},
        {
            "take_profit_levels": [{"gain_percent": 1, "sell_percent": 40}],
            "trailing_stop": {"activation_percent": 1, "distance_percent": 1},
        },
    ),
    "stale+daily loss": (
        {"interval_minutes": 720, "take_profit_percent": 5},
        {
            "stale_trade": {"after_minutes": 1440, "min_gain_percent": -3, "max_gain_percent": 1},
            "stop_loss_percent": 6,
            "max_daily_loss": 5,
        },
    ),
}
GRID = {
    "arithmetic": ({"lower_price": 80, "upper_price": 120, "grid_count": 15}, {}, D(10000)),
    "geometric+limits": (
        {
            "lower_price": 70,
            "upper_price": 130,
            "grid_count": 9,
            "spacing": "geometric",
            "quote_per_grid": 2000,
        },
        {"max_position_size": 5000, "max_daily_loss": 10},
        D(10000),
    ),
    "short of cash": (
        {"lower_price": 85, "upper_price": 115, "grid_count": 12, "quote_per_grid": 200},
        {},
        D(500),
    ),
}


def both(subject, candles, risk, cash=D(10000), fee=D("0.002")):
    out = []
    for mode in ("fast", "bar"):
        settings = BacktestSettings(cash, fee, "1h", validate_risk_settings(risk), mode)
        data = run(subject, candles, settings).as_json()
        data.pop("execution_time_ms")
        data.pop("mode")
        out.append(data)
    return out


@pytest.mark.parametrize("seed", [5, 9])
@pytest.mark.parametrize("case", list(DCA))
def test_dca_same_trades_in_both_modes(case, seed):
    config, risk = DCA[case]
    fast, bar = both(validate_bot_config("dca", config), random_walk(1500, seed=seed), risk)
    assert fast == bar
    assert fast["strategy"] == "dca" and fast["trades"] > 3
    assert max(t["entries"] for t in fast["trade_list"]) > 1  # it did add to positions


def test_dca_exits_by_its_take_profit_and_by_the_risk_rules():
    reasons, partial = set(), False
    for config, risk in DCA.values():
        fast, _ = both(validate_bot_config("dca", config), random_walk(1500, seed=5), risk)
        reasons |= {t["exit_reason"] for t in fast["trade_list"]}
        partial |= any(t["exits"] > 1 for t in fast["trade_list"])  # take-profit levels
    assert {"TAKE_PROFIT", "STALE_TRADE"} <= reasons and reasons & {"STOP_LOSS", "TRAILING_STOP"}
    assert partial


def oscillating(n: int, seed: int) -> Candles:
    """A market swinging around 100 (±15 %) with noise: what a grid is made for."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    close = np.round(100 * np.exp(0.12 * np.sin(t / 40) + rng.normal(0, 0.01, n)), 2)
    open_ = np.r_[100.0, close[:-1]]
    high = np.round(np.maximum(open_, close) * (1 + rng.uniform(0, 0.008, n)), 2)
    low = np.round(np.minimum(open_, close) * (1 - rng.uniform(0, 0.008, n)), 2)
    return Candles.from_arrays(T0_MS + t * 3_600_000, open_, high, low, close, np.ones(n))


@pytest.mark.parametrize("seed", [5, 9])
@pytest.mark.parametrize("case", list(GRID))
def test_grid_same_trades_in_both_modes(case, seed):
    config, risk, cash = GRID[case]
    candles = oscillating(1500, seed)
    fast, bar = both(validate_bot_config("grid", config), candles, risk, cash=cash)
    assert fast == bar
    assert fast["strategy"] == "grid" and fast["trades"] > 3
    assert {t["exit_reason"] for t in fast["trade_list"]} == {"GRID_SELL"}


def test_fast_mode_skips_quiet_candles(monkeypatch):
    steps = []
    original = DcaSimulation.step

    def counting(self, i):
        steps.append(i)
        original(self, i)

    monkeypatch.setattr(DcaSimulation, "step", counting)
    config = validate_bot_config("dca", {"take_profit_percent": 5, "cooldown_minutes": 600})
    run(config, random_walk(2000, seed=3), BacktestSettings(D(1000), D("0.001"), "1h"))
    assert len(steps) < 500


def test_a_grid_with_exit_rules_is_refused():
    config = validate_bot_config("grid", GRID["arithmetic"][0])
    risk = validate_risk_settings({"trailing_stop": {"distance_percent": 2}})
    with pytest.raises(InvalidInput, match="grid bot leaves each lot"):
        run(config, random_walk(50), BacktestSettings(D(1000), D(0), "1h", risk))


# -- by hand ------------------------------------------------------------------------------------

DCA_CSV = """\
,open,high,low,close,volume
2024-01-01 00:00,100,100,100,100,1
2024-01-01 01:00,100,101,94,95,1
2024-01-01 02:00,95,96,88,89,1
2024-01-01 03:00,88,93,87,92,1
2024-01-01 04:00,92,99,91,99,1
2024-01-01 05:00,99.5,100,99,100,1
2024-01-01 06:00,100,101,99,101,1
"""
GRID_CSV = """\
,open,high,low,close,volume
2024-01-01 00:00,104,105,104,105,1
2024-01-01 01:00,105,106,99,101,1
2024-01-01 02:00,101,111,89,95,1
2024-01-01 03:00,95,101,94,100,1
2024-01-01 04:00,100,100,100,100,1
"""


def candles_of(tmp_path: Path, text: str):
    path = tmp_path / "hand.csv"
    path.write_text(text)
    return read_csv(path, "1h")


def hour(ms: int) -> int:
    return datetime.fromtimestamp(ms / 1000, UTC).hour


@pytest.mark.parametrize("mode", ["fast", "bar"])
def test_hand_computed_dca(tmp_path, mode):
    """100 USDT first buy, one ladder level (10 % drop → buy 100 % more), take-profit 5 %."""
    config = validate_bot_config(
        "dca",
        {
            "quote_amount": 100,
            "levels": [{"drop_percent": 10, "buy_percent": 100}],
            "max_buys": 2,
            "cooldown_minutes": 0,
            "take_profit_percent": 5,
        },
    )
    fee = D("0.001")
    result = run(
        config, candles_of(tmp_path, DCA_CSV), BacktestSettings(D(1000), fee, "1h", mode=mode)
    )

    # 00:00 close: flat, so the first buy; it fills at 01:00's open, 100.
    q1 = (D(100) / (D(100) * D("1.001"))).quantize(Q, rounding=ROUND_DOWN)
    assert q1 == D("0.999000999000999000")
    # 02:00 closes at 89, at or below 90 % of the average entry 100: buy 100 % of the held
    # quantity, priced at that close (q1 × 89 USDT); it fills at 03:00's open, 88.
    q2 = (q1 * 89 / (D(88) * D("1.001"))).quantize(Q, rounding=ROUND_DOWN)
    average = (100 * q1 + 88 * q2) / (q1 + q2)
    assert round(average, 4) == D("93.9691")
    # Take-profit at average × 1.05 ≈ 98.67: 03:00 closes at 92 (below), 04:00 at 99 (above),
    # so everything is sold at 05:00's open, 99.5.
    assert D(92) < average * D("1.05") <= D(99)
    cost = (100 * q1 + 88 * q2) * (1 + fee)
    proceeds = (q1 + q2) * D("99.5") * (1 - fee)
    pnl = proceeds - cost
    assert round(pnl, 2) == D("10.72")  # 2.00834 × 99.5 × 0.999 − 188.9001

    (trade,) = result.trade_list
    assert (trade.entries, trade.exits, trade.exit_reason) == (2, 1, "TAKE_PROFIT")
    assert (hour(trade.entry_ms), hour(trade.exit_ms)) == (1, 5)
    assert trade.quantity == q1 + q2 and trade.exit_price == D("99.5")
    assert trade.entry_price == round(average, 18)  # the buys' quantity-weighted average
    assert trade.pnl == pnl.quantize(MONEY)
    assert trade.pnl_pct == (pnl / cost * 100).quantize(D("0.0001"))

    # 05:00 closes flat, so a new cycle buys 100 USDT at 06:00's open, 100: open at the end.
    cash = D(1000)
    for delta in (-q1 * 100 * D("1.001"), -q2 * 88 * D("1.001"), proceeds, -q1 * 100 * D("1.001")):
        cash = (cash + delta).quantize(Q)
    assert result.final_equity == (cash + q1 * 101).quantize(MONEY)
    assert round(result.final_equity, 2) == D("1011.62")
    assert result.open_trade.quantity == q1 and result.open_trade.entry_price == D(100)
    fees = (100 * q1 + 88 * q2) * fee + (q1 + q2) * D("99.5") * fee + 100 * q1 * fee
    assert result.fees_paid == fees.quantize(MONEY)


def test_dca_cooldown_holds_the_ladder_back(tmp_path):
    """With a 3 h cooldown the 02:00 close (2 h after the 01:00 buy) may not buy, and by the
    03:00 close (3 h) the price is back above the level: no second buy, no take-profit."""
    config = validate_bot_config(
        "dca",
        {
            "levels": [{"drop_percent": 10, "buy_percent": 100}],
            "cooldown_minutes": 180,
            "take_profit_percent": 5,
        },
    )
    result = run(config, candles_of(tmp_path, DCA_CSV), BacktestSettings(D(1000), D(0), "1h"))
    assert result.trades == 0
    assert result.open_trade.quantity == D(1) and result.open_trade.entry_price == D(100)


@pytest.mark.parametrize("mode", ["fast", "bar"])
def test_hand_computed_grid(tmp_path, mode):
    """Levels 90, 100, 110; 100 USDT per buy; no fee."""
    config = validate_bot_config(
        "grid", {"lower_price": 90, "upper_price": 110, "grid_count": 3, "quote_per_grid": 100}
    )
    result = run(
        config, candles_of(tmp_path, GRID_CSV), BacktestSettings(D(1000), D(0), "1h", mode=mode)
    )
    # 00:00 closes at 105: buys rest at 90 and 100.
    # 01:00 (low 99): the buy at 100 fills, 1 unit; a sell rests at 110 from the next candle.
    # 02:00 (high 111, low 89): the sell at 110 fills (+10); the buy at 90 fills, 100/90 units;
    #   re-armed: a buy at 100 and a sell of the 90-lot at 100.
    # 03:00 opens at 95: the sell at 100 fills at 100 (+11.11…); the buy at 100 fills at the
    #   open, 95 (it opened below the level), 1 unit, still held at the end.
    lot = (D(100) / 90).quantize(Q, rounding=ROUND_DOWN)
    first, second = result.trade_list
    assert (first.entry_price, first.exit_price, first.quantity, first.pnl) == (
        D(100),
        D(110),
        D(1),
        D(10),
    )
    assert (hour(first.entry_ms), hour(first.exit_ms)) == (1, 2)
    assert (second.entry_price, second.exit_price, second.quantity) == (D(90), D(100), lot)
    assert second.pnl == (lot * 10).quantize(MONEY) == D("11.11111111")
    assert {first.exit_reason, second.exit_reason} == {"GRID_SELL"}
    held = result.open_trade
    assert (held.entry_price, held.quantity, held.unrealized_pnl) == (D(95), D(1), D(5))
    cash = D(1000) - 100 + 110 - lot * 90 + lot * 100 - 95
    assert result.final_equity == (cash + 100).quantize(MONEY) == D("1026.11111111")
