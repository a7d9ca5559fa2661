"""Strategies: one module per bot type, the risk/exit rules, indicators and the registry."""

from core.strategies.base import Action, Decision, SignalSeries, Strategy
from core.strategies.candles import Candles
from core.strategies.registry import (
    BOT_CONFIGS,
    build_strategy,
    technical_strategy,
    validate_bot_config,
    validate_risk_settings,
)

__all__ = [
    "BOT_CONFIGS",
    "Action",
    "Candles",
    "Decision",
    "SignalSeries",
    "Strategy",
    "build_strategy",
    "technical_strategy",
    "validate_bot_config",
    "validate_risk_settings",
]
