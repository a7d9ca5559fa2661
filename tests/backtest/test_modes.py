"""Bar by bar (as live) and the fast mode give the same trades, with and without exit rules."""

import itertools
from decimal import Decimal as D

import pytest

from core.backtest import BacktestSettings, run
from core.strategies import technical_strategy, validate_bot_config
from core.strategies.ai import AiStrategy
from core.strategies.registry import validate_risk_settings
from tests.strategies.helpers import random_walk

RISKS = {
    "none": {},
    "stop+target": {"stop_loss_percent": 2, "take_profit_percent": 4},
    "trailing": {
        "stop_loss_percent": 3,
        "trailing_stop": {"activation_percent": 1, "distance_percent": 1.5},
    },
    "zones": {
        "stop_loss_percent": 3,
        "stop_loss_mode": "zones",
        "zones": [{"gain_percent": 1, "keep_percent": 50}, {"gain_percent": 3, "keep_percent": 70}],
    },
    "levels+moon": {
        "stop_loss_mode": "custom",
        "trailing_levels": [
            {"gain_percent": 1, "stop_percent": -1},
            {"gain_percent": 2, "stop_percent": 0.5},
        ],
        "take_profit_levels": [
            {"gain_percent": 1.5, "sell_percent": 30},
            {"gain_percent": 3, "sell_percent": 30},
        ],
        "moon_bag_percent": 20,
    },
    "stale+limits": {
        "stale_trade": {"after_minutes": 600, "min_gain_percent": -1, "max_gain_percent": 1},
        "cooldown_after_loss_minutes": 300,
        "max_daily_loss": 50,
        "max_position_size": 5000,
    },
}


def both(strategy, candles, risk):
    out = []
    for mode in ("fast", "bar"):
        settings = BacktestSettings(D(10000), D("0.002"), "1h", validate_risk_settings(risk), mode)
        data = run(strategy, candles, settings).as_json()
        data.pop("execution_time_ms")
        data.pop("mode")
        out.append(data)
    return out


@pytest.mark.parametrize("risk", list(RISKS))
@pytest.mark.parametrize("name", ["sma_cross", "rsi_reversal", "bollinger_breakout"])
def test_same_trades_in_both_modes(name, risk):
    candles = random_walk(1500, seed=11)
    fast, bar = both(technical_strategy(name, {}), candles, RISKS[risk])
    assert fast == bar
    assert fast["trades"] > 0


def test_every_exit_reason_appears_and_agrees():
    candles = random_walk(1500, seed=11)
    reasons = set()
    for risk in RISKS.values():
        fast, _ = both(technical_strategy("sma_cross", {}), candles, risk)
        reasons |= {t["exit_reason"] for t in fast["trade_list"]}
    assert {"SIGNAL", "STOP_LOSS", "TRAILING_STOP", "TAKE_PROFIT", "STALE_TRADE"} <= reasons


@pytest.mark.parametrize("name", ["ema_cross", "macd_cross"])
def test_same_trades_for_ema_family(name):
    candles = random_walk(800, seed=3)
    fast, bar = both(technical_strategy(name, {}), candles, RISKS["trailing"])
    assert fast == bar


def test_same_trades_for_the_ai_bot():
    config = validate_bot_config("ai", {"train_window": 150, "min_train": 80, "refit_every": 48})
    candles = random_walk(600, seed=4)
    fast, bar = both(AiStrategy(config), candles, RISKS["stop+target"])
    assert fast == bar and fast["trades"] > 0


def test_progress_is_reported_to_the_end():
    seen = []
    candles = random_walk(1000)
    run(
        technical_strategy("sma_cross", {}),
        candles,
        BacktestSettings(D(1000), D(0), "1h"),
        lambda d, t: seen.append((d, t)),
    )
    assert seen[-1] == (1000, 1000)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cash": D(0)}, "starting cash"),
        ({"fee": D(1)}, "fee"),
        ({"fee": D("-0.1")}, "fee"),
        ({"timeframe": "9q"}, "timeframe"),
    ],
)
def test_bad_settings(kwargs, message):
    from core.errors import InvalidInput

    base = {"cash": D(1000), "fee": D("0.001"), "timeframe": "1h"}
    with pytest.raises(InvalidInput, match=message):
        BacktestSettings(**{**base, **kwargs})


def test_same_trades_for_a_provider_following_bot():
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from core.strategies.registry import build_strategy
    from core.strategies.signal import ExternalSignal
    from tests.strategies.helpers import T0_MS

    rng = np.random.default_rng(3)
    start = datetime.fromtimestamp(T0_MS / 1000, UTC)
    history = [
        ExternalSignal(
            "BTC/USDT",
            str(rng.choice(["BUY", "SELL"])),
            D(int(rng.integers(30, 100))),
            start + timedelta(minutes=int(rng.integers(0, 600 * 60))),
        )
        for _ in range(120)
    ]
    config = validate_bot_config(
        "signal",
        {
            "source": "provider",
            "provider_id": "p",
            "min_confidence": 40,
            "max_signal_age_seconds": 3600,
        },
    )
    fast, bar = both(
        build_strategy("signal", config, history), random_walk(600, seed=6), RISKS["trailing"]
    )
    assert fast == bar and fast["trades"] > 5
