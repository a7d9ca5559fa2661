"""Every exit rule at its boundary, through the pure functions the engine and backtester share."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.strategies.registry import validate_risk_settings
from core.strategies.risk import (
    Bar,
    ExitReason,
    entry_block,
    entry_budget,
    evaluate,
    open_state,
    quiet_band,
    take_profit_price,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def rules(**kw):
    return validate_risk_settings(kw)


def bar(o, h, low, c, minutes=60):
    return Bar(T0 + timedelta(minutes=minutes), D(str(o)), D(str(h)), D(str(low)), D(str(c)))


def start(r, entry="100", qty="10"):
    return open_state(r, D(entry), D(qty), T0)


def test_stop_loss_boundary_and_gap():
    r = rules(stop_loss_percent=5)
    s = start(r)
    assert s.stop_price == D(95)
    assert evaluate(r, s, bar(100, 101, "95.01", 96)).fills == ()
    hit = evaluate(r, s, bar(100, 101, 95, 96))
    assert [(f.price, f.reason, f.closes) for f in hit.fills] == [
        (D(95), ExitReason.STOP_LOSS, True)
    ]
    assert hit.fills[0].quantity == D(10)
    gap = evaluate(r, s, bar(94, 96, 93, 95))
    assert gap.fills[0].price == D(94)  # the open gapped through the stop: filled at the open


def test_take_profit_boundary_and_gap():
    r = rules(take_profit_percent=10)
    s = start(r)
    assert take_profit_price(r, s) == D(110)
    assert evaluate(r, s, bar(100, "109.99", 99, 105)).fills == ()
    hit = evaluate(r, s, bar(100, 110, 99, 105))
    assert [(f.price, f.reason) for f in hit.fills] == [(D(110), ExitReason.TAKE_PROFIT)]
    assert evaluate(r, s, bar(111, 112, 108, 109)).fills[0].price == D(111)


def test_stop_counts_first_when_a_bar_hits_both():
    r = rules(stop_loss_percent=5, take_profit_percent=10)
    out = evaluate(r, start(r), bar(100, 111, 94, 100))
    assert [(f.price, f.reason) for f in out.fills] == [(D(95), ExitReason.STOP_LOSS)]


def test_trailing_stop_activation_and_distance():
    r = rules(trailing_stop={"activation_percent": 5, "distance_percent": 2})
    s = start(r)
    below = evaluate(r, s, bar(100, "104.99", 100, 104)).state
    assert below.stop_price is None  # not yet active
    active = evaluate(r, s, bar(100, 105, 100, 104)).state
    assert active.stop_price == D("102.90")
    assert evaluate(r, active, bar(104, 104, "102.91", 103)).fills == ()
    out = evaluate(r, active, bar(104, 104, "102.9", 103))
    assert [(f.price, f.reason) for f in out.fills] == [(D("102.90"), ExitReason.TRAILING_STOP)]


def test_a_stop_raised_by_a_bars_high_applies_from_the_next_bar():
    r = rules(trailing_stop={"activation_percent": 5, "distance_percent": 2})
    out = evaluate(r, start(r), bar(100, 110, 107, 108))
    assert out.fills == ()
    assert out.state.stop_price == D("107.80")
    assert evaluate(r, out.state, bar(108, 108, "107.8", 108)).fills[0].price == D("107.80")


def test_zones_lock_a_share_of_the_peak_gain():
    r = rules(stop_loss_percent=10, stop_loss_mode="zones")  # default zones: 10% → keep 50%
    s = start(r)
    assert evaluate(r, s, bar(100, "109.99", 100, 105)).state.stop_price == D(90)
    at_zone = evaluate(r, s, bar(100, 110, 100, 105)).state
    assert at_zone.stop_price == D(105)
    assert at_zone.stop_percent() == D(5)
    out = evaluate(r, at_zone, bar(106, 106, 105, 105))
    assert [(f.price, f.reason) for f in out.fills] == [(D(105), ExitReason.TRAILING_STOP)]


def test_custom_levels_only_ratchet_up():
    r = rules(
        stop_loss_percent=5,
        stop_loss_mode="custom",
        trailing_levels=[
            {"gain_percent": 10, "stop_percent": 2},
            {"gain_percent": 20, "stop_percent": 10},
        ],
    )
    s = start(r)
    s = evaluate(r, s, bar(100, "109.99", 100, 105)).state
    assert s.stop_price == D(95)
    s = evaluate(r, s, bar(105, 110, 104, 108)).state
    assert s.stop_price == D(102)
    s = evaluate(r, s, bar(108, 120, 111, 115)).state
    assert s.stop_price == D(110)
    # the price falls back: the stop stays where it was
    s2 = evaluate(r, s, bar(115, 115, "110.01", 111)).state
    assert s2.stop_price == D(110)
    assert evaluate(r, s2, bar(111, 111, 110, 110)).fills[0].reason is ExitReason.TRAILING_STOP


def test_take_profit_levels_sell_parts_and_keep_the_moon_bag():
    r = rules(
        take_profit_levels=[
            {"gain_percent": 5, "sell_percent": 50},
            {"gain_percent": 10, "sell_percent": 30},
        ],
        moon_bag_percent=20,
    )
    s = start(r)
    assert evaluate(r, s, bar(100, "104.99", 100, 104)).fills == ()
    first = evaluate(r, s, bar(100, 105, 100, 104))
    assert [(f.quantity, f.price, f.closes) for f in first.fills] == [(D(5), D(105), False)]
    assert first.state.remaining == D(5) and first.state.take_profit_levels_hit == 1
    second = evaluate(r, first.state, bar(104, 110, 104, 109))
    assert [(f.quantity, f.price) for f in second.fills] == [(D(3), D(110))]
    assert second.state.remaining == D(2) and second.state.moon_bag_activated
    assert take_profit_price(r, second.state) is None
    # both levels at once on a gap: both fill at the open
    both = evaluate(r, s, bar(111, 112, 111, 111))
    assert [(f.quantity, f.price) for f in both.fills] == [(D(5), D(111)), (D(3), D(111))]


def test_levels_summing_to_100_close_the_position():
    r = rules(
        take_profit_levels=[
            {"gain_percent": 5, "sell_percent": 40},
            {"gain_percent": 8, "sell_percent": 60},
        ]
    )
    out = evaluate(r, start(r, qty="3"), bar(100, 108, 100, 108))
    assert sum(f.quantity for f in out.fills) == D(3)
    assert out.closed


def test_stale_trade_boundaries():
    r = rules(stale_trade={"after_minutes": 60, "min_gain_percent": -1, "max_gain_percent": 1})
    s = start(r)
    assert evaluate(r, s, bar("100.5", 101, 100, 100, minutes=59)).fills == ()
    out = evaluate(r, s, bar(101, 102, 100, 100, minutes=60))
    assert [(f.price, f.reason) for f in out.fills] == [(D(101), ExitReason.STALE_TRADE)]
    assert evaluate(r, s, bar("101.01", 102, 101, 101, minutes=60)).fills == ()
    assert evaluate(r, s, bar(99, 100, 99, 99, minutes=120)).fills[0].price == D(99)
    assert evaluate(r, s, bar("98.99", 100, 98, 99, minutes=120)).fills == ()


def test_entry_checks_at_their_limits():
    r = rules(max_open_positions=2, max_daily_loss=100, cooldown_after_loss_minutes=30)
    ok = dict(
        open_positions=1,
        realized_today=D("-99.99"),
        last_loss_at=T0,
        now=T0 + timedelta(minutes=30),
    )
    assert entry_block(r, **ok) is None
    assert "maximum is 2" in entry_block(r, **{**ok, "open_positions": 2})
    assert "daily limit" in entry_block(r, **{**ok, "realized_today": D(-100)})
    assert "cooling down" in entry_block(r, **{**ok, "now": T0 + timedelta(minutes=29)})
    assert entry_budget(rules(max_position_size=500), D(1000)) == D(500)
    assert entry_budget(rules(max_position_size=500), D(300)) == D(300)
    assert entry_budget(rules(), D(300)) == D(300)


PRICE = st.decimals(min_value=D(50), max_value=D(200), places=2)
ALL_RULES = rules(
    stop_loss_percent=5,
    stop_loss_mode="zones",
    take_profit_levels=[
        {"gain_percent": 8, "sell_percent": 50},
        {"gain_percent": 15, "sell_percent": 30},
    ],
    moon_bag_percent=10,
    trailing_stop={"activation_percent": 3, "distance_percent": 2},
    stale_trade={"after_minutes": 600, "min_gain_percent": -1, "max_gain_percent": 1},
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(PRICE, PRICE, PRICE, PRICE), min_size=1, max_size=25))
def test_bars_inside_the_quiet_band_change_nothing(path):
    """What lets the backtester's fast mode skip candles without changing any trade."""
    r = ALL_RULES
    s = start(r)
    for k, prices in enumerate(path):
        o, c = prices[0], prices[3]
        high, low = max(prices), min(prices)
        b = Bar(T0 + timedelta(minutes=k), o, high, low, c)
        band = quiet_band(r, s)
        out = evaluate(r, s, b)
        inside = (band.lower is None or low > band.lower) and high < band.upper
        inside = inside and (band.deadline is None or b.time < band.deadline)
        if inside:
            assert out.fills == () and out.state == s
        if out.closed:
            return
        s = out.state


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        (
            {"stop_loss_percent": 0},
            "Stop loss percent must be more than 0.",
        ),
        (
            {
                "take_profit_percent": 5,
                "take_profit_levels": [{"gain_percent": 3, "sell_percent": 50}],
            },
            "not both",
        ),
        ({"moon_bag_percent": 10}, "moon_bag_percent needs take_profit_levels"),
        (
            {
                "take_profit_levels": [{"gain_percent": 3, "sell_percent": 80}],
                "moon_bag_percent": 30,
            },
            "more than 100%",
        ),
        (
            {
                "take_profit_levels": [
                    {"gain_percent": 5, "sell_percent": 10},
                    {"gain_percent": 3, "sell_percent": 10},
                ]
            },
            "strictly increasing gain_percent",
        ),
        ({"stop_loss_mode": "custom"}, "needs at least one trailing level"),
        (
            {
                "stop_loss_mode": "custom",
                "trailing_levels": [{"gain_percent": 5, "stop_percent": 5}],
            },
            "must be below its gain_percent",
        ),
        (
            {"trailing_levels": [{"gain_percent": 5, "stop_percent": 1}]},
            "only apply with stop_loss_mode 'custom'",
        ),
        (
            {"stale_trade": {"after_minutes": 10, "min_gain_percent": 2, "max_gain_percent": 1}},
            "must not exceed",
        ),
        ({"stop_los_percent": 5}, "Stop los percent is an unknown setting"),
        (
            {"trailing_stop": {"distance_percent": 100}},
            "Distance percent must be less than 100.",
        ),
    ],
)
def test_bad_risk_settings_are_clear_errors(settings_, message):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        validate_risk_settings(settings_)
    assert message in str(err.value)
