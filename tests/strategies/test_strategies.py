"""Config validation per bot type, built-in signals, the ai model, and the other bot types'
decision functions."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import numpy as np
import pytest

from core.errors import InvalidInput
from core.strategies import Action, build_strategy, technical_strategy, validate_bot_config
from core.strategies.ai import AiStrategy
from core.strategies.arbitrage import Quote, opportunity
from core.strategies.dca import DcaPosition, dca_order
from core.strategies.grid import grid_levels, initial_orders, rearm
from core.strategies.pump_screener import detect
from core.strategies.registry import BOT_CONFIGS
from core.strategies.signal import ExternalSignal, screen_signal
from tests.strategies.helpers import T0_MS, random_walk

SIGNALS = ["sma_cross", "ema_cross", "rsi_reversal", "macd_cross", "bollinger_breakout"]


def test_every_bot_type_has_defaults_and_help_text():
    for bot_type, model in BOT_CONFIGS.items():
        for name, info in model.model_fields.items():
            assert info.description, f"{bot_type}.{name} has no help text"
        if bot_type != "grid":  # a grid's price range depends on the pair: it must be given
            validate_bot_config(bot_type, {})
    grid = validate_bot_config("grid", {"lower_price": "90", "upper_price": "110", "grid_count": 5})
    assert grid_levels(grid) == [D(90), D(95), D(100), D(105), D(110)]


@pytest.mark.parametrize(
    ("bot_type", "config", "message"),
    [
        (
            "signal",
            {"indicator": {"name": "sma_cross", "fast": 30, "slow": 20}},
            "Indicator: fast (30) must be smaller than slow (20).",
        ),
        ("signal", {"indicator": {"name": "nope"}}, "Indicator: Unknown strategy 'nope'"),
        ("signal", {"source": "provider"}, "needs a provider_id"),
        ("signal", {"symbol": "btcusdt"}, "is not a trading pair like BTC/USDT"),
        ("signal", {"timeframe": "7x"}, "Unknown timeframe"),
        ("ai", {"min_train": 600, "train_window": 500}, "can't exceed train_window"),
        ("ai", {"buy_threshold": 0.4}, "Buy threshold must be more than 0.5."),
        (
            "dca",
            {
                "levels": [
                    {"drop_percent": 10, "buy_percent": 50},
                    {"drop_percent": 5, "buy_percent": 50},
                ]
            },
            "each level must drop further than the one before",
        ),
        ("grid", {"lower_price": 110, "upper_price": 100}, "must be below upper_price"),
        ("arbitrage", {"market_a": "x", "market_b": "x"}, "must differ"),
        ("pump_screener", {"enter": True}, "needs an entry_amount"),
        ("pump_screener", {"unknown": 1}, "Unknown is an unknown setting"),
        ("rocket", {}, "Unknown bot type 'rocket'"),
    ],
)
def test_bad_configs_are_clear_errors(bot_type, config, message):
    with pytest.raises(InvalidInput) as err:
        validate_bot_config(bot_type, config)
    assert message in str(err.value)


def test_signal_config_message_names_the_field():
    with pytest.raises(InvalidInput) as err:
        technical_strategy("sma_cross", {"fast": "30", "slow": "20"})
    assert str(err.value) == "Fast (30) must be smaller than slow (20)."
    assert err.value.field == "sma_cross"
    with pytest.raises(InvalidInput, match="Unknown strategy 'foo'"):
        technical_strategy("foo", {})


@pytest.mark.parametrize("name", SIGNALS)
def test_live_decisions_equal_the_vectorized_series(name):
    candles = random_walk(700, seed=5)
    strategy = technical_strategy(name, {})
    series = strategy.series(candles)
    fired = np.flatnonzero(series.action)
    assert len(fired) > 3, "the test data must make the rule fire"
    for i in [*fired[:5].tolist(), 300, 699]:
        assert strategy.decide(candles[: i + 1]) == series.decision(i)
    decision = series.decision(int(fired[0]))
    assert decision.signal in (Action.BUY, Action.SELL)
    assert D(50) <= decision.confidence <= D(100)
    assert "crossed" in decision.reason or "RSI" in decision.reason or "band" in decision.reason
    assert all(v is None or isinstance(v, float) for v in decision.indicators.values())


def test_sma_cross_fires_exactly_on_the_cross():
    closes = np.array([10, 10, 10, 12, 13, 10, 9.5, 9, 12.0])
    n = len(closes)
    from core.strategies.candles import Candles

    c = Candles.from_arrays(np.arange(n) * 3_600_000, closes, closes, closes, closes, np.ones(n))
    series = technical_strategy("sma_cross", {"fast": 2, "slow": 3}).series(c)
    assert series.action.tolist() == [0, 0, 0, 1, 0, -1, 0, 0, 1]


def test_min_confidence_filters_signals_with_a_reason():
    candles = random_walk(500, seed=5)
    loose = technical_strategy("sma_cross", {}).series(candles)
    strict = technical_strategy("sma_cross", {}, min_confidence=99).series(candles)
    assert np.count_nonzero(strict.action) < np.count_nonzero(loose.action)
    i = int(np.flatnonzero(loose.action != strict.action)[0])
    assert "below the minimum 99" in strict.decision(i).reason


@pytest.mark.parametrize("model", ["logistic", "gradient_boosting"])
def test_ai_is_walk_forward_deterministic_and_live_equals_backtest(model):
    config = validate_bot_config(
        "ai",
        {"model": model, "train_window": 200, "min_train": 100, "refit_every": 48, "rounds": 15},
    )
    candles = random_walk(700, seed=9)
    a = AiStrategy(config).series(candles)
    b = AiStrategy(config).series(candles)
    assert np.array_equal(a.action, b.action) and np.allclose(
        a.confidence, b.confidence, equal_nan=True
    )
    assert np.count_nonzero(a.action) > 0
    live = AiStrategy(config)
    for i in (260, 333, 480, 699):
        assert live.decide(candles[: i + 1]) == a.decision(i)
    # a live window that starts later (just the lookback) decides the same
    for i in (640, 699):
        window = candles[i + 1 - live.lookback : i + 1]
        short = AiStrategy(config).decide(window)
        assert short.signal == a.decision(i).signal
        assert abs(short.indicators["p_up"] - a.decision(i).indicators["p_up"]) < 1e-7
    reason = a.decision(int(np.flatnonzero(a.action)[0])).reason
    assert "trained on" in reason and "rises over the next 4 candles" in reason
    assert set(a.decision(600).indicators) >= {"rsi", "macd_hist", "percent_b", "volume_z", "p_up"}


def test_ai_never_trains_on_the_candles_it_decides_on():
    config = validate_bot_config("ai", {"train_window": 200, "min_train": 100, "refit_every": 24})
    candles = random_walk(500, seed=2)
    strategy = AiStrategy(config)
    features = np.zeros((len(candles), 6))
    slot_ms = strategy.slot_ms
    for start in range(24, 500, 24):
        rows = strategy._training_rows(features, candles.close, start)
        slot_start_ms = candles.ts[start] // slot_ms * slot_ms
        last_label = rows[-1] + config.horizon
        assert candles.ts[last_label] < slot_start_ms
    # a different seed changes a boosted model, the same seed never does
    boosted = validate_bot_config(
        "ai", {"model": "gradient_boosting", "train_window": 200, "min_train": 100, "rounds": 10}
    )
    other = boosted.model_copy(update={"seed": 7})
    p1 = AiStrategy(boosted).series(candles).indicators["p_up"]
    p2 = AiStrategy(other).series(candles).indicators["p_up"]
    assert not np.allclose(p1, p2, equal_nan=True)


def test_ai_holds_with_a_reason_before_it_has_history():
    config = validate_bot_config("ai", {})
    decision = AiStrategy(config).decide(random_walk(100))
    assert decision.signal is Action.HOLD
    assert "Not enough history" in decision.reason or "warming up" in decision.reason


def test_only_candle_bots_can_be_built_into_strategies():
    with pytest.raises(InvalidInput, match="can't be backtested"):
        build_strategy("dca", validate_bot_config("dca", {}))


def test_provider_signals_act_at_the_close_of_their_candle():
    config = validate_bot_config(
        "signal",
        {
            "source": "provider",
            "provider_id": "p1",
            "min_confidence": 50,
            "max_signal_age_seconds": 3600,
        },
    )
    candles = random_walk(10)
    start = datetime.fromtimestamp(T0_MS / 1000, UTC)

    def at(hours: int, minutes: int) -> datetime:
        return start + timedelta(hours=hours, minutes=minutes)

    history = [
        ExternalSignal("BTC/USDT", "BUY", D(80), at(2, 10), "breakout"),
        ExternalSignal("BTC/USDT", "SELL", D(20), at(4, 5)),  # too weak: skipped with a reason
        ExternalSignal("BTC/USDT", "SELL", D(90), at(6, 59)),
    ]
    strategy = build_strategy("signal", config, history)
    series = strategy.series(candles)
    assert series.action.tolist() == [0, 0, 1, 0, 0, 0, -1, 0, 0, 0]
    assert series.decision(2).reason == "Provider signal BUY: breakout"
    assert "below the minimum 50" in series.decision(4).reason
    for i in range(10):
        assert strategy.decide(candles[: i + 1]) == series.decision(i)
    live = build_strategy("signal", config)
    assert live.decide(candles[:3], [history[0]]).signal is Action.BUY
    assert live.decide(candles[:3]).signal is Action.HOLD


def test_external_signals_are_screened_with_reasons():
    config = validate_bot_config(
        "signal",
        {
            "source": "provider",
            "provider_id": "p",
            "min_confidence": 60,
            "allowed_symbols": ["ETH/USDT"],
            "allowed_actions": ["BUY"],
        },
    )
    now = datetime(2024, 1, 1, tzinfo=UTC)
    good = ExternalSignal("eth/usdt", "buy", D("75.5"), now)
    decision = screen_signal(config, good, now)
    assert decision.signal is Action.BUY and decision.confidence == D("75.50")
    assert "below the minimum" in screen_signal(
        config, ExternalSignal("ETH/USDT", "BUY", D(59), now), now
    )
    assert "allowed symbols" in screen_signal(
        config, ExternalSignal("BTC/USDT", "BUY", D(90), now), now
    )
    assert "allowed actions" in screen_signal(
        config, ExternalSignal("ETH/USDT", "SELL", D(90), now), now
    )
    stale = ExternalSignal("ETH/USDT", "BUY", D(90), now - timedelta(seconds=301))
    assert "older than" in screen_signal(config, stale, now)


def test_dca_ladder_schedule_cooldown_and_take_profit():
    config = validate_bot_config(
        "dca", {"interval_minutes": 120, "cooldown_minutes": 30, "max_buys": 2}
    )
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert dca_order(config, None, D(100), now).quote_amount == D(100)
    pos = DcaPosition(D(100), D(1), 0, now)
    assert dca_order(config, pos, D("95.01"), now + timedelta(minutes=31)) is None
    ladder = dca_order(config, pos, D(95), now + timedelta(minutes=30))
    assert ladder.side == "BUY" and ladder.level == 0 and ladder.quote_amount == D("47.5")
    assert dca_order(config, pos, D(95), now + timedelta(minutes=29)) is None  # cooldown
    scheduled = dca_order(config, pos, D(99), now + timedelta(minutes=120))
    assert scheduled.quote_amount == D(100) and "scheduled" in scheduled.reason
    tp = dca_order(config, pos, D(103), now)
    assert tp.side == "SELL" and tp.quantity == D(1)
    assert (
        dca_order(config, DcaPosition(D(100), D(1), 2, now), D(90), now + timedelta(days=1)) is None
    )


def test_grid_rearms_a_step_away():
    config = validate_bot_config(
        "grid", {"lower_price": 90, "upper_price": 110, "grid_count": 5, "quote_per_grid": 100}
    )
    orders = initial_orders(config, D(101))
    assert [o.price for o in orders] == [D(90), D(95), D(100)]
    sell = rearm(config, orders[2])
    assert (sell.side, sell.price, sell.quantity) == ("SELL", D(105), D(1))
    buy = rearm(config, sell)
    assert (buy.side, buy.price) == ("BUY", D(100))
    geometric = validate_bot_config(
        "grid", {"lower_price": 100, "upper_price": 400, "grid_count": 3, "spacing": "geometric"}
    )
    assert [round(x, 10) for x in grid_levels(geometric)] == [D(100), D(200), D(400)]


def test_arbitrage_needs_the_spread_to_beat_fees_and_threshold():
    config = validate_bot_config("arbitrage", {"threshold_percent": "0.1", "trade_amount": 1000})
    a = Quote("a", D(100), D("100.01"), D("0.001"))
    b_small = Quote("b", D("100.25"), D("100.3"), D("0.001"))
    assert opportunity(config, a, b_small) is None  # 0.24% spread minus 0.2% fees < 0.1%
    b = Quote("b", D("100.5"), D("100.6"), D("0.001"))
    found = opportunity(config, a, b)
    assert (found.buy_market, found.sell_market) == ("a", "b")
    assert found.net_spread_percent > D("0.1") and found.expected_profit > 0


def test_pump_screener_detects_with_confidence_levels():
    from core.strategies.candles import Candles

    config = validate_bot_config(
        "pump_screener", {"window": 3, "price_change_percent": 5, "volume_change_percent": 100}
    )
    close = np.array([100, 100, 100, 100, 100, 100, 100, 110.0])
    volume = np.array([1, 1, 1, 1, 1, 1, 3, 3.0])
    c = Candles.from_arrays(T0_MS + np.arange(8) * 3_600_000, close, close, close, close, volume)
    found = detect(config, "PEPE/USDT", c)
    assert found.price_change == D("10.0000") and found.volume_change == D("133.3333")
    assert found.confidence == "medium"
    assert detect(config, "PEPE/USDT", c[:-1]) is None
