"""Bot types and their config models; validation of stored JSON; strategies by name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from core.errors import InvalidInput
from core.strategies import catalog
from core.strategies.ai import AiBotConfig, AiStrategy
from core.strategies.arbitrage import ArbitrageBotConfig
from core.strategies.base import Strategy
from core.strategies.config import ConfigModel, describe_validation_error
from core.strategies.dca import DcaBotConfig
from core.strategies.grid import GridBotConfig
from core.strategies.pump_screener import PumpScreenerConfig
from core.strategies.risk import RiskSettings
from core.strategies.signal import ExternalSignal, SignalBotConfig
from core.strategies.technical import TechnicalStrategy

BOT_CONFIGS: dict[str, type[ConfigModel]] = {
    "dca": DcaBotConfig,
    "signal": SignalBotConfig,
    "ai": AiBotConfig,
    "grid": GridBotConfig,
    "arbitrage": ArbitrageBotConfig,
    "pump_screener": PumpScreenerConfig,
}
BACKTESTABLE = ("signal", "ai")
"""Bot types whose decisions come from one symbol's candles, so a dataset can replay them."""


def validate_bot_config(bot_type: str, data: dict[str, Any] | None) -> ConfigModel:
    model = BOT_CONFIGS.get(bot_type)
    if model is None:
        raise InvalidInput(
            f"Unknown bot type {bot_type!r}: choose one of {', '.join(BOT_CONFIGS)}.", field="type"
        )
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("config must be an object of settings.", field="config")
    try:
        return model.model_validate(data or {})
    except ValidationError as exc:
        raise describe_validation_error(exc, "config") from None


def validate_risk_settings(data: dict[str, Any] | None) -> RiskSettings:
    if data is not None and not isinstance(data, dict):
        raise InvalidInput("risk_settings must be an object of settings.", field="risk_settings")
    try:
        return RiskSettings.model_validate(data or {})
    except ValidationError as exc:
        raise describe_validation_error(exc, "risk_settings") from None


def technical_strategy(
    name: str, params: Mapping[str, Any], min_confidence: float = 0
) -> TechnicalStrategy:
    """A strategy (built-in or installed) by name with its parameters, e.g.
    ``("sma_cross", {"fast": "10"})``, as the engine and the backtester run it."""
    return TechnicalStrategy(catalog.build(name, params), min_confidence)


get = catalog.get
"""The strategy class called ``name`` (built-in or installed)."""
list_strategies = catalog.list_strategies


def build_strategy(
    bot_type: str, config: ConfigModel, signals: Sequence[ExternalSignal] = ()
) -> Strategy:
    """The candle strategy of a signal or ai bot (what the engine and the backtester run).
    ``signals`` is a provider-following bot's signal history (for a backtest)."""
    if isinstance(config, SignalBotConfig):
        return config.strategy(signals)
    if isinstance(config, AiBotConfig):
        return AiStrategy(config)
    raise InvalidInput(
        f"A {bot_type} bot does not decide on one symbol's candles, so it can't be backtested; "
        f"backtests run {' and '.join(BACKTESTABLE)} bots.",
        field="type",
    )
