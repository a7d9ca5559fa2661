"""Pydantic's messages in the user's words (one translation, :mod:`core.validation`), and
notification types in words wherever they are shown."""

from __future__ import annotations

import pytest

from core.db.models.notifications import NotificationType as T
from core.errors import InvalidInput
from core.notifications.words import type_choices, type_words
from core.strategies.registry import validate_bot_config, validate_risk_settings


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"quote_amount": "lots"}, "config.quote_amount", "Quote amount must be a number."),
        ({"quote_amount": "0"}, "config.quote_amount", "Quote amount must be more than 0."),
        ({"max_buys": "1.5"}, "config.max_buys", "Max buys must be a whole number."),
        ({"max_buys": 0}, "config.max_buys", "Max buys must be at least 1."),
        ({"symbol": "btc"}, "config.symbol", "Symbol: 'BTC' is not a trading pair like BTC/USDT."),
        ({"quote_amuont": 1}, "config.quote_amuont",
         "Quote amuont is an unknown setting (check the spelling)."),
        ({"levels": [{"drop_percent": "5", "buy_percent": "x"}]}, "config.levels.0.buy_percent",
         "Levels, row 1: buy percent must be a number."),
        ({"levels": [{"drop_percent": "5"}]}, "config.levels.0.buy_percent",
         "Levels, row 1: buy percent is required."),
    ],
)  # fmt: skip
def test_a_bad_setting_is_said_in_words_with_its_field_path(
    config: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_bot_config("dca", config)
    assert caught.value.field == field
    assert str(caught.value) == message
    assert "Input should" not in str(caught.value) and "config." not in str(caught.value)


def test_risk_settings_too() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_risk_settings({"stop_loss_percent": "0"})
    assert caught.value.field == "risk_settings.stop_loss_percent"
    assert str(caught.value) == "Stop loss percent must be more than 0."


def test_notification_types_in_words() -> None:
    assert type_words("BOT_STOPPED", "paused") == "Bot paused"
    assert type_words("BOT_STOPPED", "daily_loss_limit") == "Bot paused"
    assert type_words("BOT_STARTED", "resumed") == "Bot resumed"
    assert type_words("BOT_STOPPED", "stopped") == "Bot stopped"
    assert type_words("TWO_FA_ENABLED") == "Two-factor authentication enabled"
    assert type_words("STOP_LOSS_HIT") == "Stop loss hit"
    words = dict((value, w) for w, value in type_choices())
    assert words[T.TWO_FA_ENABLED] == "Two-factor authentication enabled"
    assert not any("fa " in w.lower() for w in words.values())
