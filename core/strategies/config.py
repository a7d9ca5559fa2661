"""The base of every bot config model, and pydantic errors turned into one clear message."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from core.errors import InvalidInput
from core.strategies.candles import timeframe_seconds
from core.validation import describe


class ConfigModel(BaseModel):
    """Unknown keys are an error (a typo must not be silently ignored); values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


_SYMBOL = re.compile(r"^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}$")


def normalize_symbol(value: str) -> str:
    value = value.upper()
    if not _SYMBOL.match(value):
        raise ValueError(f"{value!r} is not a trading pair like BTC/USDT")
    return value


def _timeframe(value: str) -> str:
    try:
        timeframe_seconds(value)
    except InvalidInput as exc:
        raise ValueError(str(exc)) from None
    return value


Symbol = Annotated[str, AfterValidator(normalize_symbol)]
Timeframe = Annotated[str, AfterValidator(_timeframe)]
Percent = Annotated[Decimal, Field(gt=0, le=100, max_digits=12, decimal_places=6)]
"""A percentage above 0 and at most 100."""
QuoteAmount = Annotated[Decimal, Field(gt=0, max_digits=40, decimal_places=18)]


def symbol_field(description: str = "The pair to trade, like BTC/USDT.") -> Any:
    return Field(default="BTC/USDT", description=description)


def timeframe_field() -> Any:
    return Field(
        default="1h", description="Candle timeframe the bot decides on (1m, 15m, 1h, 4h, 1d)."
    )


def describe_validation_error(exc: ValidationError, prefix: str) -> InvalidInput:
    """Every bad field in the user's words (``Slow must be at least 2.``); ``field`` is the
    first one's path (``config.slow``). The one translation is :func:`core.validation.describe`."""
    return describe(exc, prefix)
