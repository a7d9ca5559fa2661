"""The deploy dialog's fields, built from the bot type's own settings.

Each top-level setting that is a single value (a number, a word, yes/no) becomes a field
prefilled with the template's or strategy's value and explained by the setting's own
description; lists and nested rules keep their values. A signal bot's strategy gets one field
per parameter it declares (``tui.widgets.strategy_params``), checked against its range. What the
user changed is what is sent as the customisation, checked by the services before anything is
created.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from core.errors import InvalidInput
from core.strategies.registry import BOT_CONFIGS
from core.strategies.risk import RiskSettings
from tui.modals.form import Field
from tui.widgets.strategy_params import declared, form_fields, read_form

CONFIG_PREFIX, RISK_PREFIX = "cfg_", "risk_"
RISK_FIELDS = ("stop_loss_percent", "take_profit_percent", "max_position_size")
HIDDEN = {"source", "provider_id", "seed"}
STRATEGY_KEY = "indicator"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _help(model: type[BaseModel], key: str) -> str:
    info = model.model_fields.get(key)
    return (info.description or "") if info is not None else ""


def _fields(
    values: dict[str, Any], keys: list[str], model: type[BaseModel], prefix: str
) -> list[Field]:
    out = []
    for key in keys:
        value = values.get(key)
        label = key.replace("_", " ").capitalize()
        if isinstance(value, bool):
            out.append(Field(prefix + key, label, "check", value, help=_help(model, key)))
        else:
            out.append(Field(prefix + key, label, value=_text(value), help=_help(model, key)))
    return out


def setting_fields(bot_type: str, config: dict[str, Any], risk: dict[str, Any]) -> list[Field]:
    model = BOT_CONFIGS.get(bot_type)
    keys = [
        k for k, v in config.items()
        if k not in HIDDEN and (v is None or isinstance(v, str | int | float | bool))
    ]  # fmt: skip
    fields = _fields(config, keys, model, CONFIG_PREFIX) if model else []
    strategy = _strategy(bot_type, config)
    if strategy is not None:
        fields += form_fields(*strategy)
    return fields + _fields(risk, list(RISK_FIELDS), RiskSettings, RISK_PREFIX)


def _strategy(bot_type: str, config: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(name, stored parameters) of a signal bot's strategy, if it has one installed here."""
    chosen = config.get(STRATEGY_KEY)
    if bot_type != "signal" or config.get("source", "technical") != "technical":
        return None
    if not isinstance(chosen, dict) or not isinstance(chosen.get("name"), str):
        return None
    stored = {k: v for k, v in chosen.items() if k != "name"}
    try:
        declared(chosen["name"])
    except InvalidInput:
        return None  # not installed on this machine: the services say so on deploying
    return chosen["name"], stored


def config_changes(values: dict[str, Any], bot_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """``changes`` of the config, and the strategy's parameters if any field of them changed
    (InvalidInput naming the parameter and its range if one is out of it)."""
    out = changes(values, config, CONFIG_PREFIX)
    strategy = _strategy(bot_type, config)
    if strategy is not None:
        name, stored = strategy
        base = {k: p.default for k, p in declared(name).items()} | stored
        typed = read_form(name, values)
        if base | typed != base:
            out[STRATEGY_KEY] = {"name": name, **stored, **typed}
    return out


def changes(values: dict[str, Any], base: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The settings whose field differs from the base value (blank: no value)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if not name.startswith(prefix):
            continue
        key = name.removeprefix(prefix)
        before = base.get(key)
        if isinstance(value, bool):
            if value != before:
                out[key] = value
            continue
        text = str(value).strip()
        if text != _text(before):
            out[key] = text or None
    return out
