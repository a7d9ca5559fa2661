"""The deploy dialog's fields, built from the bot type's own settings.

Each top-level setting that is a single value (a number, a word, yes/no) becomes a field
prefilled with the template's or strategy's value and explained by the setting's own
description; lists and nested rules keep their values. What the user changed is what is sent
as the customisation, checked by the services before anything is created.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from core.strategies.registry import BOT_CONFIGS
from core.strategies.risk import RiskSettings
from tui.modals.form import Field

CONFIG_PREFIX, RISK_PREFIX = "cfg_", "risk_"
RISK_FIELDS = ("stop_loss_percent", "take_profit_percent", "max_position_size")
HIDDEN = {"source", "provider_id", "seed"}


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
    return fields + _fields(risk, list(RISK_FIELDS), RiskSettings, RISK_PREFIX)


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
