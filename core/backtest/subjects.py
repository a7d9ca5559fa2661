"""What a backtest replays for each bot type, and for a strategy named on the command line.

``signal`` and ``ai`` bots are candle strategies (``build_strategy``); ``dca`` and ``grid`` bots
are replayed from their configs with the live rules (``core.backtest.dca``, ``.grid``). The
other types don't decide on one symbol's candles and are refused with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from core.backtest.runner import Subject
from core.errors import InvalidInput
from core.strategies import catalog
from core.strategies.config import ConfigModel, describe_validation_error
from core.strategies.dca import DcaBotConfig
from core.strategies.grid import GridBotConfig
from core.strategies.registry import build_strategy, technical_strategy
from core.strategies.signal import ExternalSignal

BACKTESTABLE_BOTS = ("signal", "ai", "dca", "grid")
BOT_RULES: dict[str, type[ConfigModel]] = {"dca": DcaBotConfig, "grid": GridBotConfig}
"""Bot types a backtest can run by name with ``--strategy`` (their config as parameters)."""

_REFUSED = {
    "arbitrage": "An arbitrage bot trades one symbol on two markets at once, and a backtest "
    "replays one market's candles",
    "pump_screener": "A pump_screener bot scans many symbols at once, and a backtest replays "
    "one symbol's candles",
}


def bot_subject(
    bot_type: str, config: ConfigModel, signals: Sequence[ExternalSignal] = ()
) -> Subject:
    """What to replay for a bot of ``bot_type`` with its validated ``config``."""
    if isinstance(config, DcaBotConfig | GridBotConfig):
        return config
    if bot_type in _REFUSED:
        raise InvalidInput(
            f"{_REFUSED[bot_type]}, so it can't be backtested; backtests run "
            f"{', '.join(BACKTESTABLE_BOTS)} bots.",
            field="type",
        )
    return build_strategy(bot_type, config, signals)


def named_subject(name: str, params: Mapping[str, Any]) -> Subject:
    """A strategy (built-in like ``sma_cross``, or installed) or a ``dca`` / ``grid`` bot by
    name, with its parameters (strings from the command line are fine; a JSON list or object given as
    text, like ``levels``, is parsed)."""
    model = BOT_RULES.get(name)
    if model is None:
        if name not in catalog.names():
            raise InvalidInput(
                f"Unknown strategy {name!r}: choose one of "
                f"{', '.join([*catalog.names(), *BOT_RULES])}.",
                field="strategy",
            )
        return technical_strategy(name, dict(params))
    try:
        rules = model.model_validate({key: _json_text(value) for key, value in params.items()})
        assert isinstance(rules, DcaBotConfig | GridBotConfig)
        return rules
    except ValidationError as exc:
        raise describe_validation_error(exc, name) from None


def _json_text(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value  # the model says what is wrong with it
    return value
