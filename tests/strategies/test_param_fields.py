"""A declared parameter read from a field: its type and range in words, values typed as text
checked against them with a message naming the parameter; the deploy dialog sends a strategy's
parameters only when one changed."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from core.strategies.api import Param
from core.strategies.technical import BollingerBreakout, RsiReversal, SmaCross
from tui.screens.deploy_form import config_changes, setting_fields
from tui.widgets.strategy_params import help_line, read


def test_a_parameter_says_what_it_must_be() -> None:
    assert SmaCross.params["fast"].describe() == "a whole number from 2 to 1000"
    assert RsiReversal.params["oversold"].describe() == "a number more than 0 and less than 100"
    assert BollingerBreakout.params["stddev"].describe() == "a number more than 0 and at most 10"
    assert Param(str, "a", choices=("a", "b")).describe() == "one of a, b"
    assert Param(bool, True).describe() == "yes or no"
    assert help_line("fast", SmaCross.params["fast"]) == (
        "fast: Period of the fast moving average, in candles. A whole number from 2 to 1000; "
        "default 10."
    )


def test_typed_values_are_converted_and_checked() -> None:
    fast, oversold = SmaCross.params["fast"], RsiReversal.params["oversold"]
    assert fast.parse("fast", " 12 ") == 12
    assert oversold.parse("oversold", "25.5") == 25.5
    assert Param(bool, False).parse("flag", "yes") is True
    for text in ("1", "1001", "2.5", "ten", ""):
        with pytest.raises(ValueError, match=r"^fast must be a whole number from 2 to 1000; "):
            fast.parse("fast", text)
    with pytest.raises(ValueError, match="oversold must be a number more than 0 and less than 100"):
        oversold.parse("oversold", "nan")
    with pytest.raises(ValueError, match="one of a, b"):
        Param(str, "a", choices=("a", "b")).parse("mode", "c")


def test_reading_fields_names_the_bad_one() -> None:
    params = dict(SmaCross.params)
    assert read(params, {"fast": "5", "slow": ""}) == {"fast": 5}  # blank: the default
    with pytest.raises(InvalidInput) as caught:
        read(params, {"fast": "5", "slow": "1"})
    assert caught.value.field == "param-slow"
    assert str(caught.value) == "slow must be a whole number from 2 to 1000; 1 is not."


def test_the_deploy_dialog_sends_the_strategy_only_when_changed() -> None:
    config = {
        "symbol": "BTC/USDT",
        "timeframe": "1h",
        "indicator": {"name": "sma_cross", "fast": 10},
    }
    fields = {f.name: f for f in setting_fields("signal", config, {})}
    assert fields["param_fast"].value == "10" and fields["param_slow"].value == "20"
    values = {"param_fast": "10", "param_slow": "20"}
    assert config_changes(values, "signal", config) == {}
    changed = config_changes({**values, "param_slow": "30"}, "signal", config)
    assert changed == {"indicator": {"name": "sma_cross", "fast": 10, "slow": 30}}
    with pytest.raises(InvalidInput) as caught:
        config_changes({**values, "param_fast": "0"}, "signal", config)
    assert caught.value.field == "param_fast"
    # a bot type without a strategy gets no parameter fields
    grid = {"symbol": "ETH/USDT", "lower_price": "1", "upper_price": "2", "grid_count": 4}
    assert not [f for f in setting_fields("grid", grid, {}) if f.name.startswith("param_")]
